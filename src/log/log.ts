// Log: one transparency log. Submissions become durable in batches, one
// sequencing call in flight at a time, adds arriving meanwhile forming the
// next batch (sequencer.ts); durable entries become tiles and a signed
// checkpoint (checkpointer.ts: integrator.ts then publisher.ts), committed
// with a compare-and-swap fenced by the signer's lease epoch; recover.ts makes
// a restart (and, later, each new term of leadership) safe. Trusted state
// lives behind the asynchronous SequenceStore (what a frontend needs) and
// TreeStateStore (what only the signer writes) of storage/log-store.ts;
// LeaderLease decides which process signs (SQLite: always this one). The
// TileStore is the public, rebuildable face.
//
// Leadership (term.ts): on each acquisition of the lease, startTerm() runs
// recovery and starts the checkpointer, cosigner and collector with that
// term's fence. A term that ends (the lease lapsed, a fenced write answered
// 'lost', or the public checkpoint moved past this process) stops all three
// (nothing more is signed or written with that fence); it ends when the
// lease does, at its local deadline if the store cannot be reached, whatever
// call its loops still wait for (each has a deadline). With a shared lease
// (PostgreSQL: several processes) the process then goes back to being a
// candidate and loops on acquire(); with the single-process lease (SQLite) a
// lost term is final. LOG_FORK, foreign tiles, tile conflicts and corruption
// are always fatal. Whether it leads or not, a process sequences adds and
// serves reads; its checkpoint() is its PublishedView (published-view.ts),
// advanced by its own checkpointer while it leads and otherwise by polling
// the store's published state, so ?wait=checkpoint resolves on every process.
//
// The order of durable effects, with what a crash (SIGKILL, power loss) at
// each point leaves behind and what recovery does there:
//   S1. Sequencing transaction not yet COMMITted: SQLite rolls it back. No add
//       of the batch was acknowledged. Recovery: nothing to do.
//   S2. COMMITted, acknowledgements not (all) sent: the entries are durable.
//       Recovery: the checkpointer integrates them; a retried add is answered
//       with the same index (dedup on).
//   With the SQLite state in a worker thread (SqliteWorkerStore) S1 and S2
//   are the same points: the worker posts its reply only after the COMMIT,
//   and a SIGKILL ends both threads at once.
//   C1. Some tiles/bundles for the next size T written, DB state still at the
//       old size S: the tiles are beyond every checkpoint, invisible to
//       verifiers. Recovery: the checkpointer re-integrates [S, T') and
//       re-creates them idempotently (same bytes: the tree is deterministic).
//   C2. All tiles for T written, the signed state not yet COMMITted: as C1.
//       The signature never left the process; re-signing gives the same text.
//   C3. State for T COMMITted (compare-and-swap), public checkpoint still S:
//       recovery sees the public checkpoint older than the DB's and
//       republishes T (its tiles are all present: written before the commit;
//       recovery also replays the step S -> T and repairs any damaged tile).
//   C4. Public checkpoint T written: nothing to do. The checkpoint is the one
//       mutable public object and only public-checkpoint.ts writes it, each
//       time conditional on the version it last saw (ETag), so a stale or
//       paused process can never move it backwards: its write is refused, and
//       if the store then holds a newer checkpoint (or another log's) it stops
//       publishing (LOG_SUPERSEDED, LOG_FOREIGN_TILES) and never writes again.
//       A lost write response (written, error reported) reconciles to our own
//       text on the retry.
// With witnesses, C3 is the resting state until the cosigner has gathered the
// policy's cosignatures (cosigner.ts): the public checkpoint lags by design,
// recovery keeps it, and the cosigner publishes T (cosigned) after the restart.
// The partial-tile collector (tile-gc.ts) runs in the background:
//   G1. Some superseded partials deleted, its cursor in the DB not yet moved:
//       the next run (after a restart: from the cursor) deletes them again
//       (absent is fine) and moves it. Nothing a reader needs was deleted.
//   G2. Cursor moved: nothing to do.
// A full or failing disk (storage-health.ts) is none of these points: a write
// that fails leaves S1 or C1/C2 behind; adds answer 503 and the log retries.
// At open, recovery also refuses to start (LOG_CORRUPT) when the public
// checkpoint is ahead of the DB or contradicts it, or the DB contradicts
// itself, and (LOG_FOREIGN_TILES) when the public checkpoint is another
// log's; the public checkpoint is checked before recovery writes any tile.
// See recover.ts. openFileLog (file-log.ts) holds <stateDir>/log.lock while
// the log is open: one process (and one open) per state directory.

