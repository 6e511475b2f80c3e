// The integrator: extends the tree's right edge over durable entries and
// builds every hash tile and entry bundle the bigger tree needs. Building is
// pure given the entries; writing goes through the TileStore.
//
// For a step from size a to size b (a < b):
//   - the leaf hashes [a, b) come from the SequenceStore (stored at sequencing);
//   - TreeEdge.append yields the hash tiles: full tiles completed in [a, b) and
//     the partial tile of every level whose hash count changed;
//   - bundles are newTiles(a, b) at ENTRIES_LEVEL: the bundle that was partial
//     at a (re-read from its first entry, floor(a/256)·256) and every later one.
// Old partial tiles (e.g. `tile/0/001.p/7` once `.p/9` exists) are left in
// place here; the collector (tile-gc.ts) deletes them later, once no reader
// needs them (grace period, public and cosigned sizes kept).

import type { Hash, Hasher } from '../merkle/hash.js';
import { encodeBundle } from '../merkle/bundle.js';
import type { TileWrite, TreeEdge } from '../merkle/edge.js';
import { ENTRIES_LEVEL, TILE_WIDTH, newTiles, tilePath } from '../merkle/layout.js';
import type { SequenceStore } from '../storage/log-store.js';
import type { TileStore } from '../storage/tile-store.js';

export interface IntegrationStep {
  /** Size before and after the step. */
  readonly oldSize: number;
  readonly newSize: number;
  /** Every hash tile and bundle for newSize that changed since oldSize. */
  readonly writes: TileWrite[];
  /** MTH of [0, newSize). */
  readonly root: Hash;
}

// integrate(edge, store, newSize): MUTATES edge from edge.size to newSize
// (edge.size < newSize <= store.nextIndex()) and returns the step. The edge
// is only touched after the entries were read. On a throw the edge may be
// half-extended: the caller restores it from bytes.
export async function integrate(edge: TreeEdge, store: SequenceStore, newSize: number, hasher: Hasher): Promise<IntegrationStep> {
  const oldSize = edge.size;
  const firstBundleStart = Math.floor(oldSize / TILE_WIDTH) * TILE_WIDTH;
  const { entries, leafHashes } = await store.readEntries(firstBundleStart, newSize);
  // Entries [firstBundleStart, newSize); the new leaves start at offset oldSize - firstBundleStart.
  const writes = edge.append(leafHashes.slice(oldSize - firstBundleStart), hasher);
  for (const tile of newTiles(oldSize, newSize)) {
    if (tile.level !== ENTRIES_LEVEL) continue;
    const start = tile.index * TILE_WIDTH - firstBundleStart;
    writes.push({ tile, data: encodeBundle(entries.slice(start, start + tile.width)) });
  }
  return { oldSize, newSize, writes, root: edge.root(hasher) };
}

// writeTiles: createIdempotent for every write, at most `concurrency` at once.
// Resolves when all are durable; rejects with the first failure (the others
// still finish or fail on their own; a retry rewrites idempotently).
export async function writeTiles(store: TileStore, writes: readonly TileWrite[], concurrency = 32): Promise<void> {
  let next = 0;
  let failure: unknown = null;
  const worker = async (): Promise<void> => {
    while (failure === null && next < writes.length) {
      const w = writes[next++]!;
      try {
        await store.createIdempotent(tilePath(w.tile), w.data);
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, writes.length) }, worker));
  if (failure !== null) throw failure;
}
