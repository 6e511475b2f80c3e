// The partial-tile collector: deletes partial hash tiles and bundles (`.p/W`)
// that no reader needs any more, so the public tree's size stays linear in
// the entries whatever the add pattern (without it, one add per checkpoint
// leaves 1 + 2 + ... + 255 entries of partial bundles per full bundle).
//
// What may go (C2SP tlog-tiles lets a log delete partials; a client that
// gets a 404 falls back to the full tile): the partials of a checkpoint s in
// the store's signed history once
//   - s is not pinned: not the public checkpoint, not the newest signed one,
//     not one the cosigner may still publish or prove against (pinnedSizes);
//   - s stopped being the public checkpoint more than graceMs ago (in memory:
//     published()), and the checkpoint after s was signed more than graceMs
//     ago (a client that read s just before it was replaced has that long to
//     fetch its tiles);
//   - and the path is not also a partial of a size that stays: a partial of s
//     at level L is one of t > s exactly when the level's hash count is the
//     same at both, and hash counts only grow, so comparing with the first
//     size that stays (the boundary G) covers every later size, the ones
//     still being written included. Every path deleted therefore has a wider
//     partial or the full tile at G, which exists (tiles precede commits).
// Tiles written by a pass that failed before its commit (abandoned sizes,
// abandoned()) go the same way; after a crash they are not known and stay.
//
// One run, in order:
//   1. read checkpoints from the scan position (the durable cursor at start),
//      at most BATCH, and find the boundary G (the first that must stay);
//   2. delete the collectable partials (idempotent: absent is fine);
//   3. only then move the durable cursor: to G, or to the smallest size
//      skipped because it was pinned or recently public (it is collected
//      later, when it is no longer held).
// A crash (SIGKILL) anywhere leaves the cursor where the last completed run
// put it: the next run repeats the deletes it had not recorded, and nothing a
// reader needs was deleted, since step 2 only deletes what may go.
// Runs happen in the background every intervalMs, never on the publish path,
// and only while this process leads: the cursor write is fenced, and a
// 'lost' answer stops the collector (the next leader runs its own).

import type { TileId } from '../merkle/layout.js';
import { ENTRIES_LEVEL, hashesAtLevel, partialTiles, tilePath } from '../merkle/layout.js';
import { HASH_SIZE } from '../merkle/hash.js';
import type { Fence, SequenceStore, TreeStateStore } from '../storage/log-store.js';
import type { CheckpointRecord } from '../storage/sequence-db.js';
import type { TileStore } from '../storage/tile-store.js';
import type { LogLogger } from './options.js';

export interface TileGcConfig {
  store: SequenceStore & TreeStateStore;
  /** The leadership's fence, carried by the cursor write. */
  fence: Fence;
  tiles: TileStore;
  /** How long a replaced checkpoint's partials stay (see the header). */
  graceMs: number;
  /** Time between background runs. */
  intervalMs: number;
  logger: LogLogger;
  /** Sizes whose partials must stay now; the largest is the newest signed size. */
  pinnedSizes(): number[];
  /** A run failed (an I/O error); the next run retries. */
  onFailure?(err: unknown): void;
  /** A run deleted objects or moved the cursor (its writes succeeded). */
  onSuccess?(): void;
  now?: () => number;
}

export interface TileGcRun {
  /** Partial tiles and bundles deleted (or already gone after a restart). */
  objects: number;
  /** Their bytes: hash tiles 32·W, bundles the entries plus 2-byte prefixes. */
  bytes: number;
  /** More history is waiting (the run stopped at BATCH checkpoints). */
  more: boolean;
}

export interface TileGcCounters {
  runs: number;
  failedRuns: number;
  deletedObjects: number;
  deletedBytes: number;
}

/** Checkpoints examined per run. */
const BATCH = 1024;
/** Deletes in flight at once. */
const CONCURRENCY = 8;