import { TilelogError, isTilelogError } from '../errors.js';
import type { Hash } from '../merkle/hash.js';
import { tilePath, type TileId } from '../merkle/layout.js';
import { assertSafeIndex } from '../merkle/math.js';
import type { Leadership, SequenceStore, TreeStateStore } from '../storage/log-store.js';
import { openCheckpoint } from '../note/checkpoint.js';
import type { CheckpointRecord } from '../storage/sequence-db.js';
import { FileTileStore } from '../storage/file-tile-store.js';
import { assertPublicPath, type TileStore } from '../storage/tile-store.js';
import { type CosignerStatus } from './cosigner.js';
import { Observers, type LogObserver } from './observer.js';
import { resolveOptions, type LogOptions } from './options.js';
import type { PublishedCheckpoint } from './publisher.js';
import { Sequencer, type AddResult } from './sequencer.js';
import { PublishedView } from './published-view.js';
import { startTerm, type Term } from './term.js';
import { TileCache } from './tile-cache.js';
import { TileSummaries } from './tile-summaries.js';
import { ProofReader } from './proof-reader.js';
import { parseVerifierKey } from '../note/keys.js';
import type { ResolvedOptions } from './options.js';
import { PublicationStoppedError, type PublicationStopReason } from './public-checkpoint.js';
import { StorageHealth, type StorageFault } from './storage-health.js';
import type { TileGcCounters, TileGcRun } from './tile-gc.js';

export interface LogStats {
  /** Durable entries (the next index) as this process knows them: the size at open, then its own batches. */
  sequenced: number;
  /** Size the tree is integrated and signed to (in the DB). */
  integrated: number;
  /** Size of the public checkpoint. */
  published: number;
  /** Submissions waiting in the pool. */
  pending: number;
  /** Adds answered with an earlier index. */
  duplicates: number;
  /** Durable batches and checkpoints since open. */
  batches: number;
  checkpoints: number;
  /** Failed batch commits and failed checkpoint passes since open. */
  failedBatches: number;
  failedPasses: number;
  /** Tiles rewritten by recovery at open. */
  repairedAtOpen: number;
  /** Reads of the public tree refused as unsafe (a symlink, not a regular file) since open. */
  refusedReads: number;
  /** Why the log stopped, if it did. */
  fatal: string | null;
  /** Whether this process leads (signs) now, and the epoch of its term (null while a candidate). */
  leader: { leading: boolean; epoch: number | null; terms: number };
  /** Witness cosigning, or null without witnesses. */
  witnesses: CosignerStatus | null;
  /** Whether the stores take writes (storage-health.ts), and disk failures since open. */
  storage: { writable: boolean; faults: StorageFault[]; failures: number };
  /** The partial-tile collector (tile-gc.ts) since open. */
  gc: TileGcCounters;
  /**
   * The public checkpoint writer (public-checkpoint.ts): why this process
   * stopped publishing (null while it publishes), and writes refused by the
   * store that were reconciled (an older checkpoint of this log) and retried.
   */
  publication: { stopped: PublicationStopReason | null; reconciled: number };
  /** Full tiles and bundles served from memory (tile-cache.ts): hits, store reads, bytes held. */
  tileCache: { hits: number; misses: number; bytes: number };
  /**
   * Tile summaries (tile-summaries.ts) since open, or null without a store:
   * written with new tiles, learned by proofs (none stored, or `replaced`: a
   * stored one that failed its check), and store calls that failed.
   */
  tileSummaries: { written: number; learned: number; replaced: number; failures: number; backfilled: number } | null;
}

/** Backoff between attempts to start a term whose recovery failed for a transient reason. */
const TERM_RETRY_MS = 1000;
/** Codes that end the log for good, wherever they come from: never sign past them. */
const FATAL_CODES = new Set(['LOG_FORK', 'LOG_CORRUPT', 'LOG_FOREIGN_TILES', 'STORAGE_CONFLICT', 'LOG_CONFIG']);

