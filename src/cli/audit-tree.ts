// The audit's arithmetic, apart from its I/O: recompute every hash tile of a
// tree of size S from the leaf hashes of its entry bundles, compare each with
// the published tile, and recompute the root.
//
// Bundles arrive in order k = 0, 1, ... At level 0, bundle k's leaf hashes
// are tile (0, k). A full tile (256 hashes) at level L contributes its
// MTH (a perfect tree of 256 hashes) as the next hash at level L + 1, so each
// level keeps only the (< 256) hashes of its current tile: memory is bounded
// by 8 levels x 255 hashes whatever S is.
//
// At the end, level L holds w_L = floor(S / 256^L) mod 256 hashes: the
// partial tile (L, floor(S / 256^(L+1))).p/w_L. The root is the RFC 6962
// MTH of the whole tree: S = sum_L w_L * 256^L, and splitting each w_L into
// its binary digits gives the perfect subtrees of the binary decomposition of
// S, largest (leftmost) first; folding them right to left gives MTH(D[0:S]).

import { hashEqual, nodeHash, tilePath, TILE_WIDTH, type Hash, type Hasher, type TileId } from '../merkle/index.js';

const HASH_SIZE = 32;

export interface Mismatch {
  path: string;
  problem: string;
}

export type ReadTile = (tile: TileId) => Promise<Uint8Array | null>;

/** MTH of a perfect tree over hashes[lo, lo + 2^k), pairwise upward. */
export function perfectTreeHash(hashes: readonly Hash[], lo: number, count: number, hasher?: Hasher): Hash {
  let level = hashes.slice(lo, lo + count);
  while (level.length > 1) {
    const up: Hash[] = [];
    for (let i = 0; i < level.length; i += 2) up.push(nodeHash(level[i]!, level[i + 1]!, hasher));
    level = up;
  }
  const only = level[0];
  if (only === undefined) throw new Error('audit: bad math: empty perfect tree');
  return only;
}

/** Splits tile bytes into 32-byte hashes. */
export function splitHashes(data: Uint8Array): Hash[] {
  const out: Hash[] = [];
  for (let i = 0; i < data.byteLength; i += HASH_SIZE) out.push(data.subarray(i, i + HASH_SIZE));
  return out;
}

export class TreeAuditor {
  readonly size: number;
  readonly mismatches: Mismatch[] = [];
  tilesChecked = 0;
  readonly #read: ReadTile;
  readonly #hasher: Hasher | undefined;
  /** levels[L]: hashes of the current, unfinished tile at level L (L >= 1). */
  readonly #levels: Hash[][] = [];
  /** nextIndex[L]: index of the current tile at level L. */
  readonly #nextIndex: number[] = [];
  #lastLevel0: Hash[] = [];

  constructor(size: number, read: ReadTile, hasher?: Hasher) {
    this.size = size;
    this.#read = read;
    this.#hasher = hasher;
  }

  /** Compares computed hashes with the published tile bytes (null = missing). */
  check(tile: TileId, computed: readonly Hash[], published: Uint8Array | null): void {
    const path = tilePath(tile);
    this.tilesChecked++;
    if (published === null) {
      this.mismatches.push({ path, problem: 'missing' });
      return;
    }
    if (published.byteLength !== computed.length * HASH_SIZE) {
      this.mismatches.push({ path, problem: `${published.byteLength} bytes, expected ${computed.length * HASH_SIZE}` });
      return;
    }
    for (let i = 0; i < computed.length; i++) {
      if (!hashEqual(computed[i]!, published.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE))) {
        this.mismatches.push({ path, problem: `hash ${i} differs from the one recomputed from the entries below` });
        return;
      }
    }
  }

  /** Feeds bundle k's leaf hashes, with the published level-0 tile for it. */
  async addLeaves(k: number, leafHashes: Hash[], publishedTile: Uint8Array | null): Promise<void> {
    const width = leafHashes.length;
    this.check({ level: 0, index: k, width }, leafHashes, publishedTile);
    if (width < TILE_WIDTH) {
      this.#lastLevel0 = leafHashes;
      return;
    }
    await this.#push(1, perfectTreeHash(leafHashes, 0, TILE_WIDTH, this.#hasher));
  }

  /** Adds the MTH of a full tile below as the next hash at level L. */
  async #push(level: number, hash: Hash): Promise<void> {
    const hashes = (this.#levels[level] ??= []);
    hashes.push(hash);
    if (hashes.length < TILE_WIDTH) return;
    const index = this.#nextIndex[level] ?? 0;
    const tile: TileId = { level, index, width: TILE_WIDTH };
    this.check(tile, hashes, await this.#read(tile));
    this.#levels[level] = [];
    this.#nextIndex[level] = index + 1;
    await this.#push(level + 1, perfectTreeHash(hashes, 0, TILE_WIDTH, this.#hasher));
  }

  /** Checks the right edge's partial tiles at levels >= 1 and returns the root. */
  async finish(): Promise<Hash | null> {
    const subtrees: Hash[] = [];
    for (let level = Math.max(this.#levels.length - 1, 0); level >= 0; level--) {
      const hashes = level === 0 ? this.#lastLevel0 : (this.#levels[level] ?? []);
      if (hashes.length === 0) continue;
      if (level > 0) {
        const tile: TileId = { level, index: this.#nextIndex[level] ?? 0, width: hashes.length };
        this.check(tile, hashes, await this.#read(tile));
      }
      // The binary digits of the width, largest first, are perfect subtrees.
      let lo = 0;
      for (let bit = 7; bit >= 0; bit--) {
        const count = 2 ** bit;
        if (hashes.length - lo >= count) {
          subtrees.push(perfectTreeHash(hashes, lo, count, this.#hasher));
          lo += count;
        }
      }
    }
    if (subtrees.length === 0) return null; // empty tree
    let root = subtrees[subtrees.length - 1]!;
    for (let i = subtrees.length - 2; i >= 0; i--) root = nodeHash(subtrees[i]!, root, this.#hasher);
    return root;
  }
}
