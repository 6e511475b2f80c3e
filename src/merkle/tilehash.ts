// Stored hashes served from hash tiles (like Go sumdb/tlog TileHashReader).
//
// Stored hash P(8L + r, k) is the perfect-tree hash of the 2^r level-8L hashes
// at offsets [k·2^r mod 256, +2^r) of tile (L, floor(k·2^r / 256)) (layout.ts
// tileForStoredHash). Each batch of indexes is served from one readTiles call.
//
// tileHashReader trusts only the root: it also reads the right-edge tiles that
// recompute the root (they hold every partial tile, fully covered by the
// root's subtrees), and for each full tile needed, its ancestors up to an edge
// tile, checking each full tile's root against the hash in its parent tile.
// unauthenticatedTileHashReader reads just the tiles holding the hashes, for a
// server reading tiles it wrote itself (and, given tile summaries, the parents
// of the full tiles whose summaries it checks).

import { TilelogError } from '../errors.js';
import type { Hash, Hasher } from './hash.js';
import { defaultHasher, hashEqual, HASH_SIZE } from './hash.js';
import { hashFromTile } from './subtree.js';
import { fromSummary, hashFromSummary, summaryMatchesParent, tileSummary, type TileSummarySource } from './tile-summary.js';
import type { TileId } from './layout.js';
import { TILE_HEIGHT, TILE_WIDTH, tileForStoredHash, tileWidthAt } from './layout.js';
import { assertSafeIndex } from './math.js';
import { storedHashCount } from './stored.js';
import type { HashReader } from './tree.js';
import { treeHashIndexes } from './tree.js';

export { hashFromTile } from './subtree.js';

/** Reads hash tiles; result i is the data of tiles[i], exactly width·32 bytes. */
export type TileReader = (tiles: TileId[]) => Promise<Uint8Array[]>;

// tileAtSize(t, k, size): the tile k tile levels above t (index
// floor(N / 256^k)), with the width it has at size, or null if it has no
// hashes at that size.
function tileAtSize(t: TileId, k: number, size: number): TileId | null {
  const level = t.level + k;
  const index = Math.floor(t.index / 2 ** (TILE_HEIGHT * k));
  const width = tileWidthAt(level, index, size);
  return width === 0 ? null : { level, index, width };
}

const tileKey = (t: TileId): string => `${t.level}/${t.index}`;

// Checks each stored index is a safe integer below storedHashCount(size).
function checkIndexes(size: number, indexes: readonly number[]): void {
  const limit = storedHashCount(size);
  for (const x of indexes) {
    assertSafeIndex('stored hash index', x);
    if (x >= limit) throw new TilelogError('MERKLE_RANGE', `merkle: stored hash ${x} not in a tree of size ${size}`);
  }
}

// Reads the planned tiles once and checks their count and lengths
// (a wrong length is MERKLE_PROOF_INVALID: the tile source is not trusted).
async function fetchTiles(readTiles: TileReader, tiles: TileId[]): Promise<Uint8Array[]> {
  const data = await readTiles(tiles.map((t) => ({ ...t })));
  if (data.length !== tiles.length) {
    throw new Error(`merkle: bad math: readTiles returned ${data.length} tiles for ${tiles.length}`);
  }
  tiles.forEach((t, i) => {
    const d = data[i];
    if (!(d instanceof Uint8Array) || d.length !== t.width * HASH_SIZE) {
      throw new TilelogError('MERKLE_PROOF_INVALID', `merkle: tile ${t.level}/${t.index} has ${d?.length} bytes, want ${t.width * HASH_SIZE}`);
    }
  });
  return data;
}

// The tile (at size) holding stored hash x, and where in it.
function locate(x: number, size: number): { tile: TileId; offset: number; count: number } {
  const loc = tileForStoredHash(x);
  const tile = tileAtSize(loc.tile, 0, size);
  if (tile === null || tile.width < loc.offset + loc.count) {
    throw new Error(`merkle: bad math: stored hash ${x} not in tiles of size ${size}`);
  }
  return { tile, offset: loc.offset, count: loc.count };
}

// TilePlan: the distinct tiles one readHashes batch needs, in first-added
// order, with each tile's position in that order (= its slot in readTiles' answer).
class TilePlan {
  readonly tiles: TileId[] = [];
  readonly #slot = new Map<string, number>();

  /** Adds t unless planned already; returns its slot either way. */
  add(t: TileId): number {
    const k = tileKey(t);
    let j = this.#slot.get(k);
    if (j === undefined) {
      j = this.tiles.length;
      this.#slot.set(k, j);
      this.tiles.push(t);
    }
    return j;
  }

  /** t's slot, or undefined when it is not planned. */
  slot(t: TileId): number | undefined {
    return this.#slot.get(tileKey(t));
  }
}

