// The publisher: signs the checkpoint for an integrated size and records it in
// the trusted TreeStateStore with a compare-and-swap fenced by the signer's
// lease epoch (a signer that lost its lease changes nothing); only then may the log's
// PublicCheckpoint writer (public-checkpoint.ts) make it public, with a write
// conditional on the version it last saw (never an unconditional overwrite).
// Signing is deterministic (Ed25519), so re-signing the same (size, root)
// after a crash gives the same text.

import { TilelogError } from '../errors.js';
import type { Hash } from '../merkle/hash.js';
import { signCheckpoint } from '../note/checkpoint.js';
import type { NoteSigner } from '../note/keys.js';
import type { Fence, TreeStateStore } from '../storage/log-store.js';
import type { TreeState } from '../storage/sequence-db.js';

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

// commitSigned(store, fence, expectedSize, origin, signer, s): signs and
// persists the new tree state. 'lost' (nothing changed): the fence no longer
// holds, another signer leads. Throws LOG_FORK (nothing changed) when the
// stored state is not at expectedSize, the size shrinks, or the size already
// has another root.
export async function commitSigned(
  store: TreeStateStore,
  fence: Fence,
  expectedSize: number | null,
  origin: string,
  signer: NoteSigner,
  s: NewState,
): Promise<TreeState | 'lost'> {
  const text = signTreeHead(origin, s.size, s.root, signer);
  const state: TreeState = { ...s, text };
  // No fork: the compare-and-swap refuses a smaller size or a second root for a size,
  // and a stale signer's commit (fence lost) changes nothing.
  const outcome = await store.commitState(fence, expectedSize, state);
  return outcome === 'lost' ? 'lost' : state;
}

/**
 * This process's term of leadership ended (a fenced write answered 'lost', or
 * the lease lapsed: `why`): it signs nothing more in that term; clients retry
 * (another process leads). With a shared lease (rejoins) the process is a
 * candidate again at once; otherwise it stays stopped until restarted.
 */
export function notLeader(doing: string, rejoins = false, why: string | null = null): TilelogError {
  const cause = why === null ? 'another process took over the signer lease' : why.replace(/^[a-z ]+: /, '');
  const after = rejoins
    ? 'this process signs nothing more in this term and is a candidate again'
    : 'this one signs and publishes nothing more; restart this process to make it a candidate again';
  return new TilelogError('LOG_NOT_LEADER', `log: lost leadership while ${doing} (${cause}): ${after}; retry: the leader publishes your entries`);
}
