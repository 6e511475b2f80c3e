// The checkpointer: the signer's loop that turns durable entries into
// published checkpoints. It runs only while this process leads (its
// Leadership: with SQLite, always), whenever the durable sequence (the
// store's nextIndex(), read when this process's sequencer wakes it, or every
// pollMs when other processes sequence into the store) is ahead of the
// published tree, coalescing everything durable into the next pass.
//
// One pass, in order (crash points C1..C4 are listed in log.ts):
//   0. re-publish a committed checkpoint whose public write failed earlier;
//   1. choose the step [size, target): everything durable, at most
//      integrateMaxEntries;
//   2. integrate: extend the in-memory right edge, build tiles and bundles;
//   3. write every tile and bundle for size target (idempotent creates);
//   4. sign and compare-and-swap the new state into the TreeStateStore,
//      fenced by the leadership's epoch: 'lost' means another process leads
//      and nothing was written, so this one steps down (below);
//   5. publish the checkpoint through the PublicCheckpoint writer (a write
//      conditional on the version it last saw, so a stale or paused process
//      can never move it backwards), then wake waiters. With witnesses
//      (cfg.cosigner), step 5 offers the committed checkpoint to the cosigner
//      instead, and step 0 is the cosigner's: it publishes the cosigned
//      checkpoint later through advancePublished(), so the published size may
//      lag the committed one while integration goes on.
// A failure in 2 or 3 restores the edge from the committed state and retries
// with backoff; while a pass fails for a disk reason (full, I/O error),
// waiters are answered at once with STORAGE_UNAVAILABLE (their entries are
// durable) instead of waiting for a checkpoint that cannot come yet; so does a
// signing key that cannot sign (SIGNER_UNAVAILABLE, a token removed: the
// 'signer' component of storage-failure.ts), which throws inside step 4
// before the compare-and-swap, so nothing is committed or published. A refused
// compare-and-swap (LOG_FORK) or an unknown DB outcome is fatal: the log stops
// rather than risk signing a fork. A lost leadership (the fenced commit
// answered 'lost', or the lease's signal aborted) stops the loop the same way
// but with LOG_NOT_LEADER, a retryable error: waiters are told to retry, and
// nothing more is signed or published in this term (with a shared lease, the
// process is a candidate again; the Log logs one "stepped down" line, and this
// loop logs nothing, as it does for a newer checkpoint published by the next
// leader; with SQLite's lease it stays stopped). So is any sign of another writer on the
// tile store, with no retry: a tile or bundle that exists with other bytes in
// step 3 (STORAGE_CONFLICT: another writer, or a rolled-back database; never
// sign over it), or a public checkpoint that the writer cannot reconcile in
// steps 0/5 (public-checkpoint.ts: LOG_SUPERSEDED, LOG_FOREIGN_TILES,
// LOG_CORRUPT). Fatal means: waiters and adds are rejected with the error,
// nothing more is signed or written, and the process keeps serving reads.

import { TilelogError, isTilelogError } from '../errors.js';
import { hashEqual, type Hasher } from '../merkle/hash.js';
import { TreeEdge, type TileWrite } from '../merkle/edge.js';
import type { NoteSigner } from '../note/keys.js';
import type { Leadership, SequenceStore, TreeStateStore } from '../storage/log-store.js';
import type { TreeState } from '../storage/sequence-db.js';
import type { TileStore } from '../storage/tile-store.js';
import { IndexWaiters } from './index-waiters.js';
import { integrate, writeTiles } from './integrator.js';
import type { LogLogger } from './options.js';
import { commitSigned, notLeader, type PublishedCheckpoint } from './publisher.js';
import { PublicationStoppedError, type PublicCheckpoint } from './public-checkpoint.js';
import type { StorageHealth } from './storage-health.js';
import type { StorageFailure } from '../storage/storage-failure.js';

