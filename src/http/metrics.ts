// Prometheus metrics for one log app: a prom-client Registry per app (never
// the global default), so several logs in one process do not collide.
// Almost everything is read at scrape time (collect callbacks over
// Log.stats() and the request counts); the histograms are fed by LogObserver
// events, once per batch, checkpoint or witness answer, never per add.
//
//   tilelog_tree_size                      gauge     size of the public checkpoint
//   tilelog_signed_tree_size               gauge     size integrated and signed (ahead while witnesses cosign)
//   tilelog_entries_sequenced_total        counter   durable entries (the log's size; includes earlier runs)
//   tilelog_entries_integrated_total       counter   entries in the signed tree (includes earlier runs)
//   tilelog_entries_deduplicated_total     counter   adds answered with an earlier index since start
//   tilelog_pending_entries                gauge     submissions waiting in the pool
//   tilelog_batches_total{result}          counter   sequencing transactions: ok | failed
//   tilelog_checkpoint_passes_total{result} counter  checkpoints signed: ok | failed
//   tilelog_batch_size                     histogram entries per durable batch
//   tilelog_add_duration_seconds           histogram per batch: first submission to COMMIT (the batch's slowest add)
//   tilelog_time_to_checkpoint_seconds     histogram per batch: COMMIT to the public checkpoint covering it
//   tilelog_checkpoint_age_seconds         gauge     since the public checkpoint was last written (or the log opened)
//   tilelog_leader                         gauge     1 while this process signs (holds the lease), 0 while a candidate or frontend
//   tilelog_leader_terms_total             counter   terms of leadership this process started (each runs recovery)
//   tilelog_log_stopped                    gauge     1 once the log stopped fatally
//   tilelog_publication_stopped{reason}    gauge     1 for the reason this process stopped publishing: superseded
//                                                    (another writer ahead or forked), foreign (another log's checkpoint),
//                                                    corrupt (the checkpoint vanished), tile_conflict (a tile with other bytes)
//   tilelog_checkpoint_reconciled_total    counter   checkpoint writes refused (another version in the store: an older one
//                                                    of this log), reconciled and retried; > 0 means a second writer
//   tilelog_tile_cache_reads_total{result} counter   full tiles and bundles read: hit (memory) | miss (the store)
//   tilelog_tile_cache_bytes               gauge     bytes the tile cache holds (at most 64 MiB: tile-cache.ts)
//   tilelog_tile_summaries_total{event}    counter   tile summaries (tile-summaries.ts): written (with new tiles), learned
//                                                    (computed by a proof: none stored), replaced (a stored one failed its
//                                                    check against the parent tile: damage), failed (store calls),
//                                                    backfilled (filled in at open: a log older than them)
//   tilelog_storage_writable{store}        gauge     1 while the store (state | tiles) takes writes, 0 while the disk refuses them
//   tilelog_storage_failures_total         counter   writes refused for a disk reason (ENOSPC, EIO, EDQUOT, EROFS, SQLITE_FULL/IOERR)
//   tilelog_partial_gc_runs_total{result}  counter   partial-tile collector runs: ok | failed
//   tilelog_partial_gc_deleted_objects_total counter partial tiles and bundles deleted
//   tilelog_partial_gc_deleted_bytes_total counter   their bytes
//   tilelog_witness_cosign_duration_seconds{witness}   histogram  add-checkpoint round trips
//   tilelog_witness_requests_total{witness,result}     counter    cosigned, conflict, incident, misconfigured,
//                                                                 refused, bad_response, server_error, timeout, unreachable
//   tilelog_http_requests_total{method,route,status}   counter    route is the pattern, e.g. /v1/log/entry/:index
//   tilelog_rate_limited_total{route}                  counter    answers with status 429 (the registry's limits)

import type { Context } from 'hono';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { CACHE_NONE } from './cache.js';
import { markPrivate } from './cors.js';
import { PUBLICATION_STOP_REASONS, type LogObserver, type LogStats } from '../log/index.js';
import type { LogApi } from './log-api.js';
import { RequestCounts } from './observe.js';

/**
 * What metrics read from the log beyond LogApi; src/log's Log has all of it.
 * Only the witness names and counters of the stats are read, so stub logs in
 * tests need not build a whole CosignerStatus.
 */
export interface ObservableLog extends LogApi {
  stats(): Omit<LogStats, 'repairedAtOpen' | 'refusedReads' | 'witnesses' | 'storage' | 'gc' | 'leader'> & {
    witnesses: { witnesses: { name: string; counters: object }[] } | null;
    refusedReads?: number;
  } & Partial<Pick<LogStats, 'storage' | 'gc' | 'publication' | 'tileCache' | 'tileSummaries' | 'leader'>>;
  observe(o: LogObserver): () => void;
  checkpointAgeMs(): number;
}

export function isObservable(log: LogApi): log is ObservableLog {
  const l = log as Partial<ObservableLog>;
  return typeof l.stats === 'function' && typeof l.observe === 'function' && typeof l.checkpointAgeMs === 'function';
}

