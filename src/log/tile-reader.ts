// The engine's own reader of stored hashes, served from its trusted tiles
// through the merkle module's unauthenticated tile hash reader (the server
// wrote these tiles itself; clients use the authenticated reader).
//
// Proofs for any size s <= the published size P read tiles at their width for
// P: every stored hash of a tree of size s is also one of the tree of size P
// (the tree is append-only), and all tiles of size P exist before P is
// published. Tiles are read through the log's TileCache (tile-cache.ts):
// full ones in its LRU, partial ones in its few proof slots (both immutable).

import { TilelogError } from '../errors.js';
import { HASH_SIZE, type Hasher } from '../merkle/hash.js';
import { TILE_WIDTH, tilePath, tileWidthAt, type TileId } from '../merkle/layout.js';
import { unauthenticatedTileHashReader } from '../merkle/tilehash.js';
import type { TileSummarySource } from '../merkle/tile-summary.js';
import type { HashReader } from '../merkle/tree.js';
import type { TileStore } from '../storage/tile-store.js';
import type { TileCache } from './tile-cache.js';

export { TileCache } from './tile-cache.js';

/** A HashReader over the tiles of the published size; widerSize: a size whose tiles exist now (the current published one). */
export function publishedHashReader(
  publishedSize: number,
  store: TileStore,
  hasher: Hasher,
  cache: TileCache,
  widerSize?: () => number,
  summaries?: TileSummarySource,
): HashReader {
  const readTile = async (t: TileId): Promise<Uint8Array> => {
    const path = tilePath(t);
    let data = await cache.readForProof(store, path);
    if (data === null && t.width < TILE_WIDTH && widerSize !== undefined) data = await readWider(store, cache, t, widerSize());
    if (data === null || data.length !== t.width * HASH_SIZE) {
      throw new TilelogError(
        'LOG_CORRUPT',
        `log: tile ${path} is ${data === null ? 'missing' : `${data.length} bytes`}; restart the log to repair it`,
      );
    }
    return data;
  };
  return unauthenticatedTileHashReader(publishedSize, (tiles) => Promise.all(tiles.map(readTile)), hasher, summaries);
}

// readWider(t): the first t.width hashes of tile t read at a wider width:
// the full tile, else the tile's width in a tree of `size`; null if neither.
async function readWider(store: TileStore, cache: TileCache, t: TileId, size: number): Promise<Uint8Array | null> {
  for (const width of [TILE_WIDTH, tileWidthAt(t.level, t.index, size)]) {
    if (width <= t.width) continue;
    const data = await cache.readForProof(store, tilePath({ ...t, width }));
    if (data !== null && data.length === width * HASH_SIZE) return data.subarray(0, t.width * HASH_SIZE);
  }
  return null;
}
