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
// Open: acquire the lease, then startTerm() (recovery, the witnesses' stored
// sizes) before the checkpointer, cosigner and collector start with that
// term's fence. A term that ends (the fenced commit answers 'lost') stops
// them with LOG_NOT_LEADER; this process then signs and publishes nothing more.
//
// The order of durable effects, with what a crash (SIGKILL, power loss) at
// each point leaves behind and what recovery does there:
//   S1. Sequencing transaction not yet COMMITted: SQLite rolls it back. No add
//       of the batch was acknowledged. Recovery: nothing to do.
//   S2. COMMITted, acknowledgements not (all) sent: the entries are durable.
//       Recovery: the checkpointer integrates them; a retried add is answered
//       with the same index (dedup on).
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
import type { Hash, Hasher } from '../merkle/hash.js';
import { assertSafeIndex } from '../merkle/math.js';
import { consistencyProof, inclusionProof } from '../merkle/proof.js';
import { treeHash } from '../merkle/tree.js';
import type { Leadership, SequenceStore, TreeStateStore } from '../storage/log-store.js';
import type { CheckpointRecord } from '../storage/sequence-db.js';
import { FileTileStore } from '../storage/file-tile-store.js';
import { assertPublicPath, type TileStore } from '../storage/tile-store.js';
import { Checkpointer } from './checkpointer.js';
import { Cosigner, witnessSizes, type CosignerStatus } from './cosigner.js';
import { Observers, type LogObserver } from './observer.js';
import { resolveOptions, type LogOptions, type ResolvedOptions } from './options.js';
import type { PublishedCheckpoint } from './publisher.js';
import { recover, type Recovered } from './recover.js';
import { Sequencer, type AddResult } from './sequencer.js';
import { publishedHashReader } from './tile-reader.js';
import { TileCache } from './tile-cache.js';
import { parseVerifierKey } from '../note/keys.js';
import { PublicCheckpoint, PublicationStoppedError, type PublicationStopReason } from './public-checkpoint.js';
import { StorageHealth, type StorageFault } from './storage-health.js';
import { TileGc, type TileGcCounters, type TileGcRun } from './tile-gc.js';

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
}

export class Log {
  readonly origin: string;
  readonly verifierKey: string;
  /** An identical entry gets the earlier index (so a client may safely retry an add whose answer was lost). */
  readonly dedup: boolean;
  readonly #store: SequenceStore & TreeStateStore;
  readonly #leadership: Leadership;
  readonly #tiles: TileStore;
  readonly #hasher: Hasher;
  readonly #sequencer: Sequencer;
  readonly #checkpointer: Checkpointer;
  readonly #cosigner: Cosigner | null;
  readonly #cache: TileCache;
  readonly #onClose: (() => void) | null;
  readonly #repaired: number;
  readonly #observers: Observers;
  readonly #health: StorageHealth;
  readonly #gc: TileGc;
  readonly #public: PublicCheckpoint;
  #closed: Promise<void> | null = null;

  /** Use openLog(). */
  private constructor(
    origin: string,
    verifierKey: string,
    store: SequenceStore & TreeStateStore,
    leadership: Leadership,
    tiles: TileStore,
    hasher: Hasher,
    sequencer: Sequencer,
    checkpointer: Checkpointer,
    cosigner: Cosigner | null,
    repaired: number,
    onClose: (() => void) | null,
    cache: TileCache,
    observers: Observers,
    health: StorageHealth,
    gc: TileGc,
    publicCheckpoint: PublicCheckpoint,
    dedup: boolean,
  ) {
    this.origin = origin;
    this.dedup = dedup;
    this.verifierKey = verifierKey;
    this.#store = store;
    this.#leadership = leadership;
    this.#tiles = tiles;
    this.#hasher = hasher;
    this.#sequencer = sequencer;
    this.#checkpointer = checkpointer;
    this.#cosigner = cosigner;
    this.#repaired = repaired;
    this.#onClose = onClose;
    this.#cache = cache;
    this.#observers = observers;
    this.#health = health;
    this.#gc = gc;
    this.#public = publicCheckpoint;
  }