/** Seconds: 1 ms .. 30 s. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 16384];
/** WitnessCounters field -> result label (requests = the sum, not a result). */
const WITNESS_RESULTS: Record<string, string> = {
  cosigned: 'cosigned',
  conflicts: 'conflict',
  incidents: 'incident',
  misconfigured: 'misconfigured',
  refused: 'refused',
  badResponses: 'bad_response',
  serverErrors: 'server_error',
  timeouts: 'timeout',
  unreachable: 'unreachable',
};

export interface AppMetrics {
  readonly registry: Registry;
  readonly requests: RequestCounts;
  /** Stop listening to the log (the registry stays readable). */
  detach(): void;
}

/** HTTP request and rate-limit counters, read from counts at scrape time. */
export function registerHttpMetrics(registry: Registry, counts: RequestCounts, prefix = 'tilelog'): void {
  new Counter({
    name: `${prefix}_http_requests_total`,
    help: 'HTTP requests by method, route pattern and status.',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
    collect() {
      this.reset();
      for (const e of counts.entries()) this.inc({ method: e.method, route: e.route, status: e.status }, e.count);
    },
  });
  new Counter({
    name: `${prefix}_rate_limited_total`,
    help: 'Requests refused with 429 Too Many Requests, by route pattern.',
    labelNames: ['route'],
    registers: [registry],
    collect() {
      this.reset();
      for (const e of counts.entries()) if (e.status === '429') this.inc({ route: e.route }, e.count);
    },
  });
}