export class Log {
  readonly origin: string;
  readonly verifierKey: string;
  /** An identical entry gets the earlier index (so a client may safely retry an add whose answer was lost). */
  readonly dedup: boolean;
  readonly #o: ResolvedOptions;
  readonly #store: SequenceStore & TreeStateStore;
  readonly #tiles: TileStore;
  readonly #sequencer: Sequencer;
  readonly #cache: TileCache;
  /** Tree hashes and proofs from the published tiles (proof-reader.ts). */
  readonly #proofs: ProofReader;
  /** Full tiles' summaries (tile-summaries.ts), when the log has a store for them. */
  readonly #summaries: TileSummaries | null;
  readonly #onClose: (() => void | Promise<void>) | null;
  readonly #observers: Observers;
  readonly #health: StorageHealth;
  readonly #view: PublishedView;
  /** The live term, or null while a candidate. */
  #term: Term | null = null;
  /** The newest term (live or ended), for its counters. */
  #lastTerm: Term | null = null;
  #terms = 0;
  #repaired = 0;
  #fatal: TilelogError | null = null;
  /** Aborts acquire() and the poller at close. */
  readonly #stopping = new AbortController();
  #leading: Promise<void> | null = null;
  #poller: NodeJS.Timeout | null = null;
  #unwatch: (() => Promise<void>) | null = null;
  /** setPublished calls, one after another (the store keeps the largest). */
  #recording: Promise<unknown> = Promise.resolve();
  #closed: Promise<void> | null = null;
  /** The background fill of missing tile summaries, if one runs. */
  #backfill: Promise<void> = Promise.resolve();

