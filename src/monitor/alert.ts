// What the monitor raises when a log lies: a MonitorAlert names the failed
// check with a MONITOR_* code and carries the evidence (the checkpoints
// involved, the failing proof, the tile or bundle bytes) that evidence.ts
// saves under <state>/evidence/ and webhook.ts posts.

import { TilelogError, type ErrorCode } from '../errors.js';

/** The codes that are alerts about the log (fetch and state failures are not). */
export type AlertCode = Extract<
  ErrorCode,
  | 'MONITOR_SPLIT_VIEW'
  | 'MONITOR_ROLLBACK'
  | 'MONITOR_BAD_SIGNATURE'
  | 'MONITOR_QUORUM'
  | 'MONITOR_TILE_MISMATCH'
  | 'MONITOR_BUNDLE_MISMATCH'
  | 'MONITOR_INCONSISTENT'
  | 'MONITOR_REGISTRY_SIGNER'
  | 'MONITOR_REGISTRY_KEY'
>;

export const ALERT_CODES: readonly AlertCode[] = [
  'MONITOR_SPLIT_VIEW',
  'MONITOR_ROLLBACK',
  'MONITOR_BAD_SIGNATURE',
  'MONITOR_QUORUM',
  'MONITOR_TILE_MISMATCH',
  'MONITOR_BUNDLE_MISMATCH',
  'MONITOR_INCONSISTENT',
];

/** One file of evidence: a name safe for a file system and its bytes. */
export interface EvidenceFile {
  name: string;
  data: Uint8Array | string;
}

export interface AlertEvidence {
  /** Signed notes by role: `trusted` (ours before), `received` (the new one), `compare:<source>`. */
  checkpoints?: Record<string, string>;
  /** A failing consistency proof, leaf to root. */
  proof?: readonly Uint8Array[];
  /** Raw tiles, bundles and anything else worth keeping. */
  files?: readonly EvidenceFile[];
  /** Small facts (indexes, expected and actual hashes) for alert.json. */
  details?: Record<string, unknown>;
}

export class MonitorAlert extends TilelogError {
  declare readonly code: AlertCode;
  readonly evidence: AlertEvidence;
  constructor(code: AlertCode, message: string, evidence: AlertEvidence = {}, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'MonitorAlert';
    this.evidence = evidence;
  }
}

/** The JSON body of the webhook POST and of evidence/<...>/alert.json. */
export interface AlertReport {
  code: AlertCode;
  message: string;
  origin: string;
  /** The log's URL as monitored. */
  url: string;
  /** ISO 8601 time the alert was raised. */
  time: string;
  checkpoints: Record<string, string>;
  /** Absolute path of the evidence directory, or null if it could not be written. */
  evidencePath: string | null;
  details: Record<string, unknown>;
}

/** A file name for a tile path or URL: `tile/0/x001/002.p/5` -> `tile_0_x001_002.p_5`. */
export function fileNameFor(p: string): string {
  return p.replace(/^[a-z]+:\/\/[^/]*\//, '').replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 120) || 'file';
}
