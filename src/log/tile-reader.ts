// The engine's own reader of stored hashes, served from its trusted tiles
// through the merkle module's unauthenticated tile hash reader (the server
// wrote these tiles itself; clients use the authenticated reader).
//
// Proofs for any size s <= the published size P read tiles at their width for
// P: every stored hash of a tree of size s is also one of the tree of size P
// (the tree is append-only), and all tiles of size P exist before P is
// published. Tile paths are immutable (a partial tile's width is in its path),
// so a small LRU cache of tile bytes is safe.

import { TilelogError } from '../errors.js';
import { HASH_SIZE, type Hasher } from '../merkle/hash.js';
import { TILE_WIDTH, tilePath, tileWidthAt, type TileId } from '../merkle/layout.js';
import { unauthenticatedTileHashReader } from '../merkle/tilehash.js';
import type { HashReader } from '../merkle/tree.js';
import type { TileStore } from '../storage/tile-store.js';

/** A bounded cache of tile bytes by path (an insertion-ordered Map as an LRU). */
export class TileCache {
  readonly #max: number;
  readonly #map = new Map<string, Uint8Array>();

  constructor(max = 256) {
    this.#max = max;
  }

  get(path: string): Uint8Array | undefined {
    const v = this.#map.get(path);
    if (v !== undefined) {
      this.#map.delete(path);
      this.#map.set(path, v);
    }
    return v;
  }

  set(path: string, data: Uint8Array): void {
    this.#map.set(path, data);
    if (this.#map.size > this.#max) this.#map.delete(this.#map.keys().next().value!);
  }
}

/** A HashReader over the tiles of the published size; widerSize: a size whose tiles exist now (the current published one). */
export function publishedHashReader(
  publishedSize: number,
  store: TileStore,
  hasher: Hasher,
  cache: TileCache,
  widerSize?: () => number,
): HashReader {
  const readTile = async (t: TileId): Promise<Uint8Array> => {
    const path = tilePath(t);
    const cached = cache.get(path);
    if (cached !== undefined) return cached;
    let data = await store.read(path);
    if (data === null && t.width < TILE_WIDTH && widerSize !== undefined) data = await readWider(store, t, widerSize());
    if (data === null || data.length !== t.width * HASH_SIZE) {
      throw new TilelogError(
        'LOG_CORRUPT',
        `log: tile ${path} is ${data === null ? 'missing' : `${data.length} bytes`}; restart the log to repair it`,
      );
    }
    cache.set(path, data);
    return data;
  };
  return unauthenticatedTileHashReader(publishedSize, (tiles) => Promise.all(tiles.map(readTile)), hasher);
}

// readWider(t): the first t.width hashes of tile t read at a wider width:
// the full tile, else the tile's width in a tree of `size`; null if neither.
async function readWider(store: TileStore, t: TileId, size: number): Promise<Uint8Array | null> {
  for (const width of [TILE_WIDTH, tileWidthAt(t.level, t.index, size)]) {
    if (width <= t.width) continue;
    const data = await store.read(tilePath({ ...t, width }));
    if (data !== null && data.length === width * HASH_SIZE) return data.subarray(0, t.width * HASH_SIZE);
  }
  return null;
}
