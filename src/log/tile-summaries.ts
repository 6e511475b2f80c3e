// The log's tile summaries (merkle/tile-summary.ts) over a TileSummaryStore:
//   - written as the integrator writes full hash tiles (tilesWritten: 240
//     node hashes per full tile, about one per entry), after the tiles;
//   - read by the proof reader, which checks each against the parent tile
//     and hands back the ones it had to compute (a log older than its
//     summaries, a record lost in a crash): the store fills itself in.
// Nothing here fails a proof or a checkpoint: a store error is reported once
// through the logger, counted, and the reader computes from the tile.

import type { TileWrite } from '../merkle/edge.js';
import type { Hasher } from '../merkle/hash.js';
import { ENTRIES_LEVEL, TILE_WIDTH, type TileId } from '../merkle/layout.js';
import { tileSummary, type TileSummarySource } from '../merkle/tile-summary.js';
import type { TileSummaryStore } from '../storage/tile-summary-store.js';
import type { LogLogger } from './options.js';

export class TileSummaries {
  readonly #store: TileSummaryStore;
  readonly #hasher: Hasher;
  readonly #logger: LogLogger;
  #warned = false;
  readonly counters = { written: 0, learned: 0, replaced: 0, failures: 0 };

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