// collectableCount(records, signedSize, nowMs, graceMs): how many leading
// records may be collected: record i may when the next record exists, was
// signed at or before nowMs − graceMs (a NULL time is old), and record i is
// below the signed size. Records are in ascending size order.
export function collectableCount(records: readonly CheckpointRecord[], signedSize: number, nowMs: number, graceMs: number): number {
  let n = 0;
  while (n + 1 < records.length && records[n]!.size < signedSize && (records[n + 1]!.time ?? 0) <= nowMs - graceMs) n++;
  return n;
}

// collectablePartials(collect, keep): the partial tiles of the sizes in
// collect that are not partials of any size in keep (deduplicated).
export function collectablePartials(collect: Iterable<number>, keep: Iterable<number>): TileId[] {
  const kept = new Set<string>();
  for (const size of keep) for (const t of partialTiles(size)) kept.add(tilePath(t));
  const out = new Map<string, TileId>();
  for (const size of collect) {
    for (const t of partialTiles(size)) {
      const p = tilePath(t);
      if (!kept.has(p)) out.set(p, t);
    }
  }
  return [...out.values()];
}

export class TileGc {
  readonly #cfg: TileGcConfig;
  readonly #now: () => number;
  /** History below this size has been processed in this process (null: start at the durable cursor). */
  #scanFrom: number | null = null;
  /** History sizes below #scanFrom skipped because they were held; collected once released. */
  #deferred = new Set<number>();
  /** Former public sizes and when their grace ends. */
  #recentPublic: { size: number; untilMs: number }[] = [];
  #lastPublic: number;
  /** Sizes of failed passes whose tiles may exist. */
  #abandoned = new Set<number>();
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #closed = false;
  readonly counters: TileGcCounters = { runs: 0, failedRuns: 0, deletedObjects: 0, deletedBytes: 0 };

  constructor(cfg: TileGcConfig, publishedSize: number) {
    this.#cfg = cfg;
    this.#now = cfg.now ?? Date.now;
    this.#lastPublic = publishedSize;
  }

