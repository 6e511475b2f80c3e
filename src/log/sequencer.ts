// The sequencer: pools submissions and makes them durable in batches.
//
// One pass (flush), in order:
//   1. rotate the pool: take every pooled submission;
//   2. sequence them in ONE SequenceDB transaction (one prepared INSERT per new
//      entry, one indexed SELECT per entry when deduplicating; one fsync);
//   3. only after COMMIT, acknowledge each add with its index;
//   4. wake the checkpointer (integrate + publish, see checkpointer.ts).
// A flush starts when the pool reaches batchMaxEntries, or batchMaxDelayMs
// after its first entry. better-sqlite3 is synchronous, so passes never overlap.
//
// Crash points (recovery: see log.ts for the whole list):
//   S1. before or during the COMMIT of step 2: SQLite rolls the transaction
//       back; no add of the batch was acknowledged, so nothing is lost.
//   S2. after the COMMIT, before or while acknowledging: the entries are
//       durable (some without an answer); recovery integrates them like any
//       others, and a client that retries gets the same index (dedup on).

import { TilelogError } from '../errors.js';
import type { Hash, Hasher } from '../merkle/hash.js';
import { MAX_ENTRY_SIZE } from '../merkle/layout.js';
import type { SequenceDB, SequencedEntry } from '../storage/sequence-db.js';
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
  db: SequenceDB;
  hasher: Hasher;
  batchMaxEntries: number;
  batchMaxDelayMs: number;
  dedup: boolean;
  maxPendingEntries: number;
  logger: LogLogger;
  /** Told of disk failures (a 503 instead of a 500) and of each successful COMMIT. */
  health?: StorageHealth;
  /** Called after each durable batch with its entry count and ms from its first submission to the COMMIT. */
  onDurable(entries: number, waitMs: number): void;
}

export class Sequencer {
  readonly #cfg: SequencerConfig;
  #pool: Pending[] = [];
  #timer: NodeJS.Timeout | null = null;
  #immediate: NodeJS.Immediate | null = null;
  #closedReason: TilelogError | null = null;
  /** performance.now() when the pool's first entry arrived (one clock read per batch). */
  #poolStartMs = 0;
  readonly counters = { batches: 0, sequenced: 0, duplicates: 0, failedBatches: 0 };

  constructor(cfg: SequencerConfig) {
    this.#cfg = cfg;
  }

  /** Entries waiting in the pool. */
  get pending(): number {
    return this.#pool.length;
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

  #schedule(): void {
    if (this.#pool.length >= this.#cfg.batchMaxEntries) {
      this.#immediate ??= setImmediate(() => this.flush());
    } else if (this.#timer === null && this.#immediate === null) {
      // 0 ms: flush once the current I/O callbacks have run (setImmediate), not after a 1 ms timer.
      if (this.#cfg.batchMaxDelayMs === 0) this.#immediate = setImmediate(() => this.flush());
      else this.#timer = setTimeout(() => this.flush(), this.#cfg.batchMaxDelayMs);
    }
  }

  // flush(): one sequencing pass (see the header). Synchronous.
  flush(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    if (this.#immediate !== null) clearImmediate(this.#immediate);
    this.#timer = null;
    this.#immediate = null;

    // 1. Rotate the pool.
    const batch = this.#pool;
    const startMs = this.#poolStartMs;
    this.#pool = [];
    if (batch.length === 0) return;

    // 2. Sequence the batch in one transaction. On a throw SQLite rolled back:
    //    nothing of this batch is stored, and none of it was acknowledged.
    let results;
    try {
      results = this.#cfg.db.sequence(batch, this.#cfg.dedup);
    } catch (err) {
      this.counters.failedBatches++;
      const disk = this.#cfg.health?.failed(err) ?? null;
      if (disk === null) this.#cfg.logger.error(`sequencing a batch of ${batch.length} entries failed`, err);
      const failure = isCoded(err)
        ? err
        : disk !== null
          ? new TilelogError(
              'STORAGE_UNAVAILABLE',
              `log: the state database cannot store entries now (${disk.code}: the disk is full or failing); nothing was added; retry later`,
              { cause: err },
            )
          : new TilelogError('STORAGE_IO', 'log: could not store the batch', { cause: err });
      for (const p of batch) p.reject(failure);
      return;
    }
    this.counters.batches++;
    this.#cfg.health?.ok('state');

    // 3. Acknowledge each add with its index.
    // Durable: the batch COMMITted with synchronous=FULL (the WAL is fsynced).
    for (let k = 0; k < batch.length; k++) {
      const r = results[k]!;
      if (r.duplicate) this.counters.duplicates++;
      else this.counters.sequenced++;
      batch[k]!.resolve(r);
    }

    // 4. Wake the checkpointer.
    this.#cfg.onDurable(batch.length, performance.now() - startMs);
    // More may have arrived synchronously past the threshold.
    if (this.#pool.length > 0) this.#schedule();
  }

  /** Flush what is pooled and refuse further adds with reason (LOG_CLOSED by default). */
  close(reason?: TilelogError): void {
    this.flush();
    this.#closedReason = reason ?? new TilelogError('LOG_CLOSED', 'log: the log is closed');
  }

  /** Stop at once: reject everything pooled (used when the log fails fatally). */
  abort(reason: TilelogError): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    if (this.#immediate !== null) clearImmediate(this.#immediate);
    this.#timer = null;
    this.#immediate = null;
    this.#closedReason = reason;
    const batch = this.#pool;
    this.#pool = [];
    for (const p of batch) p.reject(reason);
  }
}

function isCoded(err: unknown): err is TilelogError {
  return err instanceof TilelogError;
}
