// verifyCheckpoint: is this signed checkpoint one the policy trusts?
//
// Steps, in order, each failing with its own code:
//   1. the note and checkpoint parse, the origin matches,
//      known keys' lines are canonical base64                 CLIENT_CHECKPOINT_SIGNATURE
//   2. the log's Ed25519 signature verifies                   CLIENT_CHECKPOINT_SIGNATURE
//   3. witness cosignatures: a known witness's bad line fails
//      the note (Go's Open rule); each key counts once, and
//      the counted witnesses must meet the quorum             CLIENT_CHECKPOINT_QUORUM
//   4. no counted cosignature is dated after now + skew       CLIENT_CHECKPOINT_FUTURE
//   5. the newest counted cosignature is at most maxAge old   CLIENT_CHECKPOINT_AGE
// A checkpoint carries no time of its own: without cosignatures its age is
// unknowable, so step 5 needs witnesses (trustPolicy enforces that).

import { parseCheckpoint, type Checkpoint } from '../note/checkpoint.js';
import { formatSignatureLine, parseNote, verifyNote, type Note, type NoteSignature } from '../note/note.js';
import { cosignersOf, policySatisfied } from '../note/policy.js';
import { ClientError, messageOf } from './errors.js';
import { asTrustPolicy, type TrustPolicy, type TrustPolicyInput } from './policy.js';

/** One witness cosignature that verified and counted. */
export interface Cosigner {
  /** The witness's name in the policy (for simple policies, its key name). */
  name: string;
  /** Key name and ID as on the signature line. */
  keyName: string;
  keyId: number;
  /** The cosignature's POSIX timestamp in seconds. */
  timestamp: number;
}

/** A checkpoint that passed verifyCheckpoint. */
export interface VerifiedCheckpoint extends Checkpoint {
  /** The whole signed note text, as given. */
  note: string;
  /** Distinct witnesses whose cosignature verified, in note order. */
  cosigners: Cosigner[];
  /** The newest cosigner timestamp (seconds), or null with no cosigner. */
  newestCosignature: number | null;
}

const nowSecondsDefault = (): number => Math.floor(Date.now() / 1000);

function fail(code: 'CLIENT_CHECKPOINT_SIGNATURE' | 'CLIENT_CHECKPOINT_QUORUM' | 'CLIENT_CHECKPOINT_FUTURE' | 'CLIENT_CHECKPOINT_AGE', message: string, cause?: unknown): ClientError {
  return new ClientError(code, `checkpoint: ${message}`, cause === undefined ? undefined : { cause });
}

// Steps 1-2: parse, origin, log signature.
function openLog(noteText: string | Uint8Array, policy: TrustPolicy): { note: Note; checkpoint: Checkpoint } {
  let note: Note;
  let checkpoint: Checkpoint;
  try {
    note = parseNote(noteText);
    checkpoint = parseCheckpoint(note.text);
  } catch (err) {
    throw fail('CLIENT_CHECKPOINT_SIGNATURE', `malformed: ${messageOf(err)}`, err);
  }
  if (checkpoint.origin !== policy.origin) {
    throw fail('CLIENT_CHECKPOINT_SIGNATURE', `origin ${JSON.stringify(checkpoint.origin)} is not the expected ${JSON.stringify(policy.origin)}`);
  }
  // Go decodes signature base64 leniently (non-zero padding bits pass), so
  // one signature has several spellings; we accept only the canonical one
  // for the keys we check, so a checkpoint (and a bundle) has one encoding.
  const known = [policy.logVerifier, ...policy.witnesses];
  for (const sig of note.signatures) {
    if (known.some((v) => v.name === sig.name && v.keyId === sig.keyId) && formatSignatureLine(sig.name, sig.keyId, sig.signature) !== sig.line) {
      throw fail('CLIENT_CHECKPOINT_SIGNATURE', `the signature line of ${sig.name} is not canonical base64`);
    }
  }
  try {
    verifyNote(note, [policy.logVerifier]);
  } catch (err) {
    throw fail('CLIENT_CHECKPOINT_SIGNATURE', `no valid signature by the log key ${policy.logVerifier.name}: ${messageOf(err)}`, err);
  }
  return { note, checkpoint };
}

// Step 3: the verified witness signatures (one per key), or a failure.
function witnessSignatures(note: Note, policy: TrustPolicy): NoteSignature[] {
  if (policy.witnesses.length === 0) return [];
  try {
    return verifyNote(note, policy.witnesses).verified;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'NOTE_UNVERIFIED') return [];
    throw fail('CLIENT_CHECKPOINT_QUORUM', messageOf(err), err);
  }
}

function quorumText(policy: TrustPolicy): string {
  return policy.quorum !== null ? `${policy.quorum} of ${policy.witnesses.length} witnesses` : `tlog-policy quorum ${policy.witnessPolicy.quorum}`;
}

/**
 * Verifies a signed checkpoint note against a policy at `nowSeconds` (POSIX
 * seconds; default the clock). Returns the checkpoint with its counted
 * cosigners, or throws a ClientError naming the failed step.
 */
export function verifyCheckpoint(
  noteText: string | Uint8Array,
  policyOrInput: TrustPolicy | TrustPolicyInput,
  nowSeconds: number = nowSecondsDefault(),
): VerifiedCheckpoint {
  const policy = asTrustPolicy(policyOrInput);
  if (!Number.isSafeInteger(nowSeconds) || nowSeconds < 0) throw new RangeError(`checkpoint: nowSeconds ${nowSeconds} is not a whole number of seconds`);
  const { note, checkpoint } = openLog(noteText, policy);

  const verified = witnessSignatures(note, policy);
  const names = cosignersOf(policy.witnessPolicy, verified);
  if (!policySatisfied(policy.witnessPolicy, names)) {
    throw fail('CLIENT_CHECKPOINT_QUORUM', `${names.size} valid distinct cosignature(s) do not meet the ${quorumText(policy)}`);
  }
  const cosigners: Cosigner[] = verified.map((sig) => {
    const w = policy.witnessPolicy.witnesses.find((x) => x.verifier.name === sig.name && x.verifier.keyId === sig.keyId)!;
    return { name: w.name, keyName: sig.name, keyId: sig.keyId, timestamp: w.verifier.timestamp(sig.signature) };
  });

  for (const c of cosigners) {
    if (c.timestamp > nowSeconds + policy.maxFutureSkewSeconds) {
      throw fail(
        'CLIENT_CHECKPOINT_FUTURE',
        `cosignature by ${c.name} is dated ${c.timestamp}, ${c.timestamp - nowSeconds} s in the future (allowed skew ${policy.maxFutureSkewSeconds} s)`,
      );
    }
  }
  const newest = cosigners.length === 0 ? null : Math.max(...cosigners.map((c) => c.timestamp));
  if (policy.maxAgeSeconds !== null) {
    if (newest === null) throw fail('CLIENT_CHECKPOINT_AGE', 'no cosignature dates the checkpoint, so its age cannot be checked');
    if (nowSeconds - newest > policy.maxAgeSeconds) {
      throw fail('CLIENT_CHECKPOINT_AGE', `newest cosignature is ${nowSeconds - newest} s old (at most ${policy.maxAgeSeconds} s allowed)`);
    }
  }
  const text = typeof noteText === 'string' ? noteText : new TextDecoder().decode(noteText);
  return { ...checkpoint, note: text, cosigners, newestCosignature: newest };
}
