// Tile summaries: a full hash tile's 16 stored hashes of height 4 within it.
//
// A stored hash of height r (0 < r <= 8) within a tile is the perfect-tree
// hash of 2^r of its hashes: 2^r − 1 node hashes from the tile alone
// (hashFromTile). An inclusion proof needs one sibling per height 0..7 in the
// tile holding its leaf, 247 node hashes in all, and those subtrees are
// disjoint, so nothing is shared between them. With the tile's summary, the
// 16 hashes S[j] = MTH(tile hashes [16j, 16j + 16)), a stored hash of height
// r >= 4 is the perfect-tree hash of summary hashes [offset/16, +2^r/16):
// 2^(r−4) − 1 node hashes; one below height 4 still costs at most 15. An
// inclusion proof's siblings in one tile then cost 22 node hashes.
//
// A summary is derived data: 512 bytes per full tile (2 bytes per leaf at
// level 0), and summaryRoot(S) (15 node hashes) is the tile's own hash, which
// the parent tile holds: a reader checks a stored summary against it.

import type { Hash, Hasher } from './hash.js';
import { defaultHasher, hashEqual, HASH_SIZE } from './hash.js';
import type { TileId } from './layout.js';
import { TILE_WIDTH } from './layout.js';
import { hashFromTile } from './subtree.js';

/** Height within the tile of a summary's hashes. */
export const SUMMARY_HEIGHT = 4;
/** Hashes in a summary: 256 / 2^4. */
export const SUMMARY_WIDTH = TILE_WIDTH >>> SUMMARY_HEIGHT;
/** Bytes in a summary. */
export const SUMMARY_BYTES = SUMMARY_WIDTH * HASH_SIZE;
/** Tile hashes under one summary hash. */
const SPAN = 1 << SUMMARY_HEIGHT;

// tileSummary(tile) = S[0..16), S[j] = MTH(tile[16j, 16j + 16)): 16 · 15 = 240
// node hashes. tile must be a full tile (256 hashes, 8192 bytes).
export function tileSummary(tile: Uint8Array, hasher: Hasher = defaultHasher): Uint8Array {
  if (tile.length !== TILE_WIDTH * HASH_SIZE) throw new Error(`merkle: bad math: tileSummary of ${tile.length} bytes, want a full tile`);
  const out = new Uint8Array(SUMMARY_BYTES);
  for (let j = 0; j < SUMMARY_WIDTH; j++) out.set(hashFromTile(tile, j * SPAN, SPAN, hasher), j * HASH_SIZE);
  return out;
}

// summaryRoot(S) = MTH(S[0..16)) = the hash of the whole tile: 15 node hashes.
export function summaryRoot(summary: Uint8Array, hasher: Hasher = defaultHasher): Hash {
  return hashFromTile(summary, 0, SUMMARY_WIDTH, hasher);
}

// summaryMatchesParent(S, index, parent): S is SUMMARY_BYTES long and
// summaryRoot(S) equals hash (index mod 256) of the parent tile, which is the
// own hash of tile `index` below it: S summarises that tile. 15 node hashes.
export function summaryMatchesParent(summary: Uint8Array, index: number, parent: Uint8Array, hasher: Hasher = defaultHasher): boolean {
  const at = (index % TILE_WIDTH) * HASH_SIZE;
  return summary.length === SUMMARY_BYTES && parent.length >= at + HASH_SIZE && hashEqual(summaryRoot(summary, hasher), parent.subarray(at, at + HASH_SIZE));
}

/** True when the stored hash [offset, offset + count) of a full tile can be read from its summary (count >= 16). */
export function fromSummary(count: number): boolean {
  return count >= SPAN;
}

// hashFromSummary(S, offset, count) = hashFromTile(tile, offset, count) for the
// tile S summarises, count a power of two in [16, 256] and offset a multiple of
// count: count/16 − 1 node hashes.
export function hashFromSummary(summary: Uint8Array, offset: number, count: number, hasher: Hasher = defaultHasher): Hash {
  if (count < SPAN || offset % count !== 0) throw new Error(`merkle: bad math: hashFromSummary(${offset}, ${count})`);
  return hashFromTile(summary, offset / SPAN, count / SPAN, hasher);
}

/** Where a tile hash reader finds stored summaries and leaves the ones it had to compute. */
export interface TileSummarySource {
  /** The stored summary of each full tile (level, index), null where none is stored. */
  read(tiles: readonly TileId[]): Promise<(Uint8Array | null)[]>;
  /**
   * A summary computed from the tile's hashes because none was stored, or the
   * stored one (`replaced`) did not hash to the tile's hash in its parent.
   * Best effort: the reader neither waits for it nor fails with it.
   */
  learned(tile: TileId, summary: Uint8Array, replaced: boolean): void;
}
