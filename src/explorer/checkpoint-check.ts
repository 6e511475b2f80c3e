// Checks a checkpoint note in the page: the log signature with the trusted
// key (the SDK's verifyCheckpoint), and each cosignature line with the
// witness keys the server lists, so every signature line gets a status.

import { isClientError, messageOf } from '../client/errors.js';
import { verifyCheckpoint, type VerifiedCheckpoint } from '../client/checkpoint.js';
import { trustPolicy } from '../client/policy.js';
import { parseCheckpoint, type Checkpoint } from '../note/checkpoint.js';
import { parseCosignature } from '../note/cosignature.js';
import { parseNote, type NoteSignature } from '../note/note.js';
import type { Trust } from './trust.js';

export interface SignatureRow {
  name: string;
  keyId: number;
  /** Cosignature/v1 lines carry a time (Unix seconds); the log's Ed25519 line does not. */
  timestamp: number | null;
  role: 'log' | 'witness' | 'unknown';
  status: 'verified' | 'failed' | 'unchecked';
  detail: string;
}

export interface CheckpointCheck {
  /** Parsed without verification (null if the note does not parse). */
  checkpoint: Checkpoint | null;
  /** Set when the log signature verified with the trusted key. */
  verified: VerifiedCheckpoint | null;
  /** Why it did not, with the SDK's step name. */
  failure: { step: string; message: string } | null;
  rows: SignatureRow[];
}

function cosignatureTime(sig: NoteSignature): number | null {
  if (sig.signature.length !== 72) return null;
  try {
    return parseCosignature(sig.signature).timestamp;
  } catch {
    return null;
  }
}

/** witnessKeys: cosignature verifier keys (from /v1/log/witnesses), checked one by one. */
export function checkCheckpoint(note: string, trust: Trust, witnessKeys: readonly string[], nowSeconds?: number): CheckpointCheck {
  let checkpoint: Checkpoint | null = null;
  let sigs: NoteSignature[] = [];
  try {
    const n = parseNote(note);
    sigs = n.signatures;
    checkpoint = parseCheckpoint(n.text);
  } catch {
    // verifyCheckpoint below names the problem
  }
  let verified: VerifiedCheckpoint | null = null;
  let failure: CheckpointCheck['failure'] = null;
  if (trust.policy === null) {
    failure = { step: 'policy', message: trust.policyError ?? 'no usable key' };
  } else {
    try {
      verified = verifyCheckpoint(note, trust.policy, nowSeconds);
    } catch (err) {
      failure = { step: isClientError(err) ? err.step : 'checkpoint signature', message: messageOf(err) };
    }
  }
  const logV = trust.policy?.logVerifier;
  const rows: SignatureRow[] = sigs.map((s) => {
    const isLog = logV !== undefined && s.name === logV.name && s.keyId === logV.keyId;
    const base = { name: s.name, keyId: s.keyId, timestamp: cosignatureTime(s) };
    if (isLog) {
      return { ...base, role: 'log', status: verified !== null ? 'verified' : 'failed', detail: verified !== null ? 'Ed25519 signature by the log key' : (failure?.message ?? '') };
    }
    return { ...base, role: 'unknown', status: 'unchecked', detail: 'no key for this signer' };
  });
  // Each witness key alone (quorum 1 of 1), so one bad line does not hide the others.
  for (const wk of witnessKeys) {
    if (trust.policy === null || verified === null) break; // cosignatures only matter on a verified checkpoint
    let name: string;
    let keyId: number;
    try {
      const p = trustPolicy({ logKey: trust.key, origin: trust.policy.origin, witnesses: [wk], quorum: 1 });
      name = p.witnesses[0]!.name;
      keyId = p.witnesses[0]!.keyId;
      const row = rows.find((r) => r.name === name && r.keyId === keyId);
      if (row === undefined) continue;
      try {
        verifyCheckpoint(note, p, nowSeconds);
        Object.assign(row, { role: 'witness', status: 'verified', detail: 'cosignature/v1 by the key /v1/log/witnesses lists' });
      } catch (err) {
        Object.assign(row, { role: 'witness', status: 'failed', detail: messageOf(err) });
      }
    } catch {
      continue; // a witness key that does not parse: its line stays unchecked
    }
  }
  return { checkpoint, verified, failure, rows };
}