  /** The public checkpoint moved to size: the one before it keeps its partials for graceMs. */
  published(size: number): void {
    if (size === this.#lastPublic) return;
    this.#recentPublic.push({ size: this.#lastPublic, untilMs: this.#now() + this.#cfg.graceMs });
    this.#lastPublic = size;
  }

  /** A checkpoint pass for size wrote tiles but did not commit. */
  abandoned(size: number): void {
    this.#abandoned.add(size);
  }

  start(): void {
    if (this.#timer !== null || this.#closed) return;
    this.#timer = setInterval(() => void this.#tick(), this.#cfg.intervalMs);
    this.#timer.unref();
  }

  /** Stop the background runs; waits for a run in progress. */
  async close(): Promise<void> {
    this.#stop();
    await this.#running;
  }

  #stop(): void {
    this.#closed = true;
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** Runs until no collectable history is left (serialized with background runs). */
  async collect(): Promise<TileGcRun> {
    while (this.#running !== null) await this.#running;
    const all = this.#collectAll();
    this.#running = all.then(
      () => undefined,
      () => undefined,
    );
    try {
      return await all;
    } finally {
      this.#running = null;
    }
  }

  async #collectAll(): Promise<TileGcRun> {
    const total: TileGcRun = { objects: 0, bytes: 0, more: false };
    for (;;) {
      const r = await this.#runOnce();
      total.objects += r.objects;
      total.bytes += r.bytes;
      if (!r.more || this.#closed) return total;
      // A long backlog (a first run over an old log): say how far it got.
      this.#cfg.logger.info(`collecting old partial tiles: history up to size ${this.#scanFrom}, ${total.objects} deleted so far`);
    }
  }

  async #tick(): Promise<void> {
    if (this.#running !== null || this.#closed) return;
    try {
      await this.collect();
    } catch (err) {
      this.#cfg.logger.warn('deleting old partial tiles failed; retrying later', err);
    }
  }

  // #runOnce: steps 1-3 of the header.
  async #runOnce(): Promise<TileGcRun> {
    const { store, tiles, graceMs } = this.#cfg;
    this.counters.runs++;
    try {
      const now = this.#now();
      this.#recentPublic = this.#recentPublic.filter((r) => r.untilMs > now);
      const pinned = this.#cfg.pinnedSizes();
      const signed = Math.max(0, ...pinned);
      const held = new Set<number>([...pinned, this.#lastPublic, ...this.#recentPublic.map((r) => r.size)]);

      // 1. The history from the scan position, and the boundary.
      const from = this.#scanFrom ?? (await store.gcCursor());
      const records = await store.checkpointsFrom(from, BATCH + 1);
      const n = collectableCount(records, signed, now, graceMs);
      const boundary = n < records.length ? records[n]!.size : Math.max(from, signed);
      const collect: number[] = [];
      const deferred = new Set<number>();
      const consider = (size: number): void => {
        if (held.has(size)) deferred.add(size);
        else collect.push(size);
      };
      for (let k = 0; k < n; k++) consider(records[k]!.size);
      for (const size of this.#deferred) {
        if (size < boundary) consider(size);
        else deferred.add(size);
      }
      const abandoned = [...this.#abandoned].filter((s) => s < boundary && !held.has(s));

      // 2. Delete what may go.
      const doomed = collectablePartials([...collect, ...abandoned], [...held, boundary]);
      const bytes = await this.#delete(doomed, tiles, store);

      // 3. Record progress: in memory, then the durable cursor.
      this.#scanFrom = Math.max(from, boundary);
      this.#deferred = deferred;
      for (const s of abandoned) this.#abandoned.delete(s);
      const cursor = Math.min(this.#scanFrom, ...deferred);
      if (cursor > (await store.gcCursor()) && (await store.setGcCursor(this.#cfg.fence, cursor)) === 'lost') {
        this.#cfg.logger.info('the partial-tile collector stops: another process leads this log now');
        this.#stop();
      }
      this.counters.deletedObjects += doomed.length;
      this.counters.deletedBytes += bytes;
      if (doomed.length > 0) this.#cfg.onSuccess?.();
      return { objects: doomed.length, bytes, more: n === BATCH };
    } catch (err) {
      this.counters.failedRuns++;
      this.#cfg.onFailure?.(err);
      throw err;
    }
  }

  // #delete: every tile in doomed, CONCURRENCY at once; their bytes (the
  // bundles' from the entries they hold). Rejects with the first failure.
  async #delete(doomed: readonly TileId[], tiles: TileStore, store: SequenceStore): Promise<number> {
    let bytes = 0;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < doomed.length) {
        const t = doomed[next++]!;
        await tiles.delete(tilePath(t));
        bytes += await objectBytes(t, store);
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, doomed.length) }, worker));
    return bytes;
  }
}

// objectBytes(t): 32·W for a hash tile; for a bundle, its W entries plus a
// 2-byte length prefix each.
async function objectBytes(t: TileId, store: SequenceStore): Promise<number> {
  if (t.level !== ENTRIES_LEVEL) return t.width * HASH_SIZE;
  const start = t.index * 256;
  return (await store.entryBytes(start, start + t.width)) + 2 * t.width;
}

// minimalTreeBytes(size, entryBytes): the bytes a public tree of `size`
// entries needs at the least: the entries (entryBytes in total) with their
// 2-byte length prefixes, plus 32 bytes for each hash in the hash tiles,
// Σ_{L>=0} floor(size / 256^L) of them. The collector keeps the tree within
// 1.5x of this (plus the grace window's partials) whatever the add pattern.
export function minimalTreeBytes(size: number, entryBytes: number): number {
  let hashes = 0;
  for (let level = 0; hashesAtLevel(level, size) > 0; level++) hashes += hashesAtLevel(level, size);
  return entryBytes + 2 * size + HASH_SIZE * hashes;
}
