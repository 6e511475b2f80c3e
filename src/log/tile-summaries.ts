// The log's tile summaries (merkle/tile-summary.ts) over a TileSummaryStore:
//   - written as the integrator writes full hash tiles (tilesWritten: 240
//     node hashes per full tile, about one per entry), after the tiles;
//   - read by the proof reader, which checks each against the parent tile
//     and hands back the ones it had to compute (a log older than its
//     summaries, a record lost in a crash): the store fills itself in.
//   - filled in at open for a log made before them (backfill), in the
//     background, a tile per turn of the event loop.
// Nothing here fails a proof or a checkpoint: a store error is reported once
// through the logger, counted, and the reader computes from the tile.

import type { TileWrite } from '../merkle/edge.js';
import type { Hasher } from '../merkle/hash.js';
import { HASH_SIZE } from '../merkle/hash.js';
import { ENTRIES_LEVEL, hashesAtLevel, TILE_WIDTH, tileWidthAt, type TileId } from '../merkle/layout.js';
import { summaryMatchesParent, tileSummary, type TileSummarySource } from '../merkle/tile-summary.js';
import type { TileSummaryStore } from '../storage/tile-summary-store.js';
import type { LogLogger } from './options.js';

/** Stored records read per step of the backfill's scan. */
const SCAN_BATCH = 256;
/** Yields to the event loop: requests go first. */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class TileSummaries {
  readonly #store: TileSummaryStore;
  readonly #hasher: Hasher;
  readonly #logger: LogLogger;
  #warned = false;
  readonly counters = { written: 0, learned: 0, replaced: 0, failures: 0, backfilled: 0 };

  constructor(store: TileSummaryStore, hasher: Hasher, logger: LogLogger) {
    this.#store = store;
    this.#hasher = hasher;
    this.#logger = logger;
  }

  /** The reader's view: stored summaries in, computed ones back to the store. */
  readonly source: TileSummarySource = {
    read: (tiles) =>
      this.#store.read(tiles).catch((err: unknown) => {
        this.#failed('read', err);
        return tiles.map(() => null);
      }),
    learned: (tile, summary, replaced) => {
      this.counters.learned++;
      if (replaced) this.counters.replaced++;
      this.#write(tile, summary);
    },
  };

  /** Summaries of the full hash tiles among writes (tiles already written). */
  tilesWritten(writes: readonly TileWrite[]): void {
    for (const w of writes) {
      if (w.tile.level === ENTRIES_LEVEL || w.tile.width !== TILE_WIDTH) continue;
      this.counters.written++;
      this.#write(w.tile, tileSummary(w.data, this.#hasher));
    }
  }

  /**
   * Fills in the summaries the full hash tiles of a tree of `size` lack (a
   * log made before summaries, records lost in a crash), in the background:
   * one tile per turn of the event loop, each read through readTile and kept
   * only if it matches its parent tile (a damaged tile is left to the
   * repair tools). Progress goes to the logger every progressMs. Stops at
   * signal; a later open goes on where this one stopped.
   */
  async backfill(size: number, readTile: (t: TileId) => Promise<Uint8Array | null>, signal: AbortSignal, progressMs = 10_000): Promise<void> {
    const missing: TileId[] = [];
    for (let level = 0; hashesAtLevel(level, size) >= TILE_WIDTH; level++) {
      const full = Math.floor(hashesAtLevel(level, size) / TILE_WIDTH);
      for (let start = 0; start < full; start += SCAN_BATCH) {
        if (signal.aborted) return;
        const tiles = Array.from({ length: Math.min(SCAN_BATCH, full - start) }, (_, k) => ({ level, index: start + k, width: TILE_WIDTH }));
        const stored = await this.source.read(tiles);
        tiles.forEach((t, k) => stored[k] === null && missing.push(t));
        await turn();
      }
    }
    if (missing.length === 0) return;
    const t0 = performance.now();
    let lastReport = t0;
    this.#logger.info(`tile summaries: filling in ${missing.length} of them (proofs about those tiles hash more until then)`);
    // Up to 256 tiles in a row share a parent: it is read once for them.
    let parentKey = '';
    let parent: Promise<Uint8Array | null> = Promise.resolve(null);
    for (const t of missing) {
      if (signal.aborted) return;
      const p = { level: t.level + 1, index: Math.floor(t.index / TILE_WIDTH) };
      if (parentKey !== `${p.level}/${p.index}`) {
        parentKey = `${p.level}/${p.index}`;
        parent = readTile({ ...p, width: tileWidthAt(p.level, p.index, size) });
      }
      const [data, parentData] = await Promise.all([readTile(t), parent]);
      if (data !== null && parentData !== null && data.length === TILE_WIDTH * HASH_SIZE) {
        const summary = tileSummary(data, this.#hasher);
        if (summaryMatchesParent(summary, t.index, parentData, this.#hasher)) {
          this.counters.backfilled++;
          this.#write(t, summary);
        }
      }
      if (performance.now() - lastReport >= progressMs) {
        lastReport = performance.now();
        this.#logger.info(`tile summaries: ${this.counters.backfilled} of ${missing.length} filled in`);
      }
      await turn();
    }
    this.#logger.info(`tile summaries: ${this.counters.backfilled} of ${missing.length} filled in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }

  #write(tile: TileId, summary: Uint8Array): void {
    this.#store.write({ level: tile.level, index: tile.index }, summary).catch((err: unknown) => this.#failed('write', err));
  }

  #failed(what: 'read' | 'write', err: unknown): void {
    this.counters.failures++;
    if (this.#warned) return;
    this.#warned = true;
    this.#logger.warn(`log: could not ${what} a tile summary (${err instanceof Error ? err.message : String(err)}); proofs compute them from the tiles, slower. Further failures are only counted`);
  }
}
