// Checks a checkpoint note in the page: the log signature with the trusted
// key (the SDK's verifyCheckpoint), and each cosignature line with the
// witness keys in use (the pinned ones, or else the ones the server lists),
// so every signature line gets a status; then the log's witness policy (as
// /v1/log/witnesses announces it, e.g. 2 of 3) against the lines that
// verified, or all the pinned keys when the server announces no policy.

import { isClientError, messageOf } from '../client/errors.js';
import { verifyCheckpoint, type VerifiedCheckpoint } from '../client/checkpoint.js';
import { trustPolicy, type TrustPolicy } from '../client/policy.js';
import { parseCheckpoint, type Checkpoint } from '../note/checkpoint.js';
import { parseCosignature, parseCosignatureVerifierKey, type CosignatureVerifier } from '../note/cosignature.js';
import { parseNote, type NoteSignature } from '../note/note.js';
import { keyIdHex } from './format.js';
import { judgePolicy } from './witness-policy.js';
import type { Trust } from './trust.js';

export interface SignatureRow {
  name: string;
  keyId: number;
  /** Cosignature/v1 lines carry a time (Unix seconds); the log's Ed25519 line does not. */
  timestamp: number | null;
  role: 'log' | 'witness' | 'unknown';
  /** "unpinned": a line by a key the server lists while other witness keys are pinned (not checked). */
  status: 'verified' | 'failed' | 'unchecked' | 'unpinned';
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
  /**
   * Whether the cosignatures meet the log's policy (policy: it in words), or,
   * without an announced policy, all pinned keys (policy null); null without
   * witness keys or policy, or without a verified log signature.
   */
  witnessQuorum: { ok: boolean; policy: string | null; detail: string } | null;
}

/** The cosignature keys a check uses. */
export interface WitnessKeys {
  /** Keys cosignature lines are verified with. */
  keys: readonly string[];
  /** "pinned": the user's pins; "listed": nothing pinned, so the keys /v1/log/witnesses lists. */
  source: 'pinned' | 'listed';
  /** What /v1/log/witnesses lists, to label lines whose key is listed but not pinned. */
  listed: readonly string[];
  /** The tlog-policy text /v1/log/witnesses announces, or null. */
  policy: string | null;
}

export const NO_WITNESS_KEYS: WitnessKeys = { keys: [], source: 'listed', listed: [], policy: null };

function cosignatureTime(sig: NoteSignature): number | null {
  if (sig.signature.length !== 72) return null;
  try {
    return parseCosignature(sig.signature).timestamp;
  } catch {
    return null;
  }
}

export function checkCheckpoint(note: string, trust: Trust, witnesses: WitnessKeys, nowSeconds?: number): CheckpointCheck {
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
  // Cosignatures only matter on a verified checkpoint.
  if (trust.policy === null || verified === null) return { checkpoint, verified, failure, rows, witnessQuorum: null };
  const origin = trust.policy.origin;
  checkLines(note, rows, witnesses, (wk) => trustPolicy({ logKey: trust.key, origin, witnesses: [wk], quorum: 1 }), nowSeconds);
  const witnessQuorum = witnesses.policy !== null ? policyCheck(witnesses, rows) : allPinnedCheck(note, trust, witnesses, nowSeconds);
  return { checkpoint, verified, failure, rows, witnessQuorum };
}

// Each witness key alone (quorum 1 of 1), so one bad line does not hide the others.
function checkLines(note: string, rows: SignatureRow[], witnesses: WitnessKeys, policyFor: (vkey: string) => TrustPolicy, nowSeconds?: number): void {
  const pinned = witnesses.source === 'pinned';
  const misses: CosignatureVerifier[] = [];
  for (const wk of witnesses.keys) {
    let p: TrustPolicy;
    try {
      p = policyFor(wk);
    } catch {
      continue; // a witness key that does not parse: its line stays unchecked
    }
    const w = p.witnesses[0]!;
    const row = rows.find((r) => r.name === w.name && r.keyId === w.keyId);
    if (row === undefined) {
      misses.push(w);
      continue;
    }
    try {
      verifyCheckpoint(note, p, nowSeconds);
      Object.assign(row, { role: 'witness', status: 'verified', detail: pinned ? 'cosignature/v1 by the pinned witness key' : 'cosignature/v1 by a key /v1/log/witnesses lists (not pinned)' });
    } catch (err) {
      Object.assign(row, { role: 'witness', status: 'failed', detail: messageOf(err) });
    }
  }
  if (!pinned) return;
  for (const row of rows) {
    if (row.status !== 'unchecked') continue;
    // A pinned witness's name on a line its pinned key did not make: not that witness's cosignature.
    const miss = misses.find((w) => w.name === row.name);
    if (miss !== undefined) {
      Object.assign(row, { role: 'witness', status: 'failed', detail: `not by the pinned key of ${miss.name} (key ID ${keyIdHex(miss.keyId)})` });
    } else if (witnesses.listed.some((l) => lineOf(l, row))) {
      Object.assign(row, { role: 'witness', status: 'unpinned', detail: 'not checked: only pinned witness keys count' });
    }
  }
}

function lineOf(vkey: string, row: SignatureRow): boolean {
  try {
    const v = parseCosignatureVerifierKey(vkey);
    return v.name === row.name && v.keyId === row.keyId;
  } catch {
    return false;
  }
}

// The log's announced policy, judged by the lines verified with the keys in use.
function policyCheck(witnesses: WitnessKeys, rows: readonly SignatureRow[]): CheckpointCheck['witnessQuorum'] {
  const v = judgePolicy(witnesses.policy!, rows);
  if (v.error !== null) return { ok: false, policy: null, detail: `The witness policy this server announces does not parse: ${v.error}` };
  const whose = witnesses.source === 'pinned' ? 'pinned witness keys' : 'witness keys the server lists (not pinned)';
  const list = (names: string[]) => (names.length === 0 ? 'none' : names.join(', '));
  return {
    ok: v.met,
    policy: v.description,
    detail: `${v.met ? 'Policy met' : 'Policy NOT met'}: verified cosignatures by ${list(v.cosigned)} (with the ${whose}); none from ${list(v.missing)}.`,
  };
}

// No announced policy (a server without witnesses, while keys are pinned):
// every pinned key must have cosigned, K = N, with the SDK's check.
function allPinnedCheck(note: string, trust: Trust, witnesses: WitnessKeys, nowSeconds?: number): CheckpointCheck['witnessQuorum'] {
  const n = witnesses.keys.length;
  if (n === 0 || trust.policy === null) return null;
  const whose = witnesses.source === 'pinned' ? 'pinned' : 'server-listed (not pinned)';
  const none = 'This server announces no witness policy, so all';
  try {
    const p = trustPolicy({ logKey: trust.key, origin: trust.policy.origin, witnesses: witnesses.keys, quorum: n });
    const v = verifyCheckpoint(note, p, nowSeconds);
    return { ok: true, policy: null, detail: `${none} ${n} ${whose} witness keys must cosign: they did (verifyCheckpoint, ${v.cosigners.length} cosignatures counted).` };
  } catch (err) {
    return { ok: false, policy: null, detail: `${none} ${n} ${whose} witness keys must cosign: ${messageOf(err)}` };
  }
}