/** The app's registry: HTTP metrics always, log metrics when the log is observable (src/log's Log is). */
export function createLogMetrics(log: LogApi, requests = new RequestCounts()): AppMetrics {
  const registry = new Registry();
  registerHttpMetrics(registry, requests);
  if (!isObservable(log)) return { registry, requests, detach: () => {} };
  const r = [registry];
  const stats = () => log.stats();
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({ name, help, registers: r, collect() { this.set(read()); } });
  const total = (name: string, help: string, read: () => number) =>
    new Counter({ name, help, registers: r, collect() { this.reset(); this.inc(read()); } });

  gauge('tilelog_tree_size', 'Size of the public checkpoint.', () => log.checkpoint().size);
  gauge('tilelog_signed_tree_size', 'Size integrated and signed by the log (ahead of tilelog_tree_size while witnesses cosign).', () => stats().integrated);
  total('tilelog_entries_sequenced_total', 'Durable entries (the log size, earlier runs included).', () => stats().sequenced);
  total('tilelog_entries_integrated_total', 'Entries in the signed tree (earlier runs included).', () => stats().integrated);
  total('tilelog_entries_deduplicated_total', 'Adds answered with an earlier index since start.', () => stats().duplicates);
  gauge('tilelog_pending_entries', 'Submissions waiting in the pool.', () => stats().pending);
  gauge('tilelog_checkpoint_age_seconds', 'Seconds since the public checkpoint was last written (or the log opened).', () => log.checkpointAgeMs() / 1000);
  total('tilelog_unsafe_reads_refused_total', 'Public-tree reads refused since start: a symlink or non-regular file in the tiles directory (tampering).', () => stats().refusedReads ?? 0);
  gauge('tilelog_tile_cache_bytes', 'Bytes of full tiles and bundles the tile cache holds (its bound is the tile cache size).', () => stats().tileCache?.bytes ?? 0);
  gauge('tilelog_leader', '1 while this process signs the log (holds the signer lease), else 0 (a candidate or a frontend).', () => (stats().leader?.leading === false ? 0 : 1));
  total('tilelog_leader_terms_total', 'Terms of leadership this process started since start (each runs recovery first).', () => stats().leader?.terms ?? 1);
  gauge('tilelog_log_stopped', '1 once the log stopped fatally (restart needed), else 0.', () => (stats().fatal === null ? 0 : 1));
  new Gauge({
    name: 'tilelog_publication_stopped',
    help: '1 for the reason this process stopped publishing for good: superseded (another writer published a newer or forked checkpoint), foreign (another log\'s checkpoint), corrupt (the checkpoint vanished), tile_conflict (a tile or bundle exists with other bytes).',
    labelNames: ['reason'],
    registers: r,
    collect() {
      const stopped = stats().publication?.stopped ?? null;
      for (const reason of PUBLICATION_STOP_REASONS) this.set({ reason }, reason === stopped ? 1 : 0);
    },
  });
  total('tilelog_checkpoint_reconciled_total', 'Checkpoint writes refused because the store held another version (an older checkpoint of this log), reconciled and retried since start; above 0, a second writer is likely.', () => stats().publication?.reconciled ?? 0);
  new Gauge({
    name: 'tilelog_storage_writable',
    help: '1 while the store (state: the database, tiles: the public tree, signer: the signing key) takes writes (signatures), 0 while it refuses them.',
    labelNames: ['store'],
    registers: r,
    collect() {
      const faults = stats().storage?.faults ?? [];
      for (const store of ['state', 'tiles', 'signer']) this.set({ store }, faults.some((f) => f.component === store) ? 0 : 1);
    },
  });
  total('tilelog_storage_failures_total', 'Writes refused for a disk reason (ENOSPC, EIO, EDQUOT, EROFS, SQLITE_FULL, SQLITE_IOERR) since start.', () => stats().storage?.failures ?? 0);
  total('tilelog_partial_gc_deleted_objects_total', 'Partial tiles and bundles deleted by the collector since start.', () => stats().gc?.deletedObjects ?? 0);
  total('tilelog_partial_gc_deleted_bytes_total', 'Bytes of the partial tiles and bundles deleted since start (after a restart, one already gone may count again).', () => stats().gc?.deletedBytes ?? 0);
  const resultCounter = (name: string, help: string, read: () => [number, number]) =>
    new Counter({
      name, help, labelNames: ['result'], registers: r,
      collect() {
        const [ok, failed] = read();
        this.reset();
        this.inc({ result: 'ok' }, ok);
        this.inc({ result: 'failed' }, failed);
      },
    });
  new Counter({
    name: 'tilelog_tile_cache_reads_total',
    help: 'Full tiles and bundles read since start: hit (from memory) or miss (from the tile store).',
    labelNames: ['result'],
    registers: r,
    collect() {
      const c = stats().tileCache;
      this.reset();
      this.inc({ result: 'hit' }, c?.hits ?? 0);
      this.inc({ result: 'miss' }, c?.misses ?? 0);
    },
  });
  new Counter({
    name: 'tilelog_tile_summaries_total',
    help: 'Tile summaries since start: written with new tiles, learned by proofs (none stored), replaced (a stored one failed its check), failed store calls.',
    labelNames: ['event'],
    registers: r,
    collect() {
      const t = stats().tileSummaries;
      this.reset();
      if (t === undefined || t === null) return;
      this.inc({ event: 'written' }, t.written);
      this.inc({ event: 'learned' }, t.learned - t.replaced);
      this.inc({ event: 'replaced' }, t.replaced);
      this.inc({ event: 'failed' }, t.failures);
      this.inc({ event: 'backfilled' }, t.backfilled);
    },
  });
  resultCounter('tilelog_batches_total', 'Sequencing transactions since start.', () => { const s = stats(); return [s.batches, s.failedBatches]; });
  resultCounter('tilelog_partial_gc_runs_total', 'Partial-tile collector runs since start.', () => { const g = stats().gc; return g === undefined ? [0, 0] : [g.runs - g.failedRuns, g.failedRuns]; });
  resultCounter('tilelog_checkpoint_passes_total', 'Checkpoint passes since start (ok: a checkpoint was signed).', () => { const s = stats(); return [s.checkpoints, s.failedPasses]; });
  new Counter({
    name: 'tilelog_witness_requests_total',
    help: 'add-checkpoint requests to each witness by result.',
    labelNames: ['witness', 'result'],
    registers: r,
    collect() {
      this.reset();
      for (const w of stats().witnesses?.witnesses ?? []) {
        for (const [field, result] of Object.entries(WITNESS_RESULTS)) this.inc({ witness: w.name, result }, (w.counters as Record<string, number>)[field] ?? 0);
      }
    },
  });

  const batchSize = new Histogram({ name: 'tilelog_batch_size', help: 'Entries per durable batch.', buckets: BATCH_BUCKETS, registers: r });
  const addSeconds = new Histogram({
    name: 'tilelog_add_duration_seconds',
    help: 'Per batch: from its first submission to its COMMIT (the slowest add of the batch).',
    buckets: LATENCY_BUCKETS,
    registers: r,
  });
  const toCheckpoint = new Histogram({
    name: 'tilelog_time_to_checkpoint_seconds',
    help: 'Per batch: from its COMMIT to the public checkpoint that covers it.',
    buckets: LATENCY_BUCKETS,
    registers: r,
  });
  const cosign = new Histogram({
    name: 'tilelog_witness_cosign_duration_seconds',
    help: 'add-checkpoint round trips per witness (cosigned or failed).',
    labelNames: ['witness'],
    buckets: LATENCY_BUCKETS,
    registers: r,
  });
  const detach = log.observe({
    batchDurable(entries, waitMs) {
      batchSize.observe(entries);
      addSeconds.observe(waitMs / 1000);
    },
    checkpointPublished(_size, ages) {
      for (const ms of ages) toCheckpoint.observe(ms / 1000);
    },
    witnessAnswered(witness, _cosigned, ms) {
      cosign.observe({ witness }, ms / 1000);
    },
  });
  return { registry, requests, detach };
}

/** GET /metrics: the registry in the Prometheus text format; private (no CORS: operators scrape it, web pages do not). */
export function metricsHandler(registry: Registry) {
  return async function metrics(c: Context): Promise<Response> {
    markPrivate(c);
    const text = await registry.metrics();
    return c.body(text, 200, { 'Content-Type': registry.contentType, 'Cache-Control': CACHE_NONE });
  };
}
