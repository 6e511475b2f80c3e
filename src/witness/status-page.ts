// GET /: a plain-text status page for operators: who we are, which logs we
// witness, and how far we have cosigned each.

import { originHash } from './origin-hash.js';
import type { LogStatus } from './witness.js';

export interface StatusPageInput {
  name: string;
  verifierKey: string;
  /** The key served beside it during a transition. */
  nextVerifierKey?: string | null;
  logs: LogStatus[];
}

export function renderStatusPage({ name, verifierKey, nextVerifierKey, logs }: StatusPageInput): string {
  let out =
    `tilelog witness ${name}\n` +
    `verifier key: ${verifierKey}\n` +
    (nextVerifierKey == null ? '' : `next key:     ${nextVerifierKey} (cosigns too, during a key transition)\n`) +
    `submit:       POST /add-checkpoint (c2sp.org/tlog-witness)\n` +
    `evidence:     GET /evidence[?origin=<origin>&kind=conflicts|cosigned]\n\n`;
  if (logs.length === 0) {
    return `${out}no logs configured; add one with 'tilelog witness add-log --state <dir> --origin <origin> --key <vkey>'\n`;
  }
  out += `${logs.length} log${logs.length === 1 ? '' : 's'}:\n`;
  for (const log of logs) {
    const when = log.timestamp === null ? '' : ` at ${new Date(log.timestamp * 1000).toISOString()}`;
    out += `\n  ${log.origin}\n`;
    out += `    cosigned size: ${log.size === null ? 'none yet' : `${log.size}${when}`}\n`;
    out += `    checkpoint:    GET /${originHash(log.origin)}/checkpoint\n`;
    for (const key of log.keys) out += `    log key:       ${key}\n`;
  }
  return out;
}