  /** @internal Acquires the lease, runs recovery, starts the loops and waits for a half-done integration to finish. */
  static async open(opts: LogOptions, onClose: (() => void) | null = null): Promise<Log> {
    const o = resolveOptions(opts);
    const leadership = await o.lease.acquire(new AbortController().signal);
    try {
      return await Log.#openLeading(o, leadership, onClose);
    } catch (err) {
      await leadership.release();
      throw err;
    }
  }

  static async #openLeading(o: ResolvedOptions, leadership: Leadership, onClose: (() => void) | null): Promise<Log> {
    // The checkpointer, the sequencer and the cosigner refer to each other through callbacks.
    let sequencer: Sequencer | null = null;
    let checkpointer: Checkpointer | null = null;
    // The one writer of the public checkpoint, for this log only (recovery seeds it).
    const publicCheckpoint = new PublicCheckpoint({
      tiles: o.tiles,
      store: o.store,
      origin: o.origin,
      verifier: parseVerifierKey(o.signer.verifierKey),
      verifierKey: o.signer.verifierKey,
      onStopped: (err) => checkpointer?.stop(err),
      onReconciled: (found, publishing) =>
        o.logger.warn(
          `the public checkpoint in ${o.tiles.description} changed under this process (now size ${found}, an older checkpoint of this log); ` +
            `publishing size ${publishing} over it. Is a second process writing this log?`,
        ),
    });
    const { recovered, storedSizes } = await startTerm(o, publicCheckpoint, leadership);
    const { state, published, repaired } = recovered;
    const durableAtOpen = await o.store.nextIndex();
    const cache = new TileCache(o.tileCacheBytes);
    const observers = new Observers();
    const health = new StorageHealth(o.storageProbes, o.storageProbeIntervalMs, o.logger);
    let cosigner: Cosigner | null = null;
    const gc = new TileGc(
      {
        store: o.store,
        fence: leadership.fence,
        tiles: o.tiles,
        graceMs: o.partialGraceMs,
        intervalMs: o.partialGcIntervalMs,
        logger: o.logger,
        // Proofs read at the public size, the cosigner at the sizes it may publish; recovery replays the signed size.
        pinnedSizes: () => [checkpointer?.published.size ?? published.size, checkpointer?.integratedSize ?? state.size, ...(cosigner?.heldSizes ?? [])],
        onFailure: (err) => health.failed(err),
        onSuccess: () => health.ok('tiles'),
      },
      published.size,
    );
    cosigner =
      o.witnesses === null
        ? null
        : new Cosigner(
            {
              checkpoint: publicCheckpoint,
              store: o.store,
              storedSizes,
              ...o.witnesses,
              logger: o.logger,
              // Tiles for every committed size exist (written before the commit).
              proof: (oldSize, newSize) =>
                consistencyProof(oldSize, newSize, publishedHashReader(newSize, o.tiles, o.hasher, cache, () => checkpointer?.integratedSize ?? newSize), o.hasher),
              onPublished: (cp) => checkpointer?.advancePublished(cp),
              onWitnessAnswered: (name, ok, ms) => observers.witnessAnswered(name, ok, ms),
              health,
            },
            state,
            published,
          );
    checkpointer = new Checkpointer(
      {
        store: o.store,
        leadership,
        pollMs: o.sequencePollMs,
        tiles: o.tiles,
        checkpoint: publicCheckpoint,
        origin: o.origin,
        signer: o.signer,
        hasher: o.hasher,
        integrateMaxEntries: o.integrateMaxEntries,
        checkpointIntervalMs: o.checkpointIntervalMs,
        logger: o.logger,
        onFatal: (err) => {
          // Nothing writes the public checkpoint after a fatal stop (the cosigner included).
          publicCheckpoint.stop(err);
          sequencer?.abort(err);
        },
        onPublished: (cp) => {
          observers.published(cp.size);
          gc.published(cp.size);
        },
        onAbandoned: (size) => gc.abandoned(size),
        health,
        cosigner,
      },
      state,
      published,
    );
    sequencer = new Sequencer({
      store: o.store,
      durableSize: durableAtOpen,
      hasher: o.hasher,
      batchMaxEntries: o.batchMaxEntries,
      batchMaxDelayMs: o.batchMaxDelayMs,
      dedup: o.dedup,
      maxPendingEntries: o.maxPendingEntries,
      logger: o.logger,
      health,
      onDurable: (entries, waitMs, durableSize) => {
        observers.batchDurable(durableSize, entries, waitMs);
        checkpointer.wake();
      },
    });
    await health.probeAll();
    const log = new Log(o.origin, o.signer.verifierKey, o.store, leadership, o.tiles, o.hasher, sequencer, checkpointer, cosigner, repaired.length, onClose, cache, observers, health, gc, publicCheckpoint, o.dedup);
    checkpointer.start();
    cosigner?.start();
    // Finish integrating what was durable before the restart (with witnesses,
    // publication may take longer: only wait for the signature). A full or
    // failing disk does not hold the open: the log serves reads, reports not
    // ready, and the checkpointer keeps retrying until space returns.
    const durable = durableAtOpen;
    try {
      if (cosigner !== null) await checkpointer.waitForSigned(durable);
      else if (durable > published.size) await checkpointer.waitFor(durable - 1);
    } catch (err) {
      if (!isTilelogError(err, 'STORAGE_UNAVAILABLE')) throw err;
      o.logger.warn(
        `opened with ${durable - checkpointer.integratedSize} durable entries not yet in a checkpoint: the disk refuses writes; ` +
          'serving reads, not ready; they are published once space returns',
      );
    }
    gc.start();
    return log;
  }

  /** Resolves with the index once the entry is durable (its batch COMMITted). */
  add(entry: Uint8Array): Promise<AddResult> {
    return this.#sequencer.add(entry);
  }

  /** The first published checkpoint whose size is > index (waits for it). */
  waitForCheckpoint(index: number, signal?: AbortSignal): Promise<PublishedCheckpoint> {
    return this.#checkpointer.waitFor(index, signal);
  }

  /** The latest published checkpoint (with witnesses: the cosigned one, as in the public `checkpoint`). */
  checkpoint(): PublishedCheckpoint {
    return this.#checkpointer.published;
  }

  /** The newest checkpoint signed by the log alone; ahead of checkpoint() while witnesses cosign. */
  logSignedCheckpoint(): PublishedCheckpoint {
    if (this.#cosigner !== null) return this.#cosigner.logSigned;
    const p = this.#checkpointer.published;
    return p;
  }

  /** Witness cosigning status (policy, sizes, per-witness counters), or null without witnesses. */
  witnessStatus(): CosignerStatus | null {
    return this.#cosigner?.status() ?? null;
  }

  /**
   * The newest `limit` published checkpoints (size, root, commit time), in
   * ascending size order. Sizes signed but not yet public (awaiting
   * cosignatures) are left out.
   */
  checkpointHistory(limit: number): Promise<CheckpointRecord[]> {
    return this.#store.checkpointHistory(limit, this.#checkpointer.published.size);
  }

  /** The size of a checkpoint this log published with this root, or null. */
  async sizeForRoot(root: Hash): Promise<number | null> {
    if (!(root instanceof Uint8Array) || root.length !== 32) return null;
    const size = await this.#store.sizeForRoot(root);
    return size !== null && size <= this.#checkpointer.published.size ? size : null;
  }

  /** MTH of entries [0, size), size <= the published size. */
  async treeHash(size: number): Promise<Hash> {
    const published = this.#publishedAtLeast('size', size);
    return treeHash(size, this.#reader(published), this.#hasher);
  }

  /** RFC 9162 inclusion proof of leaf index in the tree of size (index < size <= published). */
  async inclusionProof(index: number, size: number): Promise<Hash[]> {
    const published = this.#publishedAtLeast('size', size);
    assertSafeIndex('index', index);
    return inclusionProof(size, index, this.#reader(published), this.#hasher);
  }

  /** RFC 9162 consistency proof between sizes (0 < oldSize <= newSize <= published). */
  async consistencyProof(oldSize: number, newSize: number): Promise<Hash[]> {
    const published = this.#publishedAtLeast('newSize', newSize);
    assertSafeIndex('oldSize', oldSize);
    return consistencyProof(oldSize, newSize, this.#reader(published), this.#hasher);
  }

  /** The entry at index; LOG_NOT_FOUND unless a published checkpoint covers it. */
  async entry(index: number): Promise<Uint8Array> {
    assertSafeIndex('index', index);
    const published = this.#checkpointer.published.size;
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
    const c = this.#checkpointer.counters;
    const fatal = this.#checkpointer.fatal;
    return {
      sequenced: this.#sequencer.durableSize,
      integrated: this.#checkpointer.integratedSize,
      published: this.#checkpointer.published.size,
      pending: this.#sequencer.pending,
      duplicates: s.duplicates,
      batches: s.batches,
      checkpoints: c.checkpoints,
      failedBatches: s.failedBatches,
      failedPasses: c.failedPasses,
      repairedAtOpen: this.#repaired,
      refusedReads: this.#tiles instanceof FileTileStore ? this.#tiles.refusedReads : 0,
      fatal: fatal?.message ?? null,
      witnesses: this.witnessStatus(),
      storage: { writable: this.#health.writable, faults: this.#health.faults(), failures: this.#health.failures },
      gc: { ...this.#gc.counters },
      publication: { stopped: fatal instanceof PublicationStoppedError ? fatal.reason : null, reconciled: this.#public.counters.reconciled },
      tileCache: { ...this.#cache.counters, bytes: this.#cache.bytes },
    };
  }

  /** False while a store refuses writes (a full or failing disk): adds answer 503 until it takes writes again. */
  writable(): boolean {
    return this.#health.writable;
  }

  /** Delete every partial tile and bundle that may go now (tile-gc.ts); the collector also runs in the background. */
  collectPartialTiles(): Promise<TileGcRun> {
    return this.#gc.collect();
  }

  /** Subscribe to batch, checkpoint and witness events (for metrics); returns the unsubscribe function. */
  observe(observer: LogObserver): () => void {
    return this.#observers.add(observer);
  }

  /** Milliseconds since the public checkpoint was last written by this process (since open if not yet). */
  checkpointAgeMs(): number {
    return Date.now() - this.#observers.publishedAtMs;
  }

  /** Flush pooled adds, publish everything durable, stop the loops. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.#sequencer.close();
      await this.#gc.close();
      await this.#checkpointer.close();
      await this.#leadership.release();
      this.#health.close();
      this.#onClose?.();
    })();
    return this.#closed;
  }

  #publishedAtLeast(name: string, size: number): number {
    assertSafeIndex(name, size);
    const published = this.#checkpointer.published.size;
    if (size > published) {
      throw new TilelogError('LOG_NOT_FOUND', `log: ${name} ${size} is beyond the published tree size ${published}`);
    }
    return published;
  }

  #reader(published: number) {
    return publishedHashReader(published, this.#tiles, this.#hasher, this.#cache, () => this.#checkpointer.published.size);
  }
}

/** Open a log: the lease, recovery, then the sequencing and checkpointing loops. The caller owns opts.store (or opts.db). */
export function openLog(opts: LogOptions): Promise<Log> {
  return Log.open(opts);
}

// startTerm: what a new term of leadership runs before the signer's loops
// start: recovery (recover.ts: the previous holder may have stopped anywhere)
// and the witnesses' remembered sizes. Today once, at open; with a shared
// store, at every acquisition.
async function startTerm(
  o: ResolvedOptions,
  publicCheckpoint: PublicCheckpoint,
  leadership: Leadership,
): Promise<{ recovered: Recovered; storedSizes: Map<string, number | null> }> {
  const recovered = await recover(o, publicCheckpoint, leadership.fence);
  const storedSizes = o.witnesses === null ? new Map<string, number | null>() : await witnessSizes(o.store, o.witnesses.policy);
  return { recovered, storedSizes };
}
