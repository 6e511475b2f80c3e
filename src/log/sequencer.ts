// The sequencer: pools submissions and makes them durable in batches, with
// exactly ONE sequencing call in flight at a time (natural batching).
//
// One pass (flush), in order:
//   1. rotate the pool: take every pooled submission, BEFORE awaiting, so adds
//      that arrive while the call runs form the next batch;
//   2. sequence them in ONE SequenceStore call (one transaction, one COMMIT);
//   3. only after it resolved (COMMITted), acknowledge each add with its index;
//   4. wake the checkpointer (integrate + publish, see checkpointer.ts), telling
//      it the durable size the batch's results prove;
//   5. if adds arrived meanwhile, flush them at once: they already waited;
//      with batchLingerMs, wait up to that long for the pool to grow by the
//      batch just stored (its clients' next adds, under load), then flush.
// A flush starts when the pool reaches batchMaxEntries, or batchMaxDelayMs
// after its first entry, or as soon as the call in flight returns (or its
// linger ends): under load batches grow by themselves; idle, an add costs one
// call. With SQLite the call completes synchronously inside, so this is the
// old behaviour exactly.
//
// A rejected call: a disk failure (full, I/O error) answers STORAGE_UNAVAILABLE
// as before; any other uncoded failure is an UNKNOWN outcome (a networked
// store may have COMMITted before the connection broke), answered with
// LOG_UNKNOWN_OUTCOME ("may have been stored; retry"), never an index.
//
// Crash points (recovery: see log.ts for the whole list):
//   S1. before or during the COMMIT of step 2: the store rolls the transaction
//       back; no add of the batch was acknowledged, so nothing is lost.
//   S2. after the COMMIT, before or while acknowledging: the entries are
//       durable (some without an answer); recovery integrates them like any
//       others, and a client that retries gets the same index (dedup on).

import { TilelogError, type ErrorCode } from '../errors.js';
import type { Hash, Hasher } from '../merkle/hash.js';
import { MAX_ENTRY_SIZE } from '../merkle/layout.js';
import type { SequenceStore } from '../storage/log-store.js';
import { isOutcomeUnknown } from '../storage/pg-errors.js';
import type { SequencedEntry } from '../storage/sequence-db.js';
import type { LogLogger } from './options.js';
import type { StorageHealth } from './storage-health.js';

export interface AddResult {
  /** The entry's zero-based index in the log. */
  index: number;
  /** True when an identical entry was already sequenced at index. */
  duplicate: boolean;
}

interface Pending extends SequencedEntry {
  resolve(r: AddResult): void;
  reject(err: unknown): void;
}

export interface SequencerConfig {
  store: SequenceStore;
  hasher: Hasher;
  batchMaxEntries: number;
  batchMaxDelayMs: number;
  /** Step 5's wait for the pool to reach the last batch's size, ms (0: none). */
  batchLingerMs?: number;
  dedup: boolean;
  maxPendingEntries: number;
  logger: LogLogger;
  /** Told of disk failures (a 503 instead of a 500) and of each successful COMMIT. */
  health?: StorageHealth;
  /**
   * Called after each durable batch with its entry count, ms from its first
   * submission to the COMMIT, and the durable size its results prove (at least).
   */
  onDurable(entries: number, waitMs: number, durableSize: number): void;
  /** The store's next index at open (the durable size before any batch of this process). */
  durableSize: number;
}

export class Sequencer {
  readonly #cfg: SequencerConfig;
  #pool: Pending[] = [];
  #timer: NodeJS.Timeout | null = null;
  #immediate: NodeJS.Immediate | null = null;
  /** The one sequencing call in flight (steps 2-5), or null. */
  #inFlight: Promise<void> | null = null;
  #inFlightEntries = 0;
  /** While lingering (step 5): flush once the pool holds this many entries; 0 otherwise. */
  #lingerTarget = 0;
  /** The pool's size when the batch in flight was acknowledged (-1: it was not). */
  #poolAtAck = -1;
  #closedReason: TilelogError | null = null;
  /** performance.now() when the pool's first entry arrived (one clock read per batch). */
  #poolStartMs = 0;
  /** The largest durable size this process has proof of (its batches' results). */
  #durableSize: number;
  readonly counters = { batches: 0, sequenced: 0, duplicates: 0, failedBatches: 0 };