export interface CheckpointerConfig {
  store: SequenceStore & TreeStateStore;
  /** The term this loop signs in; its fence goes with every commit, and it stops when the term is lost. */
  leadership: Leadership;
  /** When idle, read the store's next index this often (0: only on wake()). */
  pollMs: number;
  tiles: TileStore;
  /** The only writer of the public checkpoint (steps 0 and 5). */
  checkpoint: PublicCheckpoint;
  origin: string;
  signer: NoteSigner;
  hasher: Hasher;
  integrateMaxEntries: number;
  checkpointIntervalMs: number;
  logger: LogLogger;
  /** The process becomes a candidate again when this term ends (a shared lease), instead of staying stopped. */
  rejoins?: boolean;
  /** Called once if the loop stops fatally. */
  onFatal(err: TilelogError): void;
  /** Called after the public checkpoint moved (metrics). */
  onPublished?(cp: PublishedCheckpoint): void;
  /** Told of disk failures and of successful writes (readiness). */
  health?: StorageHealth;
  /** A pass for this size may have written tiles but did not commit (the collector deletes them later). */
  onAbandoned?(size: number): void;
  /** With witnesses: takes each committed checkpoint and publishes it once cosigned. */
  cosigner?: SignedCheckpointSink | null;
  /** The tiles of a step were written (tile summaries are made from them). */
  onTilesWritten?(writes: readonly TileWrite[]): void;
}

/** Where committed checkpoints go when publication waits for cosignatures (cosigner.ts). */
export interface SignedCheckpointSink {
  offer(state: TreeState): void;
  close(): Promise<void>;
}

interface SignedWaiter {
  size: number;
  resolve(): void;
  reject(err: unknown): void;
}


const MIN_BACKOFF_MS = 10;
const MAX_BACKOFF_MS = 2000;
/** While closing, give up after this many consecutive failed passes. */
const CLOSE_RETRIES = 3;

export class Checkpointer {
  readonly #cfg: CheckpointerConfig;
  #state: TreeState;
  #edge: TreeEdge;
  #published: PublishedCheckpoint;
  readonly #waiters = new IndexWaiters();
  #signedWaiters: SignedWaiter[] = [];
  #wake: (() => void) | null = null;
  /** A wake() since the loop last read the durable size. */
  #woken = false;
  #loop: Promise<void> | null = null;
  #closing = false;
  #fatal: TilelogError | null = null;
  #failures = 0;
  #lastPublishMs = 0;
  /** The disk failure of the last pass, until a pass succeeds. */
  #stalled: StorageFailure | null = null;
  readonly counters = { checkpoints: 0, failedPasses: 0 };

  constructor(cfg: CheckpointerConfig, state: TreeState, published: PublishedCheckpoint) {
    this.#cfg = cfg;
    this.#state = state;
    this.#edge = TreeEdge.fromBytes(state.size, state.edge);
    this.#published = published;
    cfg.leadership.lost.addEventListener('abort', () => this.wake(), { once: true });
  }

  /** The latest published checkpoint. */
  get published(): PublishedCheckpoint {
    return this.#published;
  }

  /** The size the tree is integrated (and committed) to. */
  get integratedSize(): number {
    return this.#state.size;
  }

