// Proof checks against verified checkpoints, with the client's error codes:
// an inclusion proof that fails is CLIENT_BUNDLE_INCLUSION, a consistency
// proof that fails (or a smaller newer tree) is an InconsistencyError carrying
// both checkpoints and the proof.

import type { Hash } from '../merkle/hash.js';
import { hashEqual, leafHash } from '../merkle/hash.js';
import { verifyConsistency as merkleConsistency, verifyInclusion as merkleInclusion } from '../merkle/verify.js';
import type { Checkpoint } from '../note/checkpoint.js';
import { ClientError, InconsistencyError, messageOf } from './errors.js';

/** What an inclusion proof is about: the entry bytes, or its RFC 6962 leaf hash. */
export type Leaf = { entry: Uint8Array } | { leafHash: Hash };

/**
 * Throws CLIENT_BUNDLE_INCLUSION unless `proof` shows the leaf is entry `index`
 * of the tree the checkpoint signs (index < checkpoint.size).
 */
export function verifyInclusion(checkpoint: Checkpoint, index: number, leaf: Leaf, proof: readonly Hash[]): void {
  const lh = 'entry' in leaf ? leafHash(leaf.entry) : leaf.leafHash;
  try {
    merkleInclusion(undefined, index, checkpoint.size, lh, proof, checkpoint.root);
  } catch (err) {
    if (err instanceof TypeError) throw err;
    throw new ClientError(
      'CLIENT_BUNDLE_INCLUSION',
      `inclusion: entry ${index} is not proven in the checkpoint of size ${checkpoint.size}: ${messageOf(err)}`,
      { cause: err },
    );
  }
}

/**
 * Throws an InconsistencyError unless `proof` shows `older` is a prefix of
 * `newer`: a smaller newer tree (rollback), equal sizes with other roots, or
 * a proof that fails. Same origin is the caller's business (both were
 * verified under one policy).
 */
export function verifyConsistency(older: Checkpoint, newer: Checkpoint, proof: readonly Hash[]): void {
  if (newer.size < older.size) {
    throw new InconsistencyError(`consistency: rollback from size ${older.size} to ${newer.size}`, older, newer, proof);
  }
  if (newer.size === older.size && !hashEqual(newer.root, older.root)) {
    throw new InconsistencyError(`consistency: two roots for size ${older.size} (a fork)`, older, newer, proof);
  }
  try {
    merkleConsistency(undefined, older.size, newer.size, proof, older.root, newer.root);
  } catch (err) {
    if (err instanceof TypeError) throw err;
    throw new InconsistencyError(
      `consistency: size ${older.size} is not proven a prefix of size ${newer.size}: ${messageOf(err)}`,
      older,
      newer,
      proof,
      { cause: err },
    );
  }
}