// tileHashReader(size, root, readTiles): a HashReader for the tree of `size`
// leaves with hash `root`, serving stored indexes < storedHashCount(size)
// (MERKLE_RANGE otherwise). Each readHashes makes one readTiles call with the
// fewest tiles that both hold the hashes and authenticate them; a tile that
// does not authenticate throws MERKLE_PROOF_INVALID.
export function tileHashReader(size: number, root: Hash, readTiles: TileReader, hasher: Hasher = defaultHasher): HashReader {
  assertSafeIndex('size', size);
  return {
    async readHashes(indexes: readonly number[]): Promise<Hash[]> {
      checkIndexes(size, indexes);
      if (indexes.length === 0) return [];

      // 1. Plan the right-edge tiles that recompute the root.
      const plan = new TilePlan();
      const stx = treeHashIndexes(size).map((x) => ({ x, ...locate(x, size) }));
      const stxSlots = stx.map((s) => plan.add(s.tile));
      const edgeCount = plan.tiles.length; // distinct edge tiles (not stx.length)

      // 2. Plan each index's tile and, for a full tile, its ancestors up to the
      // first already planned one, parents before children.
      const wanted = indexes.map((x) => locate(x, size));
      for (const w of wanted) {
        let k = 0;
        while (plan.slot(tileAtSize(w.tile, k, size) ?? badMath(w.tile)) === undefined) k++;
        for (k--; k >= 0; k--) {
          const p = tileAtSize(w.tile, k, size) ?? badMath(w.tile);
          if (p.width !== TILE_WIDTH) throw new Error(`merkle: bad math: tile ${tileKey(p)} needs a parent but is partial`);
          plan.add(p);
        }
      }

      // 3. Fetch every tile in one call.
      const data = await fetchTiles(readTiles, plan.tiles);

      // 4. The edge tiles must recompute the root.
      let th: Hash | null = null;
      for (let i = stx.length - 1; i >= 0; i--) {
        const s = stx[i]!;
        const h = hashFromTile(data[stxSlots[i]!]!, s.offset, s.count, hasher);
        th = th === null ? h : hasher.node(h, th);
      }
      if (th === null || !hashEqual(th, root)) {
        throw new TilelogError('MERKLE_PROOF_INVALID', `merkle: tiles do not match the root of size ${size}`);
      }

      // 5. Every other (full) tile must hash to its entry in the parent tile.
      for (let i = edgeCount; i < plan.tiles.length; i++) {
        const t = plan.tiles[i]!;
        const parent = tileAtSize(t, 1, size) ?? badMath(t);
        const j = plan.slot(parent);
        if (j === undefined) throw new Error(`merkle: bad math: parent of tile ${tileKey(t)} not planned`);
        const want = hashFromTile(data[j]!, t.index % TILE_WIDTH, 1, hasher);
        if (!hashEqual(hashFromTile(data[i]!, 0, TILE_WIDTH, hasher), want)) {
          throw new TilelogError('MERKLE_PROOF_INVALID', `merkle: tile ${t.level}/${t.index} does not match its parent tile`);
        }
      }

      // 6. Serve the hashes.
      return wanted.map((w) => hashFromTile(data[plan.slot(w.tile)!]!, w.offset, w.count, hasher));
    },
  };
}

function badMath(t: TileId): never {
  throw new Error(`merkle: bad math: no tile above ${tileKey(t)}`);
}

// unauthenticatedTileHashReader(size, readTiles, hasher, summaries): a
// HashReader that trusts the tiles. For each index it reads the tile holding
// it at its width for `size` (the full tile if that tile is full at size, else
// the partial one), each tile once per batch, in one readTiles call.
//
// With summaries (tile-summary.ts), a hash of height >= 4 in a full tile comes
// from the tile's summary instead: at most 15 node hashes instead of up to
// 255. A stored summary is used only if it hashes to the tile's own hash in
// its parent tile (read in the same batch: for a level-0 tile of a proof it is
// the level-1 tile the proof reads anyway); otherwise the summary is computed
// from the tile and handed to summaries.learned, so a missing or damaged
// record costs one computation, never a wrong hash.
export function unauthenticatedTileHashReader(
  size: number,
  readTiles: TileReader,
  hasher: Hasher = defaultHasher,
  summaries?: TileSummarySource,
): HashReader {
  assertSafeIndex('size', size);
  return {
    async readHashes(indexes: readonly number[]): Promise<Hash[]> {
      checkIndexes(size, indexes);
      if (indexes.length === 0) return [];
      const plan = new TilePlan();
      const wanted = indexes.map((x) => locate(x, size));
      const slots = wanted.map((w) => plan.add(w.tile));
      // Full tiles a summary serves (by slot), each with its parent's slot.
      const summarized = new Map<number, { tile: TileId; parentSlot: number }>();
      if (summaries !== undefined) {
        wanted.forEach((w, i) => {
          if (w.tile.width !== TILE_WIDTH || !fromSummary(w.count) || summarized.has(slots[i]!)) return;
          summarized.set(slots[i]!, { tile: w.tile, parentSlot: plan.add(tileAtSize(w.tile, 1, size) ?? badMath(w.tile)) });
        });
      }
      const wantSummaries = [...summarized.values()];
      const [data, stored] = await Promise.all([
        fetchTiles(readTiles, plan.tiles),
        wantSummaries.length === 0 ? Promise.resolve([]) : summaries!.read(wantSummaries.map((s) => ({ ...s.tile }))),
      ]);
      const bySlot = new Map<number, Uint8Array>();
      let k = 0;
      for (const [slot, s] of summarized) {
        const found = stored[k++] ?? null;
        const parent = data[s.parentSlot]!;
        if (found !== null && summaryMatchesParent(found, s.tile.index, parent, hasher)) {
          bySlot.set(slot, found);
          continue;
        }
        const computed = tileSummary(data[slot]!, hasher);
        bySlot.set(slot, computed);
        // A tile that does not match its parent is served as it is (this reader trusts tiles), but its summary is not kept.
        if (summaryMatchesParent(computed, s.tile.index, parent, hasher)) summaries!.learned({ ...s.tile }, computed, found !== null);
      }
      return wanted.map((w, i) => {
        const summary = fromSummary(w.count) ? bySlot.get(slots[i]!) : undefined;
        return summary !== undefined ? hashFromSummary(summary, w.offset, w.count, hasher) : hashFromTile(data[slots[i]!]!, w.offset, w.count, hasher);
      });
    },
  };
}