  get fatal(): TilelogError | null {
    return this.#fatal;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /** New durable entries (or a retry) may be waiting. */
  wake(): void {
    this.#woken = true;
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }

  // waitFor(index): the first published checkpoint with size > index.
  waitFor(index: number, signal?: AbortSignal): Promise<PublishedCheckpoint> {
    if (!Number.isSafeInteger(index) || index < 0) {
      return Promise.reject(new TilelogError('MERKLE_RANGE', `log: index ${index} is not an integer in [0, 2^53-1]`));
    }
    if (index < this.#published.size) return Promise.resolve(this.#published);
    if (this.#fatal !== null) return Promise.reject(this.#fatal);
    if (this.#stalled !== null) return Promise.reject(stalledError(index, this.#stalled));
    if (this.#closing) return Promise.reject(new TilelogError('LOG_CLOSED', 'log: the log is closed'));
    return this.#waiters.wait(index, signal);
  }

  /** Resolves once the committed (signed) tree has at least size entries. */
  waitForSigned(size: number): Promise<void> {
    if (size <= this.#state.size) return Promise.resolve();
    if (this.#fatal !== null) return Promise.reject(this.#fatal);
    if (this.#stalled !== null) return Promise.reject(stalledError(size - 1, this.#stalled));
    return new Promise<void>((resolve, reject) => this.#signedWaiters.push({ size, resolve, reject }));
  }

  // advancePublished(cp): the cosigner made cp public. The published size
  // never decreases (the same size again: fresh cosignatures).
  advancePublished(cp: PublishedCheckpoint): void {
    if (cp.size < this.#published.size || cp.size > this.#state.size) {
      throw new Error(`log: bad math: publishing size ${cp.size} with ${this.#published.size} public and ${this.#state.size} signed`);
    }
    this.#markPublished(cp);
  }

  // stop(err): stop for good from outside the loop (the public checkpoint
  // writer gave up while the cosigner published). Idempotent.
  stop(err: TilelogError): void {
    this.#fail(err);
    this.wake();
  }

  // close(): publish everything durable (unless failing), then stop the loop
  // and reject remaining waiters with LOG_CLOSED.
  async close(): Promise<void> {
    this.#closing = true;
    this.wake();
    await this.#loop;
    await this.#cfg.cosigner?.close();
    this.#rejectWaiters(this.#fatal ?? new TilelogError('LOG_CLOSED', 'log: the log is closed'));
  }

  // #hasWork: the durable size read from the store (a read failure counts
  // as work, so the pass reports it and retries with backoff).
  async #hasWork(): Promise<boolean> {
    this.#woken = false;
    if (this.#cfg.cosigner == null && this.#published.size < this.#state.size) return true;
    try {
      return this.#state.size < (await this.#cfg.store.nextIndex());
    } catch {
      return true;
    }
  }

  // #idle: until wake(), the poll interval, or the end of the term.
  async #idle(): Promise<void> {
    if (this.#woken || this.#cfg.leadership.lost.aborted) return;
    const poll = this.#cfg.pollMs;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.#wake = resolve;
      if (poll > 0) timer = setTimeout(resolve, poll);
    });
    clearTimeout(timer);
    this.#wake = null;
  }

  async #run(): Promise<void> {
    for (;;) {
      if (this.#fatal !== null) return;
      if (this.#cfg.leadership.lost.aborted) {
        this.#stepDown('waiting for work');
        return;
      }
      if (!(await this.#hasWork())) {
        if (this.#closing) return;
        await this.#idle();
        continue;
      }
      const wait = this.#lastPublishMs + this.#cfg.checkpointIntervalMs - Date.now();
      if (wait > 0 && !this.#closing) await sleep(wait);
      try {
        await this.pass();
        this.#failures = 0;
        this.#stalled = null;
      } catch (err) {
        if (err instanceof PublicationStoppedError) this.#fail(err);
        if (this.#fatal !== null) return;
        this.counters.failedPasses++;
        this.#failures++;
        const disk = this.#cfg.health?.failed(err) ?? null;
        if (disk !== null) this.#stall(disk);
        else this.#cfg.logger.warn(`checkpoint pass failed (attempt ${this.#failures}); retrying`, err);
        if (this.#closing && this.#failures >= CLOSE_RETRIES) return;
        await sleep(Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** Math.min(this.#failures - 1, 10)));
      }
    }
  }

  // pass(): one integrate-and-publish pass (steps in the header).
  async pass(): Promise<void> {
    const { store, tiles, checkpoint, origin, signer, hasher, leadership } = this.#cfg;
    if (leadership.lost.aborted) throw this.#stepDown('starting a pass');

    // 0. A checkpoint committed to the DB but not yet public: publish it.
    const cosigner = this.#cfg.cosigner ?? null;
    if (cosigner === null && this.#published.size < this.#state.size) {
      this.#markPublished(await checkpoint.write(this.#state));
      this.#cfg.health?.ok('tiles');
    }

    // 1. The step: [size, target).
    const prev = this.#state;
    const target = Math.min(await store.nextIndex(), prev.size + this.#cfg.integrateMaxEntries);
    if (target <= prev.size) return;

    // 2. Integrate in memory. The edge is restored from prev on any failure
    //    before the commit.
    let root;
    try {
      const step = await integrate(this.#edge, store, target, hasher);
      root = step.root;
      // 3. Every tile and bundle for size target, before its checkpoint.
      await writeTiles(tiles, step.writes);
      this.#cfg.health?.ok('tiles');
      this.#cfg.onTilesWritten?.(step.writes);
    } catch (err) {
      this.#edge = TreeEdge.fromBytes(prev.size, prev.edge);
      this.#cfg.onAbandoned?.(target);
      if (isTilelogError(err, 'STORAGE_CONFLICT')) {
        const stop = tileConflict(err, tiles.description, prev.size);
        this.#fail(stop);
        throw stop;
      }
      throw err;
    }

    // Stopped meanwhile (the cosigner's writer gave up, or the term ended): sign nothing more.
    if (this.#fatal !== null) throw this.#fatal;
    if (leadership.lost.aborted) {
      this.#edge = TreeEdge.fromBytes(prev.size, prev.edge);
      this.#cfg.onAbandoned?.(target);
      throw this.#stepDown(`signing size ${target}`);
    }

    // 4. Sign and compare-and-swap into the trusted state, fenced.
    const next = { size: target, root, edge: this.#edge.toBytes(), prevSize: prev.size, prevEdge: prev.edge };
    let committed: TreeState | 'lost';
    try {
      committed = await commitSigned(store, leadership.fence, prev.size, origin, signer, next);
      this.#cfg.health?.ok('signer');
      this.#cfg.health?.ok('state');
    } catch (err) {
      this.#cfg.onAbandoned?.(target);
      committed = await this.#afterFailedCommit(prev, next.size, root, err);
    }
    if (committed === 'lost') {
      // No fork: the fenced commit changed nothing; this process publishes nothing more.
      this.#edge = TreeEdge.fromBytes(prev.size, prev.edge);
      this.#cfg.onAbandoned?.(target);
      throw this.#stepDown(`committing size ${target}`);
    }
    this.#state = committed;

    // 5. Publish; waiters wake only once the public checkpoint is durable.
    this.counters.checkpoints++;
    this.#resolveSigned();
    if (cosigner !== null) {
      this.#lastPublishMs = Date.now();
      cosigner.offer(this.#state);
      return;
    }
    this.#markPublished(await checkpoint.write(this.#state));
  }

  // #stall(disk): a pass failed for a disk reason; answer every waiter now
  // (each entry is durable; the error says how to find it later).
  #stall(disk: StorageFailure): void {
    this.#stalled = disk;
    this.#waiters.rejectAll((index) => stalledError(index, disk));
    const ss = this.#signedWaiters;
    this.#signedWaiters = [];
    for (const w of ss) w.reject(stalledError(w.size - 1, disk));
  }

  #resolveSigned(): void {
    if (this.#signedWaiters.length === 0) return;
    const still: SignedWaiter[] = [];
    for (const w of this.#signedWaiters) {
      if (w.size <= this.#state.size) w.resolve();
      else still.push(w);
    }
    this.#signedWaiters = still;
  }

  // #afterFailedCommit: the CAS threw. LOG_FORK means another writer or a
  // fork attempt: fatal. Otherwise look at what the store holds: our state
  // (the commit happened after all: returned), the previous one (retry), or
  // anything else (fatal).
  async #afterFailedCommit(prev: TreeState, size: number, root: Uint8Array, err: unknown): Promise<TreeState> {
    let current: TreeState | null = null;
    if (!isTilelogError(err, 'LOG_FORK')) {
      current = await this.#readStateAfter(prev);
      if (current !== null && current.size === size && hashEqual(current.root, root)) {
        return current;
      }
      if (current !== null && current.size === prev.size && hashEqual(current.root, prev.root)) {
        this.#edge = TreeEdge.fromBytes(prev.size, prev.edge);
        throw err;
      }
    }
    const fatal = isTilelogError(err)
      ? err
      : new TilelogError('LOG_CORRUPT', 'log: the checkpoint commit failed with an unknown outcome', { cause: err });
    this.#fail(fatal);
    throw fatal;
  }

  // #readStateAfter(prev): the stored state after a commit whose outcome is
  // unknown. While the store cannot answer (STORAGE_UNAVAILABLE: a partition,
  // a restart), ask again until it does or the term ends: guessing either way
  // could sign a fork or stop a log that is fine. A term that ended steps
  // down; the next leader's recovery reads what the commit left.
  async #readStateAfter(prev: TreeState): Promise<TreeState | null> {
    for (let attempt = 0; ; attempt++) {
      if (this.#cfg.leadership.lost.aborted) {
        this.#edge = TreeEdge.fromBytes(prev.size, prev.edge);
        throw this.#stepDown('finding out whether a commit landed');
      }
      try {
        return await this.#cfg.store.state();
      } catch (err) {
        // Anything but an unreachable store: the old answer (an unknown outcome is fatal).
        if (!isTilelogError(err, 'STORAGE_UNAVAILABLE')) return null;
        if (attempt === 0) this.#cfg.logger.warn('reading the tree state after a failed commit failed; asking again until it answers', err);
        await sleep(Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** Math.min(attempt, 10)));
      }
    }
  }

  #fail(err: TilelogError, message = 'the log stopped: it will not sign anything more until restarted'): void {
    if (this.#fatal !== null) return;
    this.#fatal = err;
    // A term ending because another process leads is no stop: the Log says "stepped down" once, with err.
    if (!this.#isStepDown(err)) this.#cfg.logger.error(message, err);
    this.#rejectWaiters(err);
    this.#cfg.onFatal(err);
  }

  // #stepDown(doing): the term ended (the fenced commit answered 'lost', or
  // the lease's signal aborted): stop like #fail, with a retryable error and
  // its own message. Returns the error to throw.
  #stepDown(doing: string): TilelogError {
    if (this.#fatal !== null) return this.#fatal;
    const lease = this.#cfg.leadership.lost.reason as unknown;
    const err = notLeader(doing, this.#cfg.rejoins === true, this.#cfg.leadership.lost.aborted && lease instanceof Error ? lease.message : null);
    this.#fail(err, 'lost leadership: another process signs this log now; this one signs and publishes nothing more until restarted');
    return err;
  }

  // #isStepDown(err): with a shared lease, the normal end of a term: the
  // lease passed on, or the new leader's checkpoint replaced ours.
  #isStepDown(err: TilelogError): boolean {
    if (this.#cfg.rejoins !== true) return false;
    return err.code === 'LOG_NOT_LEADER' || (err instanceof PublicationStoppedError && err.byNewLeader);
  }

  #markPublished(cp: PublishedCheckpoint): void {
    this.#published = cp;
    this.#lastPublishMs = Date.now();
    this.#cfg.onPublished?.(cp);
    this.#waiters.resolveCovered(cp);
  }

  #rejectWaiters(err: unknown): void {
    this.#waiters.rejectAll(() => err);
    const ss = this.#signedWaiters;
    this.#signedWaiters = [];
    for (const w of ss) w.reject(err);
  }
}

// tileConflict: step 3 found an immutable object with other bytes.
function tileConflict(err: TilelogError, store: string, signed: number): PublicationStoppedError {
  return new PublicationStoppedError(
    'STORAGE_CONFLICT',
    'tile_conflict',
    `log: this process stopped publishing: ${err.message.replace(/^storage: /, '')} (in ${store}). ` +
      'Another writer is publishing this log there, or this state database was rolled back (restored from a backup, ' +
      `a failover to a stale copy), so the tree it would sign is not the public one: it will never sign beyond size ${signed}. ` +
      'Make sure only one process writes this log and that its state database is the newest copy, then restart',
    { cause: err },
  );
}

function stalledError(index: number, disk: StorageFailure): TilelogError {
  if (disk.component === 'signer') {
    return new TilelogError(
      'SIGNER_UNAVAILABLE',
      `log: entry ${index} is durable, but no checkpoint can be signed while the log's signing key is unavailable (token removed or HSM unreachable); ` +
        `retry later (with deduplication, the default, a repeated add gets the same index) or fetch /v1/log/entry/${index} once the log is ready`,
    );
  }
  return new TilelogError(
    'STORAGE_UNAVAILABLE',
    `log: entry ${index} is durable, but no checkpoint can be published while the ${disk.component} store refuses writes ` +
      `(${disk.code}: the disk is full or failing); retry later (with deduplication, the default, a repeated add gets the same index) ` +
      `or fetch /v1/log/entry/${index} once the log is ready`,
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
