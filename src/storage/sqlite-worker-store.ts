// SqliteWorkerStore: SqliteLogStore's contract (sqlite-log-store.ts: the
// SQLite lease is always held, commitState never answers 'lost', the
// published state lives in memory) with the database in a worker thread
// (sqlite-worker.ts) instead of on the calling thread. better-sqlite3 is
// synchronous: in process, each batch's COMMIT blocks the event loop for its
// fsync, so no request is parsed meanwhile; here only the worker waits.
//
// Ordering and durability:
//   - calls run in the worker one at a time, in the order they were made, so
//     their effects happen in the same order as with SqliteLogStore;
//   - sequence() and commitState() resolve only when the worker's reply
//     arrives, and the worker replies only after the COMMIT returned: an
//     entry is acknowledged only once durable, exactly as in process;
//   - nextIndex() answers from the size the last reply carried, without a
//     round trip (only this store inserts: the state directory's lock).
// A worker that dies (a native crash, out of memory) fails every call in
// flight and every later one with STORAGE_IO: a batch in flight then has an
// unknown outcome (the sequencer answers "may have been stored; retry"), and
// the checkpointer stops (it cannot know whether its commit landed). Nothing
// is acknowledged or signed after that; a restart recovers as after a crash.
// One worker per store (per log): a process with many logs has many workers.

import { createRequire } from 'node:module';
import * as nodePath from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { TilelogError } from '../errors.js';
import type { Hash } from '../merkle/hash.js';
import type { Fence, LeaderLease, Leadership, PublishedState, SequenceStore, TreeStateStore } from './log-store.js';
import type { CheckpointRecord, EntryRange, SequencedEntry, SequenceResult, TreeState } from './sequence-db.js';
import { HeldLease } from './sqlite-log-store.js';
import {
  READY_ID,
  compact,
  deserializeError,
  packEntries,
  unpackEntries,
  unpackResults,
  type SqliteOp,
  type SqliteReply,
  type SqliteWorkerData,
} from './sqlite-worker-protocol.js';

interface PendingCall {
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

export interface SqliteWorkerStoreOptions {
  /** The log's origin; a database created for another origin is refused (LOG_CONFIG). */
  origin: string;
}

export class SqliteWorkerStore implements SequenceStore, TreeStateStore, LeaderLease {
  readonly origin: string;
  readonly #worker: Worker;
  readonly #lease = new HeldLease();
  readonly #pending = new Map<number, PendingCall>();
  #nextId = READY_ID + 1;
  /** Durable entries, as of the worker's last reply. */
  #size = 0;
  #published: PublishedState | null = null;
  /** Why calls fail at once: the worker died, or the store was closed. */
  #dead: Error | null = null;
  #closing: Promise<void> | null = null;
  readonly #exited: Promise<void>;

  private constructor(worker: Worker, origin: string) {
    this.#worker = worker;
    this.origin = origin;
    this.#exited = new Promise((resolve) => worker.once('exit', () => resolve()));
  }

  /**
   * Opens (creating if needed) the SQLite database at path in a new worker
   * thread; rejects as SqliteSequenceDB's constructor throws (another
   * origin, a corrupt sequence), with nothing left running.
   */
  static async open(path: string, opts: SqliteWorkerStoreOptions): Promise<SqliteWorkerStore> {
    const worker = startWorker({ path, origin: opts.origin });
    const store = new SqliteWorkerStore(worker, opts.origin);
    try {
      await store.#ready();
    } catch (err) {
      await worker.terminate();
      throw err;
    }
    return store;
  }

