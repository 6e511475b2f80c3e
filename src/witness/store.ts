// WitnessStore: everything a witness must remember, behind one narrow
// interface. It is the witness's trusted state: losing or rolling back
// `latest` would let it cosign a fork, so implementations must make
// `advance` an atomic, durable compare-and-swap (the SQLite one commits with
// synchronous=FULL before returning).
//
//   configuration   origin -> one or more log verifier keys (vkey strings)
//   latest          per origin, the last cosigned checkpoint: size, root, note
//   history         every cosignature we issued (append-only)
//   evidence        every validly signed checkpoint we refused as inconsistent

import type { Hash } from '../merkle/index.js';

/** One configured log. */
export interface LogConfig {
  origin: string;
  /** Verifier keys trusted for this origin (Ed25519 note vkeys), in insertion order. */
  keys: string[];
}

/** The last checkpoint cosigned for an origin. */
export interface CosignedCheckpoint {
  origin: string;
  size: number;
  root: Hash;
  /** The checkpoint note: text, the log's verified signature(s) and our cosignature(s). */
  note: string;
  /** Our cosignature timestamp, POSIX seconds. */
  timestamp: number;
}

/** One cosignature issued (a history row). */
export interface HistoryRecord extends CosignedCheckpoint {
  id: number;
}

/** Why a validly signed checkpoint was refused. */
export type EvidenceReason =
  | 'inconsistent-proof' // the consistency proof from our stored tree does not verify
  | 'same-size-other-root' // a root other than the one we cosigned at that size
  | 'empty-tree-root' // size 0 with a root other than SHA-256("")
  | 'proof-from-zero'; // old 0 with a non-empty proof

export interface EvidenceInput {
  origin: string;
  reason: EvidenceReason;
  /** Human-readable detail (the verifier's message). */
  detail: string;
  /** The request: its old size, proof hashes and the note as received. */
  oldSize: number;
  proof: Hash[];
  note: string;
  /** Our stored checkpoint at the time (null if none), for comparison. */
  stored: CosignedCheckpoint | null;
  /** When it was received, POSIX seconds. */
  receivedAt: number;
}

export interface EvidenceRecord extends EvidenceInput {
  id: number;
}

export interface EvidenceFilter {
  origin?: string;
  /** Only records with id > after (paging). */
  after?: number;
  /** At most this many records (oldest first). */
  limit?: number;
}

/** The result of a compare-and-swap on `latest`. */
export type AdvanceResult = { ok: true } | { ok: false; current: CosignedCheckpoint | null };

export interface WitnessStore {
  /** Trusts vkey for origin (idempotent). */
  addLog(origin: string, vkey: string): void;
  /** Forgets one key (or, without vkey, every key) of origin; returns the keys removed. The cosigned state stays. */
  removeLog(origin: string, vkey?: string): number;
  /** Every configured log, sorted by origin. */
  listLogs(): LogConfig[];
  /** The keys trusted for origin; empty if the origin is not configured. */
  logKeys(origin: string): string[];

  /** The last checkpoint cosigned for origin, or null if none. */
  latest(origin: string): CosignedCheckpoint | null;
  /** The same, looked up by lowercase hex SHA-256(origin) (the monitoring path). */
  latestByOriginHash(hashHex: string): CosignedCheckpoint | null;
  /** The root we cosigned at this size for origin, or null if we never cosigned that size. */
  cosignedRoot(origin: string, size: number): Hash | null;
  /**
   * Atomically: if latest(origin) still has `expected`'s size and root (or is
   * absent when expected is null), replace it with `next` and append `next` to
   * the history; otherwise change nothing and return the current state.
   * Durable once it returns ok.
   */
  advance(expected: { size: number; root: Hash } | null, next: CosignedCheckpoint): AdvanceResult;

  /** Cosignatures issued, oldest first. */
  history(filter?: EvidenceFilter): HistoryRecord[];
  /** Records a refused, validly signed checkpoint. */
  recordEvidence(e: EvidenceInput): void;
  /** Refused checkpoints, oldest first. */
  evidence(filter?: EvidenceFilter): EvidenceRecord[];

  close(): void;
}
