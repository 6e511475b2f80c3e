// The publisher: signs the checkpoint for an integrated size and records it in
// the trusted SequenceDB with a compare-and-swap; only then may the log's
// PublicCheckpoint writer (public-checkpoint.ts) make it public, with a write
// conditional on the version it last saw (never an unconditional overwrite).
// Signing is deterministic (Ed25519), so re-signing the same (size, root)
// after a crash gives the same text.

import type { Hash } from '../merkle/hash.js';
import { signCheckpoint } from '../note/checkpoint.js';
import type { NoteSigner } from '../note/keys.js';
import type { SequenceDB, TreeState } from '../storage/sequence-db.js';

/** A checkpoint the log has published. */
export interface PublishedCheckpoint {
  /** Tree size. */
  readonly size: number;
  /** MTH of entries [0, size). */
  readonly root: Hash;
  /** The signed note, exactly as served at /checkpoint. */
  readonly text: string;
}

export interface NewState {
  size: number;
  root: Hash;
  edge: Uint8Array;
  prevSize: number;
  prevEdge: Uint8Array;
}

/** The signed checkpoint note for (origin, size, root), without extensions. */
export function signTreeHead(origin: string, size: number, root: Hash, signer: NoteSigner): string {
  return signCheckpoint({ origin, size, root, extensions: [] }, signer);
}

// commitSigned(db, expectedSize, origin, signer, s): signs and persists the new
// tree state. Throws LOG_FORK (nothing changed) when the stored state is not
// at expectedSize, the size shrinks, or the size already has another root.
export function commitSigned(
  db: SequenceDB,
  expectedSize: number | null,
  origin: string,
  signer: NoteSigner,
  s: NewState,
): TreeState {
  const text = signTreeHead(origin, s.size, s.root, signer);
  const state: TreeState = { ...s, text };
  // No fork: the compare-and-swap refuses a smaller size or a second root for a size.
  db.commitState(expectedSize, state);
  return state;
}