  /** Use openLog(). */
  private constructor(o: ResolvedOptions, durableAtOpen: number, onClose: (() => void | Promise<void>) | null) {
    this.#o = o;
    this.origin = o.origin;
    this.dedup = o.dedup;
    this.verifierKey = o.signer.verifierKey;
    this.#store = o.store;
    this.#tiles = o.tiles;
    this.#onClose = onClose;
    this.#cache = new TileCache(o.tileCacheBytes);
    this.#summaries = o.tileSummaries === null ? null : new TileSummaries(o.tileSummaries, o.hasher, o.logger);
    this.#observers = new Observers();
    this.#health = new StorageHealth(o.storageProbes, o.storageProbeIntervalMs, o.logger);
    this.#view = new PublishedView(null, (cp) => this.#observers.published(cp.size));
    this.#proofs = new ProofReader({ tiles: o.tiles, hasher: o.hasher, cache: this.#cache, summaries: this.#summaries, view: this.#view });
    this.#sequencer = new Sequencer({
      store: o.store,
      durableSize: durableAtOpen,
      hasher: o.hasher,
      batchMaxEntries: o.batchMaxEntries,
      batchMaxDelayMs: o.batchMaxDelayMs,
      batchLingerMs: o.batchLingerMs,
      dedup: o.dedup,
      maxPendingEntries: o.maxPendingEntries,
      logger: o.logger,
      health: this.#health,
      onDurable: (entries, waitMs, durableSize) => {
        this.#observers.batchDurable(durableSize, entries, waitMs);
        this.#term?.checkpointer.wake();
      },
    });
  }

  /** @internal Opens the log: with a single-process lease, leads at once (recovery, then the loops); with a shared one, leads or follows. */
  static async open(opts: LogOptions, onClose: (() => void | Promise<void>) | null = null): Promise<Log> {
    const o = resolveOptions(opts);
    const log = new Log(o, await o.store.nextIndex(), onClose);
    try {
      if (o.lease.shared === true) await log.#openShared();
      else await log.#openSingle();
      if (o.backfillTileSummaries) log.#startBackfill();
      return log;
    } catch (err) {
      await log.#abandon();
      throw err;
    }
  }

  // #openSingle: one process ever leads (SQLite). The term starts now and its
  // errors fail the open; a lost term is final.
  async #openSingle(): Promise<void> {
    const leadership = await this.#o.lease.acquire(this.#stopping.signal);
    let term: Term;
    try {
      term = await this.#beginTerm(leadership);
    } catch (err) {
      await leadership.release();
      throw err;
    }
    await this.#health.probeAll();
    term.start();
    this.#leading = this.#watchTerm(term).then(() => undefined);
    // Finish integrating what was durable before the restart (with witnesses,
    // publication may take longer: only wait for the signature). A full or
    // failing disk does not hold the open: the log serves reads, reports not
    // ready, and the checkpointer keeps retrying until space returns.
    const durable = this.#sequencer.durableSize;
    const published = term.recovered.published;
    try {
      if (term.cosigner !== null) await term.checkpointer.waitForSigned(durable);
      else if (durable > published.size) await term.checkpointer.waitFor(durable - 1);
    } catch (err) {
      if (!isTilelogError(err, 'STORAGE_UNAVAILABLE')) throw err;
      this.#o.logger.warn(
        `opened with ${durable - term.checkpointer.integratedSize} durable entries not yet in a checkpoint: the disk refuses writes; ` +
          'serving reads, not ready; they are published once space returns',
      );
    }
  }

  // #openShared: several processes share the store. Open once a checkpoint is
  // known: from the store's published state, or from this process's own first
  // term (a new log: whoever leads first creates it).
  async #openShared(): Promise<void> {
    await this.#health.probeAll();
    await this.#pollPublished();
    this.#leading = this.#leadLoop();
    this.#schedulePoll();
    // Prompt news of checkpoints (LISTEN/NOTIFY) where the store has it; the poll stays as the fallback.
    if (this.#store.watchPublished !== undefined) {
      try {
        this.#unwatch = await this.#store.watchPublished(() => {
          if (this.#term === null && !this.#stopping.signal.aborted) {
            this.#pollPublished().catch((err: unknown) => this.#o.logger.warn('reading the published checkpoint from the state store failed', err));
          }
        });
      } catch (err) {
        this.#o.logger.warn('cannot listen for published checkpoints; polling only', err);
      }
    }
    if (this.#view.current !== null) return;
    // waitFor(-1): the first checkpoint of any size (a new log's first one has size 0).
    await this.#view.waitFor(-1);
  }

  // #beginTerm(leadership): recovery and the term's loops (not started yet).
  async #beginTerm(leadership: Leadership): Promise<Term> {
    const epoch = leadership.fence.epoch;
    const term = await startTerm(this.#o, {
      cache: this.#cache,
      summaries: this.#summaries,
      observers: this.#observers,
      health: this.#health,
      onPublished: (cp) => this.#publishedByTerm(term, cp),
    }, leadership);
    this.#terms++;
    this.#repaired += term.recovered.repaired.length;
    this.#term = term;
    this.#lastTerm = term;
    this.#view.advance(term.recovered.published);
    if (this.#o.lease.shared === true) this.#o.logger.info(`leading log ${this.origin} (epoch ${epoch}) at size ${term.recovered.state.size}`);
    return term;
  }

  // #publishedByTerm: the term made cp public: readers of this process see it
  // at once, other processes through the store's published state.
  #publishedByTerm(term: Term, cp: PublishedCheckpoint): void {
    this.#view.advance(cp);
    const p = { size: cp.size, text: cp.text, etag: term.publicCheckpoint.etag };
    this.#recording = this.#recording
      .then(() => this.#store.setPublished(term.leadership.fence, p))
      .catch((err: unknown) => this.#o.logger.warn(`recording the published checkpoint (size ${cp.size}) in the state store failed`, err));
  }

  // #watchTerm(term): waits for the term to end, stops its loops, and says
  // whether the process may become a candidate again (else the log is stopped).
  async #watchTerm(term: Term): Promise<boolean> {
    const reason = await term.ended;
    if (this.#term === term) this.#term = null;
    const shared = this.#o.lease.shared === true;
    // Superseded (a newer checkpoint of this log in the bucket): another leader published; the next term's recovery checks it.
    const stepDown =
      shared && (reason.code === 'LOG_NOT_LEADER' || (reason instanceof PublicationStoppedError && reason.reason === 'superseded'));
    const closing = this.#closed !== null && isTilelogError(reason, 'LOG_CLOSED');
    // Fatal: refuse adds and waits at once, before the term's loops wind down.
    if (!stepDown && !closing) this.#stop(reason);
    // Said when it happens: winding down may wait for calls a partition keeps unanswered (until their deadlines).
    const rejoin = stepDown && this.#closed === null;
    // The normal end of a term (another process leads now): one line, what happened and what comes next.
    if (rejoin) {
      this.#o.logger.warn(`stepped down from leading log ${this.origin} (epoch ${term.leadership.fence.epoch}), now a candidate: ${reason.message.replace(/^log: /, '')}`);
    }
    await term.stop();
    await term.leadership.release().catch(() => undefined);
    return rejoin && this.#closed === null;
  }

  // #leadLoop: candidate -> leader -> candidate ... until close() or a fatal error.
  async #leadLoop(): Promise<void> {
    for (;;) {
      if (this.#fatal !== null || this.#stopping.signal.aborted) return;
      let leadership: Leadership;
      try {
        leadership = await this.#o.lease.acquire(this.#stopping.signal);
      } catch (err) {
        if (this.#stopping.signal.aborted) return;
        this.#o.logger.warn('acquiring the signer lease failed; retrying', err);
        await sleep(TERM_RETRY_MS);
        continue;
      }
      if (this.#stopping.signal.aborted) {
        await leadership.release().catch(() => undefined);
        return;
      }
      let term: Term;
      try {
        term = await this.#beginTerm(leadership);
      } catch (err) {
        await leadership.release().catch(() => undefined);
        if (isTilelogError(err) && FATAL_CODES.has(err.code)) {
          this.#o.logger.error(`the log stopped: it signs nothing and refuses adds until the problem is fixed and the process restarted`, err);
          this.#stop(err);
          return;
        }
        if (!isTilelogError(err, 'LOG_NOT_LEADER')) this.#o.logger.warn('starting a term of leadership failed (recovery); retrying as a candidate', err);
        await sleep(TERM_RETRY_MS);
        continue;
      }
      term.start();
      if (!(await this.#watchTerm(term))) return;
    }
  }

  // #pollPublished: a process that does not lead learns of checkpoints from the store.
  async #pollPublished(): Promise<void> {
    if (this.#term !== null) return;
    const p = await this.#store.published();
    if (p === null || p.size < this.#view.size) return;
    if (this.#view.current !== null && p.size === this.#view.size && p.text === this.#view.current.text) return;
    // The trusted store holds what the signer wrote; still, only a checkpoint of this log with this key is served.
    const { checkpoint } = openCheckpoint(p.text, this.origin, [parseVerifierKey(this.verifierKey)]);
    if (checkpoint.size !== p.size) throw new TilelogError('LOG_CORRUPT', `log: the published state says size ${p.size} for a checkpoint of size ${checkpoint.size}`);
    this.#view.advance({ size: p.size, root: checkpoint.root, text: p.text });
  }

  #schedulePoll(): void {
    if (this.#stopping.signal.aborted) return;
    this.#poller = setTimeout(() => {
      this.#pollPublished()
        .catch((err: unknown) => this.#o.logger.warn('reading the published checkpoint from the state store failed; retrying', err))
        .finally(() => this.#schedulePoll());
    }, this.#o.publishedPollMs);
  }

  // #stop(err): the log stopped for good: adds and waiters get err, nothing more is signed.
  #stop(err: TilelogError): void {
    if (this.#fatal !== null) return;
    this.#fatal = err;
    this.#view.fail(err);
    this.#sequencer.abort(err);
  }

  // #abandon: a failed open releases what it took.
  async #abandon(): Promise<void> {
    this.#stopping.abort(new TilelogError('LOG_CLOSED', 'log: the open failed'));
    if (this.#poller !== null) clearTimeout(this.#poller);
    await this.#unwatch?.().catch(() => undefined);
    const term = this.#term;
    if (term !== null) {
      await term.stop().catch(() => undefined);
      await term.leadership.release().catch(() => undefined);
    }
    this.#health.close();
  }

  /** Resolves with the index once the entry is durable (its batch COMMITted). */
  add(entry: Uint8Array): Promise<AddResult> {
    return this.#sequencer.add(entry);
  }

  /** The first published checkpoint whose size is > index (waits for it, whichever process publishes it). */
  waitForCheckpoint(index: number, signal?: AbortSignal): Promise<PublishedCheckpoint> {
    if (!Number.isSafeInteger(index) || index < 0) {
      return Promise.reject(new TilelogError('MERKLE_RANGE', `log: index ${index} is not an integer in [0, 2^53-1]`));
    }
    const term = this.#term;
    if (term === null || index < this.#view.size) return this.#view.waitFor(index, signal);
    const waiting = term.checkpointer.waitFor(index, signal);
    if (this.#o.lease.shared !== true) return waiting;
    // The term may end before it publishes index: then another leader will, and the view sees it.
    return waiting.catch((err: unknown) => {
      if (this.#fatal === null && this.#closed === null && (isTilelogError(err, 'LOG_NOT_LEADER') || err instanceof PublicationStoppedError)) {
        return this.#view.waitFor(index, signal);
      }
      throw err;
    });
  }

  /** The latest published checkpoint (with witnesses: the cosigned one, as in the public `checkpoint`). */
  checkpoint(): PublishedCheckpoint {
    return this.#published();
  }

  /** The newest checkpoint signed by the log alone; ahead of checkpoint() while witnesses cosign. */
  logSignedCheckpoint(): PublishedCheckpoint {
    const cosigner = this.#term?.cosigner ?? null;
    if (cosigner !== null) return cosigner.logSigned;
    return this.#published();
  }

  /** Witness cosigning status (policy, sizes, per-witness counters), or null without witnesses or while not leading. */
  witnessStatus(): CosignerStatus | null {
    return (this.#term ?? this.#lastTerm)?.cosigner?.status() ?? null;
  }

  /**
   * The newest `limit` published checkpoints (size, root, commit time), in
   * ascending size order. Sizes signed but not yet public (awaiting
   * cosignatures) are left out.
   */
  checkpointHistory(limit: number): Promise<CheckpointRecord[]> {
    return this.#store.checkpointHistory(limit, this.#view.size);
  }

  /** The size of a checkpoint this log published with this root, or null. */
  async sizeForRoot(root: Hash): Promise<number | null> {
    if (!(root instanceof Uint8Array) || root.length !== 32) return null;
    const size = await this.#store.sizeForRoot(root);
    return size !== null && size <= this.#view.size ? size : null;
  }

  /** MTH of entries [0, size), size <= the published size. */
  async treeHash(size: number): Promise<Hash> {
    return this.#proofs.treeHash(size, this.#publishedAtLeast('size', size));
  }

  /** RFC 9162 inclusion proof of leaf index in the tree of size (index < size <= published). */
  async inclusionProof(index: number, size: number): Promise<Hash[]> {
    const published = this.#publishedAtLeast('size', size);
    assertSafeIndex('index', index);
    return this.#proofs.inclusionProof(index, size, published);
  }

  /**
   * The leaf hash of entry index as the published tiles hold it (index < size
   * <= published): the stored hash an inclusion proof's level-0 tile already
   * holds, so a proof answer need not read the entry from the database too.
   */
  async leafHash(index: number, size: number): Promise<Hash> {
    const published = this.#publishedAtLeast('size', size);
    assertSafeIndex('index', index);
    if (index >= size) throw new TilelogError('MERKLE_RANGE', `log: index ${index} is not in a tree of size ${size}`);
    return this.#proofs.leafHash(index, published);
  }

  /** RFC 9162 consistency proof between sizes (0 < oldSize <= newSize <= published). */
  async consistencyProof(oldSize: number, newSize: number): Promise<Hash[]> {
    const published = this.#publishedAtLeast('newSize', newSize);
    assertSafeIndex('oldSize', oldSize);
    return this.#proofs.consistencyProof(oldSize, newSize, published);
  }

  /** The entry at index; LOG_NOT_FOUND unless a published checkpoint covers it. */
  async entry(index: number): Promise<Uint8Array> {
    assertSafeIndex('index', index);
    const published = this.#view.size;
    const data = index < published ? await this.#store.entry(index) : null;
    if (data === null) {
      throw new TilelogError('LOG_NOT_FOUND', `log: no entry ${index} in the published tree of size ${published}`);
    }
    return data;
  }

  /** The index of the first durable entry with this leaf hash, or null. */
  async lookup(leafHash: Hash): Promise<number | null> {
    if (!(leafHash instanceof Uint8Array) || leafHash.length !== 32) return null;
    return this.#store.lookup(leafHash);
  }

  /** A public object (checkpoint, tile, bundle) as published, or null. LAYOUT_BAD_PATH for other paths. */
  async readPublic(path: string): Promise<Uint8Array | null> {
    assertPublicPath(path);
    return this.#cache.read(this.#tiles, path);
  }

  stats(): LogStats {
    const s = this.#sequencer.counters;
    const term = this.#term ?? this.#lastTerm;
    const c = term?.checkpointer.counters ?? { checkpoints: 0, failedPasses: 0 };
    const fatal = this.#fatal ?? (this.#o.lease.shared === true ? null : (term?.checkpointer.fatal ?? null));
    return {
      sequenced: this.#sequencer.durableSize,
      integrated: this.#term?.checkpointer.integratedSize ?? this.#view.size,
      published: this.#view.size,
      pending: this.#sequencer.pending,
      duplicates: s.duplicates,
      batches: s.batches,
      checkpoints: c.checkpoints,
      failedBatches: s.failedBatches,
      failedPasses: c.failedPasses,
      repairedAtOpen: this.#repaired,
      refusedReads: this.#tiles instanceof FileTileStore ? this.#tiles.refusedReads : 0,
      fatal: fatal?.message ?? null,
      leader: { leading: this.#term !== null, epoch: this.#term?.leadership.fence.epoch ?? null, terms: this.#terms },
      witnesses: this.witnessStatus(),
      storage: { writable: this.#health.writable, faults: this.#health.faults(), failures: this.#health.failures },
      gc: term === null ? { runs: 0, failedRuns: 0, deletedObjects: 0, deletedBytes: 0 } : { ...term.gc.counters },
      publication: { stopped: fatal instanceof PublicationStoppedError ? fatal.reason : null, reconciled: term?.publicCheckpoint.counters.reconciled ?? 0 },
      tileCache: { ...this.#cache.counters, bytes: this.#cache.bytes },
      tileSummaries: this.#summaries === null ? null : { ...this.#summaries.counters },
    };
  }

  /** Whether this process leads (signs) now. */
  leading(): boolean {
    return this.#term !== null;
  }

  /** False while a store refuses writes (a full or failing disk): adds answer 503 until it takes writes again. */
  writable(): boolean {
    return this.#health.writable;
  }

  /** Delete every partial tile and bundle that may go now (tile-gc.ts); the collector also runs in the background. Only the leader collects. */
  collectPartialTiles(): Promise<TileGcRun> {
    const term = this.#term;
    if (term === null) return Promise.reject(new TilelogError('LOG_NOT_LEADER', 'log: only the process that leads collects partial tiles'));
    return term.gc.collect();
  }

  /** Subscribe to batch, checkpoint and witness events (for metrics); returns the unsubscribe function. */
  observe(observer: LogObserver): () => void {
    return this.#observers.add(observer);
  }

  /** Milliseconds since the public checkpoint was last written by this process (since open if not yet). */
  checkpointAgeMs(): number {
    return Date.now() - this.#observers.publishedAtMs;
  }

  /** Flush pooled adds, publish everything durable (while leading), stop the loops, release the lease. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.#sequencer.close();
      this.#stopping.abort(new TilelogError('LOG_CLOSED', 'log: the log is closed'));
      await this.#backfill;
      if (this.#poller !== null) clearTimeout(this.#poller);
      await this.#unwatch?.();
      const term = this.#term;
      if (term !== null) {
        await term.stop();
        await term.leadership.release().catch((err: unknown) => this.#o.logger.warn('releasing the signer lease failed', err));
      }
      await this.#leading?.catch(() => undefined);
      await this.#recording;
      this.#view.fail(this.#fatal ?? new TilelogError('LOG_CLOSED', 'log: the log is closed'));
      this.#health.close();
      await this.#onClose?.();
    })();
    return this.#closed;
  }

  // #startBackfill: the summaries of the published tree's full tiles that
  // have none, in the background until done or closed (tile-summaries.ts).
  #startBackfill(): void {
    const summaries = this.#summaries;
    if (summaries === null) return;
    const read = (t: TileId) => this.#o.tiles.read(tilePath(t)).catch(() => null);
    this.#backfill = summaries
      .backfill(this.#view.size, read, this.#stopping.signal)
      .catch((err: unknown) => this.#o.logger.warn(`tile summaries: filling them in stopped (${err instanceof Error ? err.message : String(err)}); proofs fill them in as they read`));
  }

  #published(): PublishedCheckpoint {
    const cp = this.#view.current;
    if (cp === null) throw new TilelogError('LOG_NOT_FOUND', `log: ${this.origin} has no published checkpoint yet`);
    return cp;
  }

  #publishedAtLeast(name: string, size: number): number {
    assertSafeIndex(name, size);
    const published = this.#view.size;
    if (size > published) {
      throw new TilelogError('LOG_NOT_FOUND', `log: ${name} ${size} is beyond the published tree size ${published}`);
    }
    return published;
  }
}

/** Open a log: the lease, recovery, then the sequencing and checkpointing loops. The caller owns opts.store (or opts.db). */
export function openLog(opts: LogOptions): Promise<Log> {
  return Log.open(opts);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
