// A bounded in-memory LRU of FULL tiles and full entry bundles, read through
// from the TileStore, so that with a remote store (S3) repeated `/tile/...`
// GETs, proofs and the log browser do not each cost a network round trip.
//
// Full objects are write-once (createIdempotent), so a cached copy never goes
// stale and nothing is invalidated. Partial tiles and bundles and the
// checkpoint are never cached: they are always read from the store. A miss
// (absent object) is not cached either: the object may appear later.
//
// Bounds: the sum of cached byte lengths stays <= maxBytes (an object larger
// than maxBytes is served but not kept); eviction drops least recently used
// first (src/lru-map.ts: O(1) per hit and per eviction). Concurrent misses of one
// path share one store read. Callers must not mutate returned bytes.
//
// Proofs (readForProof) also keep PARTIAL hash tiles, apart, in a few slots:
// every proof and tree hash at the published size reads the right edge's
// partial tiles, one per level, and reading them from the store each time
// was most of a proof's cost. Their bytes never change either (the width is
// in the path and the tree is append-only); they are kept for proofs only, so
// a public read of a partial the collector (tile-gc.ts) deleted still misses.
// At most PARTIAL_SLOTS of them (8 KiB each at most), least recently used first out.

import type { TileStore } from '../storage/tile-store.js';
import { LruMap } from '../lru-map.js';

/** Default bound of the cache: 64 MiB (8,192 full hash tiles, or 4+ full bundles of large entries). */
export const DEFAULT_TILE_CACHE_BYTES = 64 * 1024 * 1024;

/** Partial hash tiles kept for proofs: the right edge of a few recent published sizes (a level per 8 bits of size). */
const PARTIAL_SLOTS = 32;

/** True for a full tile or full bundle path (immutable); false for partials (`.p/W`) and `checkpoint`. */
export function isFullTilePath(path: string): boolean {
  return path.startsWith('tile/') && !path.includes('.p/');
}

/** True for a partial hash tile path (`tile/<L>/<N>.p/<W>`), not a partial bundle. */
function isPartialHashTilePath(path: string): boolean {
  return path.startsWith('tile/') && !path.startsWith('tile/entries/') && path.includes('.p/');
}

export class TileCache {
  readonly #maxBytes: number;
  readonly #map = new LruMap<string, Uint8Array>();
  readonly #inFlight = new Map<string, Promise<Uint8Array | null>>();
  /** Partial hash tiles for proofs, least recently used first (see the header). */
  readonly #partials = new LruMap<string, Uint8Array>();
  #bytes = 0;
  readonly counters = { hits: 0, misses: 0 };

  /** maxBytes: the bound on cached bytes; 0 disables caching. */
  constructor(maxBytes = DEFAULT_TILE_CACHE_BYTES) {
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) throw new RangeError(`tile cache: maxBytes must be an integer >= 0, got ${maxBytes}`);
    this.#maxBytes = maxBytes;
  }

  /** Bytes held now (<= maxBytes). */
  get bytes(): number {
    return this.#bytes;
  }

  /** path's bytes if they are cached now (a hit, counted), else undefined; never reads the store. */
  cached(path: string): Uint8Array | undefined {
    const hit = this.#map.get(path);
    if (hit === undefined) return undefined;
    this.counters.hits++;
    return hit;
  }

  /** path's bytes from store, through the cache when path is a full tile or bundle; null when absent. */
  read(store: Pick<TileStore, 'read'>, path: string): Promise<Uint8Array | null> {
    if (this.#maxBytes === 0 || !isFullTilePath(path)) return store.read(path);
    const hit = this.cached(path);
    if (hit !== undefined) return Promise.resolve(hit);
    const pending = this.#inFlight.get(path);
    if (pending !== undefined) return pending;
    this.counters.misses++;
    const read = store.read(path).then((data) => {
      if (data !== null) this.#keep(path, data);
      return data;
    });
    this.#inFlight.set(path, read);
    const forget = (): void => void this.#inFlight.delete(path);
    read.then(forget, forget);
    return read;
  }

  /**
   * Like read(), and a partial hash tile (`tile/<L>/<N>.p/<W>`, never an entry
   * bundle) is kept in the proof slots (see the header). For the engine's proofs.
   */
  readForProof(store: TileStore, path: string): Promise<Uint8Array | null> {
    if (this.#maxBytes === 0 || !isPartialHashTilePath(path)) return this.read(store, path);
    const hit = this.#partials.get(path);
    if (hit !== undefined) {
      this.counters.hits++;
      return Promise.resolve(hit);
    }
    this.counters.misses++;
    return store.read(path).then((data) => {
      if (data !== null && !this.#partials.has(path)) {
        this.#partials.set(path, data);
        if (this.#partials.size > PARTIAL_SLOTS) this.#partials.shift();
      }
      return data;
    });
  }

  #keep(path: string, data: Uint8Array): void {
    if (data.length > this.#maxBytes || this.#map.has(path)) return;
    this.#map.set(path, data);
    this.#bytes += data.length;
    while (this.#bytes > this.#maxBytes) {
      const [, old] = this.#map.shift()!;
      this.#bytes -= old.length;
    }
  }
}
