// The log's reads of its published tree for answers: tree hashes, leaf
// hashes, inclusion and consistency proofs. Everything comes from the public
// tiles the log wrote, through the tile cache (tile-cache.ts), the full
// tiles' summaries (tile-summaries.ts) and the stored-hash memo
// (hash-memo.ts). The Log checks every size against its published one
// before asking; `published` is that size, whose tiles all exist.

import type { Hash, Hasher } from '../merkle/hash.js';
import { TILE_HEIGHT, TILE_WIDTH } from '../merkle/layout.js';
import { consistencyProof, inclusionProof } from '../merkle/proof.js';
import { splitStoredHashIndex, storedHashIndex } from '../merkle/stored.js';
import { treeHash, type HashReader } from '../merkle/tree.js';
import type { TileStore } from '../storage/tile-store.js';
import { StoredHashMemo } from './hash-memo.js';
import type { PublishedView } from './published-view.js';
import type { TileCache } from './tile-cache.js';
import { publishedHashReader } from './tile-reader.js';
import type { TileSummaries } from './tile-summaries.js';

export interface ProofReaderOptions {
  tiles: TileStore;
  hasher: Hasher;
  cache: TileCache;
  summaries: TileSummaries | null;
  /** The published checkpoint this process serves (its root answers treeHash at its size). */
  view: PublishedView;
}

export class ProofReader {
  readonly #o: ProofReaderOptions;
  /** Stored hashes computed from tiles: the high subtrees every proof needs. */
  readonly #memo = new StoredHashMemo();

  constructor(o: ProofReaderOptions) {
    this.#o = o;
  }

  /** MTH of entries [0, size), size <= published. */
  treeHash(size: number, published: number): Promise<Hash> {
    // The published size's hash is the root this log signed: most proof
    // answers ask for it, and reading and combining its stored hashes again
    // was a third of an inclusion answer's garbage at 10M entries.
    const current = this.#o.view.current;
    if (current !== null && current.size === size) return Promise.resolve(current.root.slice());
    return treeHash(size, this.#reader(published), this.#o.hasher);
  }

  /** RFC 9162 inclusion proof of leaf index in the tree of size (index < size <= published). */
  inclusionProof(index: number, size: number, published: number): Promise<Hash[]> {
    return inclusionProof(size, index, this.#reader(published), this.#o.hasher);
  }

  /** The leaf hash of entry index as its level-0 tile holds it (index < size <= published). */
  async leafHash(index: number, published: number): Promise<Hash> {
    const [hash] = await this.#reader(published).readHashes([storedHashIndex(0, index)]);
    return hash!;
  }

  /** RFC 9162 consistency proof between sizes (0 < oldSize <= newSize <= published). */
  consistencyProof(oldSize: number, newSize: number, published: number): Promise<Hash[]> {
    return consistencyProof(oldSize, newSize, this.#reader(published), this.#o.hasher);
  }

  #reader(published: number): HashReader {
    const { tiles, hasher, cache, summaries, view } = this.#o;
    const reader = publishedHashReader(published, tiles, hasher, cache, () => view.size, summaries?.source);
    return this.#memo.reader(reader, (x) => inFullLeafTile(x, published));
  }
}

// inFullLeafTile(x, size): stored hash x has height < 8 and lies in a level-0
// tile that is full at size. Such hashes stay out of the memo: their tile is
// read for the proof anyway and its summary makes each one at most ~30 node
// hashes, while random proofs seldom ask for one twice (39,000 such tiles at
// 10M entries), so keeping them only churned the memo, and every hash kept
// outlived a young-generation GC (at 10M the median scavenge went from 1.0 to
// 0.8 ms without them).
function inFullLeafTile(x: number, size: number): boolean {
  const [level, n] = splitStoredHashIndex(x);
  return level < TILE_HEIGHT && (n + 1) * 2 ** level <= Math.floor(size / TILE_WIDTH) * TILE_WIDTH;
}
