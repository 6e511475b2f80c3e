// openFileLog: the embedded default, a log on a SQLite database (through
// SqliteLogStore, which is also its always-held lease; or, with sqliteWorker,
// SqliteWorkerStore: the same database in a worker thread) in a state
// directory and plain files in a tiles directory (or, given `tileStore`, any
// other TileStore such as a bucket). It owns what is specific to directories:
// their modes, the state directory's lock (one open per state directory,
// across processes and within one), disk probes, and a foreign-tiles refusal
// phrased with the directory (or bucket) names, and the tile summaries
// proofs use (`<stateDir>/tile-summaries/`, storage/tile-summary-store.ts).

import * as nodePath from 'node:path';
import { TilelogError } from '../errors.js';
import { probeWritable } from '../storage/dir-probe.js';
import { FileTileStore, TILE_DIR_MODE } from '../storage/file-tile-store.js';
import { makeDirSync, STATE_DIR_MODE } from '../storage/make-dir.js';
import { SqliteLogStore } from '../storage/sqlite-log-store.js';
import { SqliteSequenceDB } from '../storage/sqlite-sequence-db.js';
import { SqliteWorkerStore } from '../storage/sqlite-worker-store.js';
import type { LeaderLease, SequenceStore, TreeStateStore } from '../storage/log-store.js';
import { takeStateLock } from '../storage/state-lock.js';
import type { TileStore } from '../storage/tile-store.js';
import { FileTileSummaryStore } from '../storage/tile-summary-store.js';
import { Log } from './log.js';
import { stderrLogger, type LogOptions } from './options.js';
import { ForeignTilesError } from './recover.js';

export interface FileLogOptions extends Omit<LogOptions, 'db' | 'store' | 'lease' | 'tiles'> {
  /** Directory for the state database (`<stateDir>/log.db`), created (0700) if needed and locked while open. */
  stateDir: string;
  /** Root of the public tiles (`checkpoint`, `tile/...`), created (0755) if needed. Ignored when tileStore is given. */
  tilesDir?: string;
  /** The public tree in another store (an S3 bucket); the caller owns it. */
  tileStore?: TileStore;
  /**
   * Run the SQLite database in a worker thread (SqliteWorkerStore), so a
   * batch's COMMIT and fsync block that thread instead of this one's event
   * loop. Same guarantees; costs a message hop per store call. Default false.
   */
  sqliteWorker?: boolean;
}

/** The lock file in stateDir held while a log is open on it (storage/state-lock.ts). */
export const LOG_LOCK_FILE = 'log.lock';
/** The directory in stateDir of the tile summaries (storage/tile-summary-store.ts), unless the caller gives a store. */
export const TILE_SUMMARIES_DIR = 'tile-summaries';

/**
 * Open a log on a SQLite database in stateDir and plain files in tilesDir;
 * close() closes the database. One open per stateDir at a time, across
 * processes and within this one: a second is refused (STORAGE_LOCKED) before
 * anything is written.
 */
export async function openFileLog(opts: FileLogOptions): Promise<Log> {
  const { stateDir, tilesDir, tileStore, sqliteWorker = false, ...rest } = opts;
  if (tileStore === undefined && tilesDir === undefined) {
    throw new TilelogError('LOG_CONFIG', 'log: give a tiles directory (tilesDir) or a tile store (tileStore)');
  }
  makeDirSync(stateDir, STATE_DIR_MODE);
  const lock = takeStateLock(nodePath.join(stateDir, LOG_LOCK_FILE));
  if ('heldBy' in lock) throw lockedError(stateDir, lock.heldBy);
  let store: (SequenceStore & TreeStateStore & LeaderLease & { close(): Promise<void> }) | null = null;
  let summaries: FileTileSummaryStore | null = null;
  try {
    if (tileStore === undefined && tilesDir !== undefined) makeDirSync(tilesDir, TILE_DIR_MODE);
    const dbPath = nodePath.join(stateDir, 'log.db');
    // The state lock makes this process the only one on the database: the SQLite lease is always held.
    store = sqliteWorker
      ? await SqliteWorkerStore.open(dbPath, { origin: opts.origin })
      : new SqliteLogStore(new SqliteSequenceDB(dbPath, { origin: opts.origin }));
    const logger = rest.logger ?? stderrLogger;
    const tiles =
      tileStore ??
      new FileTileStore(tilesDir as string, {
        onRefused: (path, reason) => logger.warn(`refused to serve ${path} from ${tilesDir}: ${reason} (tampering? remove it)`),
      });
    // A bucket has no local disk to probe: its own errors (retried, then
    // STORAGE_UNAVAILABLE) tell the health tracker when it refuses writes.
    const tilesProbe = tileStore === undefined ? { tiles: () => probeWritable(tilesDir as string) } : {};
    const storageProbes = { state: () => probeWritable(stateDir), ...tilesProbe, ...rest.storageProbes };
    const opened = store;
    summaries = rest.tileSummaries === undefined ? new FileTileSummaryStore(nodePath.join(stateDir, TILE_SUMMARIES_DIR)) : null;
    const ownSummaries = summaries;
    // Filled in at open from a tiles directory (a bucket would pay a GET per tile: its proofs fill them in).
    const backfillTileSummaries = rest.backfillTileSummaries ?? (ownSummaries !== null && tileStore === undefined);
    return await Log.open({ ...rest, store, lease: store, tiles, storageProbes, backfillTileSummaries, ...(ownSummaries !== null && { tileSummaries: ownSummaries }) }, async () => {
      // The lock goes only once the database is closed (the worker's too): then another open may start.
      try {
        await ownSummaries?.close().catch(() => undefined); // derived data: never in the way of closing the database
        await opened.close();
      } finally {
        lock.release();
      }
    });
  } catch (err) {
    await summaries?.close();
    await store?.close();
    lock.release();
    if (err instanceof ForeignTilesError) {
      const tilesWhere = tileStore?.description ?? `the tiles directory ${tilesDir}`;
      const where = ForeignTilesError.describe(err.found, err.ours, tilesWhere, `the state directory ${stateDir}`);
      throw new TilelogError('LOG_FOREIGN_TILES', where, { cause: err });
    }
    throw err;
  }
}

function lockedError(stateDir: string, pid: number | null): TilelogError {
  const who = pid === null ? 'another process' : pid === process.pid ? `this process (pid ${pid}, a log already open on it)` : `process ${pid}`;
  return new TilelogError(
    'STORAGE_LOCKED',
    `log: the state directory ${stateDir} is in use by ${who}; one log process per state directory. ` +
      `Stop that process first (kill ${pid ?? '<pid>'}), or use another --state`,
  );
}
