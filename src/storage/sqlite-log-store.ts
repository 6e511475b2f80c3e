// SqliteLogStore: the asynchronous, role-split interfaces (log-store.ts) over
// a synchronous SequenceDB, in practice SqliteSequenceDB. One process owns the
// database (openFileLog holds the state directory's lock), so:
//   - the lease is always held: acquire() resolves at once with a constant
//     epoch, and the term ends only with release() or close();
//   - commitState never answers 'lost': the fence cannot be taken by anyone
//     else, so it is not checked; the compare-and-swap still refuses a fork
//     (LOG_FORK) exactly as SqliteSequenceDB.commitState does;
//   - nextIndex() is the database's own count (no other process inserts);
//   - the published state is kept in memory: no other process reads it, and
//     recovery finds the public checkpoint in the tile store at every open;
//     its size also rides along with the next tree state's commit, so that
//     `registry reindex` (offline, without the tile store) can stop there.
// Every method is async, so a throw of the synchronous call becomes a
// rejection; the work itself still runs at once (better-sqlite3 blocks), so
// an idle SQLite log pays one microtask per call, not a thread hop, but each
// COMMIT's fsync blocks the caller's event loop (SqliteWorkerStore moves the
// same database to a worker thread for that).

import type { Hash } from '../merkle/hash.js';
import type { Fence, LeaderLease, Leadership, PublishedState, SequenceStore, TreeStateStore } from './log-store.js';
import type { CheckpointRecord, EntryRange, SequenceDB, SequencedEntry, SequenceResult, TreeState } from './sequence-db.js';

/** The one process that may hold a SQLite log's lease; its epoch never changes. */
const SQLITE_FENCE: Fence = Object.freeze({ epoch: 1, holder: `sqlite:${process.pid}` });

export class SqliteLogStore implements SequenceStore, TreeStateStore, LeaderLease {
  readonly origin: string;
  readonly #db: SequenceDB;
  readonly #lease = new HeldLease(SQLITE_FENCE);
  #published: PublishedState | null = null;

  /** Wraps db; close() closes it. */
  constructor(db: SequenceDB) {
    this.#db = db;
    this.origin = db.origin;
  }

  /** The synchronous database underneath (its own tests, the registry's rebuild). */
  get db(): SequenceDB {
    return this.#db;
  }

  async published(): Promise<PublishedState | null> {
    return this.#published;
  }

  async setPublished(_fence: Fence, p: PublishedState): Promise<'ok' | 'lost'> {
    if (this.#published === null || this.#published.size <= p.size) this.#published = { size: p.size, text: p.text, etag: p.etag };
    // Recorded with the next tree state (no fsync of its own), for registry reindex.
    this.#db.notePublished(p.size);
    return 'ok';
  }

  async nextIndex(): Promise<number> {
    return this.#db.sequencedSize();
  }

  async sequence(batch: readonly SequencedEntry[], dedup: boolean): Promise<SequenceResult[]> {
    // Durable: SqliteSequenceDB.sequence returns after the COMMIT (synchronous=FULL fsyncs the WAL).
    return this.#db.sequence(batch, dedup);
  }

  async readEntries(start: number, end: number): Promise<EntryRange> {
    return this.#db.readEntries(start, end);
  }

  async entry(index: number): Promise<Uint8Array | null> {
    return this.#db.entry(index);
  }

  async lookup(leafHash: Hash): Promise<number | null> {
    return this.#db.lookup(leafHash);
  }

  async entryBytes(start: number, end: number): Promise<number> {
    return this.#db.entryBytes(start, end);
  }

  async sizeForRoot(root: Hash): Promise<number | null> {
    return this.#db.sizeForRoot(root);
  }

  async rootForSize(size: number): Promise<Hash | null> {
    return this.#db.rootForSize(size);
  }

  async checkpointHistory(limit: number, maxSize: number): Promise<CheckpointRecord[]> {
    return this.#db.checkpointHistory(limit, maxSize);
  }

  async checkpointsFrom(minSize: number, limit: number): Promise<CheckpointRecord[]> {
    return this.#db.checkpointsFrom(minSize, limit);
  }

  async state(): Promise<TreeState | null> {
    return this.#db.state();
  }

  async commitState(_fence: Fence, expectedSize: number | null, next: TreeState): Promise<'ok' | 'lost'> {
    // No fork: the CAS refuses another expected size, a smaller size or a second root for a size (LOG_FORK).
    this.#db.commitState(expectedSize, next);
    return 'ok';
  }

  async gcCursor(): Promise<number> {
    return this.#db.gcCursor();
  }

  async setGcCursor(_fence: Fence, size: number): Promise<'ok' | 'lost'> {
    this.#db.setGcCursor(size);
    return 'ok';
  }

  async witnessSize(witness: string): Promise<number | null> {
    return this.#db.witnessSize(witness);
  }

  async setWitnessSize(witness: string, size: number): Promise<void> {
    this.#db.setWitnessSize(witness, size);
  }

  acquire(signal: AbortSignal): Promise<Leadership> {
    return this.#lease.acquire(signal);
  }

  async close(): Promise<void> {
    this.#db.close();
  }
}

/**
 * A lease that is always held: for a store only one process uses (SQLite), and
 * the default of LogOptions.lease. Each acquire() starts a term with the same
 * fence; the term is lost only by release().
 */
export class HeldLease implements LeaderLease {
  readonly #fence: Fence;

  constructor(fence: Fence = SQLITE_FENCE) {
    this.#fence = fence;
  }

  async acquire(signal: AbortSignal): Promise<Leadership> {
    signal.throwIfAborted();
    const ended = new AbortController();
    return {
      fence: this.#fence,
      lost: ended.signal,
      release: async () => ended.abort(new Error('leadership released')),
    };
  }
}