  constructor(cfg: SequencerConfig) {
    this.#cfg = cfg;
    this.#durableSize = cfg.durableSize;
  }

  /** Entries waiting in the pool or in the sequencing call in flight. */
  get pending(): number {
    return this.#pool.length + this.#inFlightEntries;
  }

  /** Durable entries as this process knows them: the size at open, then its batches' results. */
  get durableSize(): number {
    return this.#durableSize;
  }

  // add(entry): validates, hashes and pools the entry; resolves once its batch
  // is durable. Throws LOG_ENTRY_SIZE outside 1..65535 bytes, LOG_PUSHBACK when
  // the pool is full, LOG_CLOSED after close().
  add(entry: Uint8Array): Promise<AddResult> {
    if (!(entry instanceof Uint8Array)) {
      return Promise.reject(new TypeError('log: entry must be a Uint8Array'));
    }
    if (this.#closedReason !== null) return Promise.reject(this.#closedReason);
    if (entry.length < 1 || entry.length > MAX_ENTRY_SIZE) {
      return Promise.reject(
        new TilelogError('LOG_ENTRY_SIZE', `log: entry of ${entry.length} bytes; entries must be 1..${MAX_ENTRY_SIZE} bytes`),
      );
    }
    if (this.#pool.length >= this.#cfg.maxPendingEntries) {
      return Promise.reject(
        new TilelogError('LOG_PUSHBACK', `log: ${this.#pool.length} entries pending; retry shortly`),
      );
    }
    // Copy: the caller may reuse its buffer before the batch commits.
    const bytes = entry.slice();
    const leafHash: Hash = this.#cfg.hasher.leaf(bytes);
    if (this.#pool.length === 0) this.#poolStartMs = performance.now();
    return new Promise<AddResult>((resolve, reject) => {
      this.#pool.push({ bytes, leafHash, resolve, reject });
      this.#schedule();
    });
  }

  // #schedule: arm a flush for the pool. While a call is in flight nothing is
  // armed: its end flushes what pooled meanwhile (step 5).
  #schedule(): void {
    if (this.#inFlight !== null) return;
    if (this.#pool.length >= this.#cfg.batchMaxEntries || (this.#lingerTarget > 0 && this.#pool.length >= this.#lingerTarget)) {
      this.#lingerTarget = 0;
      if (this.#timer !== null) clearTimeout(this.#timer);
      this.#timer = null;
      this.#immediate ??= setImmediate(() => void this.flush());
    } else if (this.#timer === null && this.#immediate === null) {
      // 0 ms: flush once the current I/O callbacks have run (setImmediate), not after a 1 ms timer.
      if (this.#cfg.batchMaxDelayMs === 0) this.#immediate = setImmediate(() => void this.flush());
      else this.#timer = setTimeout(() => void this.flush(), this.#cfg.batchMaxDelayMs);
    }
  }

  #clearTimers(): void {
    this.#lingerTarget = 0;
    if (this.#timer !== null) clearTimeout(this.#timer);
    if (this.#immediate !== null) clearImmediate(this.#immediate);
    this.#timer = null;
    this.#immediate = null;
  }

  // flush(): start a pass if none is in flight and the pool is not empty;
  // resolves when the pass in flight (this one or the earlier one) ended.
  // Never rejects: failures go to the adds' promises.
  flush(): Promise<void> {
    this.#clearTimers();
    if (this.#inFlight === null && this.#pool.length > 0) {
      // 1. Rotate the pool before awaiting anything.
      const batch = this.#pool;
      const startMs = this.#poolStartMs;
      this.#pool = [];
      this.#inFlightEntries = batch.length;
      this.#inFlight = this.#sequence(batch, startMs).finally(() => {
        this.#inFlight = null;
        this.#inFlightEntries = 0;
        // 5. What arrived meanwhile already waited: flush it now, or linger
        //    until the clients just answered are back (the pool grew by this
        //    batch's size since the answers) or batchLingerMs passed.
        const linger = this.#cfg.batchLingerMs ?? 0;
        const acked = this.#poolAtAck >= 0;
        const target = Math.min(this.#cfg.batchMaxEntries, this.#poolAtAck + batch.length);
        this.#poolAtAck = -1;
        if (this.#pool.length >= this.#cfg.batchMaxEntries || (this.#pool.length > 0 && this.#closedReason !== null)) {
          void this.flush();
        } else if (linger > 0 && acked && this.#pool.length < target && this.#closedReason === null) {
          this.#lingerTarget = target;
          this.#timer ??= setTimeout(() => void this.flush(), linger);
        } else if (this.#pool.length > 0) {
          this.#immediate ??= setImmediate(() => void this.flush());
        }
      });
    }
    return this.#inFlight ?? Promise.resolve();
  }

  // #sequence: steps 2-4 for one rotated batch.
  async #sequence(batch: Pending[], startMs: number): Promise<void> {
    // 2. Sequence the batch in one call. On a rejection no add of it is
    //    acknowledged with an index.
    let results;
    try {
      results = await this.#cfg.store.sequence(batch, this.#cfg.dedup);
    } catch (err) {
      this.counters.failedBatches++;
      const failure = this.#failure(err, batch.length);
      for (const p of batch) p.reject(failure);
      return;
    }
    this.counters.batches++;
    this.#cfg.health?.ok('state');

    // 3. Acknowledge each add with its index.
    this.#poolAtAck = this.#pool.length;
    // Durable: store.sequence resolved only after its COMMIT (SQLite: synchronous=FULL fsyncs the WAL).
    let size = this.#durableSize;
    for (let k = 0; k < batch.length; k++) {
      const r = results[k]!;
      if (r.duplicate) this.counters.duplicates++;
      else this.counters.sequenced++;
      if (r.index >= size) size = r.index + 1;
      batch[k]!.resolve(r);
    }
    this.#durableSize = size;

    // 4. Wake the checkpointer.
    this.#cfg.onDurable(batch.length, performance.now() - startMs, size);
  }

  // #failure(err, n): what the n adds of a batch whose call rejected with err are told.
  #failure(err: unknown, n: number): TilelogError {
    const disk = this.#cfg.health?.failed(err) ?? null;
    if (disk === null) this.#cfg.logger.error(`sequencing a batch of ${n} entries failed; its outcome is unknown`, err);
    // A networked store whose connection broke mid-call: it may have COMMITted (never an index).
    if (isOutcomeUnknown(err)) return unknownOutcome(err);
    if (isCoded(err) && ANSWERED_AS_IS.has(err.code)) return err;
    if (disk !== null) {
      return new TilelogError(
        'STORAGE_UNAVAILABLE',
        `log: the state database cannot store entries now (${disk.code}: the disk is full or failing); nothing was added; retry later`,
        { cause: err },
      );
    }
    return unknownOutcome(err);
  }

  /**
   * Refuse further adds with reason (LOG_CLOSED by default), then sequence
   * what is pooled; resolves once the call in flight and that last one ended.
   */
  async close(reason?: TilelogError): Promise<void> {
    this.#closedReason ??= reason ?? new TilelogError('LOG_CLOSED', 'log: the log is closed');
    while (this.#inFlight !== null || this.#pool.length > 0) await this.flush();
  }

  /** Stop at once: reject everything pooled (used when the log fails fatally); a call in flight still answers its adds. */
  abort(reason: TilelogError): void {
    this.#clearTimers();
    this.#closedReason = reason;
    const batch = this.#pool;
    this.#pool = [];
    for (const p of batch) p.reject(reason);
  }
}

/** Store errors that already tell the client what happened and to retry; any other rejection is an unknown outcome. */
const ANSWERED_AS_IS: ReadonlySet<ErrorCode> = new Set(['STORAGE_UNAVAILABLE', 'LOG_UNKNOWN_OUTCOME', 'LOG_NOT_LEADER', 'LOG_CLOSED', 'LOG_PUSHBACK']);

function unknownOutcome(cause: unknown): TilelogError {
  return new TilelogError(
    'LOG_UNKNOWN_OUTCOME',
    'log: the state store failed while storing this entry: it may have been stored; retry ' +
      '(with deduplication, the default, the retry answers the index it was stored at)',
    { cause },
  );
}

function isCoded(err: unknown): err is TilelogError {
  return err instanceof TilelogError;
}