  // #ready: wait for the worker's first message, then route replies to calls.
  #ready(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onEarlyExit = (code: number) => reject(workerDied(`exited with code ${code} while opening the database`));
      this.#worker.once('error', reject);
      this.#worker.once('exit', onEarlyExit);
      this.#worker.once('message', (reply: SqliteReply) => {
        this.#worker.off('error', reject);
        this.#worker.off('exit', onEarlyExit);
        if (!reply.ok) {
          reject(deserializeError(reply.error));
          return;
        }
        this.#size = reply.size;
        this.#worker.on('message', (r: SqliteReply) => this.#answer(r));
        this.#worker.on('error', (err) => this.#die(workerDied(`failed: ${err.message}`, err)));
        this.#worker.on('exit', (code) => this.#die(workerDied(`exited with code ${code}`)));
        resolve();
      });
    });
  }

  #answer(reply: SqliteReply): void {
    this.#size = reply.size;
    const call = this.#pending.get(reply.id);
    if (call === undefined) return;
    this.#pending.delete(reply.id);
    if (reply.ok) call.resolve(reply.value);
    else call.reject(deserializeError(reply.error));
  }

  // #die(err): every call in flight and every later one fails with err.
  #die(err: Error): void {
    this.#dead ??= err;
    for (const call of this.#pending.values()) call.reject(this.#dead);
    this.#pending.clear();
  }

  #call<T>(op: SqliteOp, args: readonly unknown[], transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.#dead !== null) return Promise.reject(this.#dead);
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.#worker.postMessage({ id, op, args }, transfer);
    });
  }

  async published(): Promise<PublishedState | null> {
    return this.#published;
  }

  async setPublished(_fence: Fence, p: PublishedState): Promise<'ok' | 'lost'> {
    if (this.#published === null || this.#published.size <= p.size) this.#published = { size: p.size, text: p.text, etag: p.etag };
    // Recorded with the next tree state (registry reindex stops there). Calls run in
    // order, so it reaches the worker before that commit; a dead worker fails the commit.
    this.#call('notePublished', [p.size]).catch(() => undefined);
    return 'ok';
  }

  async nextIndex(): Promise<number> {
    if (this.#dead !== null) throw this.#dead;
    return this.#size;
  }

  async sequence(batch: readonly SequencedEntry[], dedup: boolean): Promise<SequenceResult[]> {
    const packed = packEntries(
      batch.map((e) => e.bytes),
      batch.map((e) => e.leafHash),
    );
    // Durable: the worker replies only after SqliteSequenceDB.sequence's COMMIT (synchronous=FULL fsyncs the WAL).
    return unpackResults(await this.#call<Float64Array>('sequence', [packed, dedup], [packed]));
  }

  async readEntries(start: number, end: number): Promise<EntryRange> {
    return unpackEntries(await this.#call<ArrayBuffer>('readEntries', [start, end]));
  }

  entry(index: number): Promise<Uint8Array | null> {
    return this.#call('entry', [index]);
  }

  lookup(leafHash: Hash): Promise<number | null> {
    return this.#call('lookup', [compact(leafHash)]);
  }

  entryBytes(start: number, end: number): Promise<number> {
    return this.#call('entryBytes', [start, end]);
  }

  sizeForRoot(root: Hash): Promise<number | null> {
    return this.#call('sizeForRoot', [compact(root)]);
  }

  rootForSize(size: number): Promise<Hash | null> {
    return this.#call('rootForSize', [size]);
  }

  checkpointHistory(limit: number, maxSize: number): Promise<CheckpointRecord[]> {
    return this.#call('checkpointHistory', [limit, maxSize]);
  }

  checkpointsFrom(minSize: number, limit: number): Promise<CheckpointRecord[]> {
    return this.#call('checkpointsFrom', [minSize, limit]);
  }

  state(): Promise<TreeState | null> {
    return this.#call('state', []);
  }

  async commitState(_fence: Fence, expectedSize: number | null, next: TreeState): Promise<'ok' | 'lost'> {
    // No fork: the worker runs SqliteSequenceDB's compare-and-swap, which refuses another expected size,
    // a smaller size or a second root for a size (LOG_FORK, nothing written).
    await this.#call('commitState', [expectedSize, compact(next)]);
    return 'ok';
  }

  gcCursor(): Promise<number> {
    return this.#call('gcCursor', []);
  }

  async setGcCursor(_fence: Fence, size: number): Promise<'ok' | 'lost'> {
    await this.#call('setGcCursor', [size]);
    return 'ok';
  }

  witnessSize(witness: string): Promise<number | null> {
    return this.#call('witnessSize', [witness]);
  }

  async setWitnessSize(witness: string, size: number): Promise<void> {
    await this.#call('setWitnessSize', [witness, size]);
  }

  acquire(signal: AbortSignal): Promise<Leadership> {
    return this.#lease.acquire(signal);
  }

  /** Closes the database (after the calls made before it), then the worker. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      try {
        if (this.#dead === null) await this.#call('close', []);
      } finally {
        this.#dead ??= new TilelogError('LOG_CLOSED', 'sqlite-worker: the state store is closed');
        // The worker ends by itself once its port closes; terminate() covers a worker that hangs or died.
        await Promise.race([this.#exited, sleep(1000)]);
        await this.#worker.terminate();
      }
    })();
    return this.#closing;
  }
}

// startWorker: sqlite-worker.js beside this file when built or bundled;
// sqlite-worker.ts when run from source (tests), loaded through tsx's hooks.
function startWorker(data: SqliteWorkerData): Worker {
  const self = fileURLToPath(import.meta.url);
  const ext = nodePath.extname(self);
  const entry = nodePath.join(nodePath.dirname(self), `sqlite-worker${ext}`);
  if (ext !== '.ts') return new Worker(entry, { workerData: data });
  // tsx's ESM entry (the require condition's file would load a CommonJS build of it).
  const tsxRoot = nodePath.dirname(createRequire(self).resolve('tsx/package.json'));
  const tsx = pathToFileURL(nodePath.join(tsxRoot, 'dist/esm/api/index.mjs')).href;
  const code = `import(${JSON.stringify(tsx)}).then((t) => { t.register(); return import(${JSON.stringify(pathToFileURL(entry).href)}); })`;
  return new Worker(code, { eval: true, workerData: data });
}

function workerDied(what: string, cause?: unknown): TilelogError {
  return new TilelogError(
    'STORAGE_IO',
    `sqlite-worker: the thread that holds the state database ${what}; nothing more is stored or signed; restart tilelog (recovery runs as after a crash)`,
    { cause },
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
