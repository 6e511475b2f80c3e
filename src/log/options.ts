// LogOptions: everything a Log needs, with named defaults and their
// trade-offs. resolveOptions() applies the defaults and checks each field,
// failing with TilelogError('LOG_CONFIG') naming the field and the fix.

import { hash as nodeHash } from 'node:crypto';
import { TilelogError } from '../errors.js';
import { makeHasher, type Hasher, type Sha256 } from '../merkle/hash.js';
import { sha256NodeInto } from '../merkle/sha256-node.js';
import { parseVerifierKey, type NoteSigner } from '../note/keys.js';
import type { WitnessPolicy } from '../note/policy.js';
import type { LeaderLease, SequenceStore, TreeStateStore } from '../storage/log-store.js';
import type { SequenceDB } from '../storage/sequence-db.js';
import { HeldLease, SqliteLogStore } from '../storage/sqlite-log-store.js';
import type { TileStore } from '../storage/tile-store.js';
import type { TileSummaryStore } from '../storage/tile-summary-store.js';
import type { StorageProbes } from './storage-health.js';
import { DEFAULT_TILE_CACHE_BYTES } from './tile-cache.js';

/** Where the engine reports what happens; all methods optional in spirit, all called with one line. */
export interface LogLogger {
  info(message: string): void;
  warn(message: string, err?: unknown): void;
  error(message: string, err?: unknown): void;
}

export interface LogOptions {
  /** The checkpoint origin line, e.g. `example.com/log`. */
  origin: string;
  /** The log's checkpoint signer; verifierKey is published and used to check stored checkpoints. */
  signer: NoteSigner & { readonly verifierKey: string };
  /**
   * Trusted state (the durable sequence and the last signed checkpoint), as
   * the frontend's and the signer's asynchronous interfaces (log-store.ts).
   * Give exactly one of store and db. The caller owns it (the log never closes it).
   */
  store?: SequenceStore & TreeStateStore;
  /** Shorthand for `store: new SqliteLogStore(db)`: a synchronous SequenceDB such as SqliteSequenceDB. */
  db?: SequenceDB;
  /**
   * Who signs among processes sharing the store. Default: a lease that is
   * always held (one process per store, as with SQLite).
   */
  lease?: LeaderLease;
  /**
   * How often the signer reads the store's next index when idle, to find
   * entries other processes sequenced. 0 (default): only this process's own
   * adds wake it, right when no other process sequences into the store (SQLite).
   */
  sequencePollMs?: number;
  /**
   * With a shared lease (several processes), how often a process that does
   * not lead reads the store's published state, so its checkpoint() and
   * ?wait=checkpoint follow the leader. Default 250.
   */
  publishedPollMs?: number;
  /** Public, untrusted tiles and checkpoint. */
  tiles: TileStore;
  /** Flush a batch at this many pooled entries. Larger: fewer fsyncs, more memory. Default 4096. */
  batchMaxEntries?: number;
  /** Flush a batch this long after its first entry (0: at the next event-loop turn). Larger: fewer fsyncs, but closed-loop clients wait longer; 1 measured best here with 64 clients. Default 1. */
  batchMaxDelayMs?: number;
  /**
   * After a sequencing call returns, wait up to this long for the pool to
   * grow by as many entries as the batch just stored before sending the
   * next (the clients just answered often send again at once). 0 (default):
   * send what pooled at once. Under a steady load the batches that would
   * alternate (half the clients in the call, half pooling) merge into one,
   * so a shared store takes half the calls and commits per add; an add
   * waits at most this long more.
   */
  batchLingerMs?: number;
  /** Return the earlier index for an identical entry (by leaf hash). Default true. */
  dedup?: boolean;
  /** Refuse adds with LOG_PUSHBACK while this many entries wait in the pool. Default 65536. */
  maxPendingEntries?: number;
  /** SHA-256 for the tree; default node:crypto's one-shot crypto.hash (fastest here). */
  sha256?: Sha256;
  /** Minimum time between two checkpoints. 0 (default): publish as soon as new entries are durable, coalescing. */
  checkpointIntervalMs?: number;
  /** Most entries integrated per checkpoint, which bounds memory per pass. Default 16384. */
  integrateMaxEntries?: number;
  /**
   * Keep a replaced checkpoint's partial tiles and bundles this long after it
   * was replaced (tile-gc.ts), so a client that read it just before has time
   * to fetch its right edge. Longer: more room for slow clients, and up to
   * graceMs worth of superseded partials on disk (one add per checkpoint
   * writes ~128 entries of partial bundle per add). Default 60000: the
   * max-age partial tiles are served with (http/cache.ts).
   */
  partialGraceMs?: number;
  /** Time between background runs of the partial-tile collector. Default 1000. */
  partialGcIntervalMs?: number;
  /**
   * Bytes of full tiles and full bundles kept in memory for reads (tile-cache.ts):
   * /tile GETs and proofs then reach the store once per object (they never change).
   * Larger: fewer store reads (network round trips with a bucket), more memory.
   * 0 disables it. Default 67108864 (64 MiB).
   */
  tileCacheBytes?: number;
  /**
   * Where full hash tiles' summaries are kept (storage/tile-summary-store.ts):
   * proofs then hash ~22 nodes per tile instead of ~250. Derived data, checked
   * before use; the log writes it as it writes tiles and fills in what is
   * missing as proofs read. openFileLog keeps it in the state directory.
   * Absent: proofs hash from the tiles alone. The caller owns the store.
   */
  tileSummaries?: TileSummaryStore;
  /**
   * At open, fill in the summaries full tiles lack, in the background
   * (tile-summaries.ts backfill): reads every full tile once, so openFileLog
   * sets it for a tiles directory, not for a bucket. Default false.
   */
  backfillTileSummaries?: boolean;
  /** Writes that tell whether a store that refused writes takes them again (storage-health.ts); openFileLog sets them. */
  storageProbes?: StorageProbes;
  /** Time between those probes while a store refuses writes. Default 1000. */
  storageProbeIntervalMs?: number;
  /** Default: warnings and errors to stderr. */
  logger?: LogLogger;
  /** Gather witness cosignatures before publishing (cosigner.ts). Absent or no witnesses: publish log-signed checkpoints directly. */
  witnesses?: WitnessOptions;
}

export interface WitnessOptions {
  /** Witnesses (each with a URL) and the quorum; from parsePolicy or simplePolicy in tilelog/note. */
  policy: WitnessPolicy;
  /** Longest wait for one witness per round, 409 retry included. Longer: slow witnesses still count; shorter: a hung witness delays publication less. Default 5000. */
  timeoutMs?: number;
  /** Re-collect cosignatures this long after a publication when the tree does not grow (fresh timestamps for clients that bound their age). Default 60000. */
  refreshMs?: number;
  /** Publish the checkpoint with whatever cosignatures arrived when the policy is not met. Default false (fail-closed: the public checkpoint waits). */
  failOpen?: boolean;
}

export interface ResolvedWitnessOptions {
  policy: WitnessPolicy;
  timeoutMs: number;
  refreshMs: number;
  failOpen: boolean;
}

export interface ResolvedOptions {
  origin: string;
  signer: NoteSigner & { readonly verifierKey: string };
  store: SequenceStore & TreeStateStore;
  lease: LeaderLease;
  sequencePollMs: number;
  publishedPollMs: number;
  tiles: TileStore;
  batchMaxEntries: number;
  batchMaxDelayMs: number;
  batchLingerMs: number;
  dedup: boolean;
  maxPendingEntries: number;
  hasher: Hasher;
  checkpointIntervalMs: number;
  integrateMaxEntries: number;
  partialGraceMs: number;
  partialGcIntervalMs: number;
  tileCacheBytes: number;
  tileSummaries: TileSummaryStore | null;
  backfillTileSummaries: boolean;
  storageProbes: StorageProbes;
  storageProbeIntervalMs: number;
  logger: LogLogger;
  /** null: no witnesses, checkpoints are published as signed. */
  witnesses: ResolvedWitnessOptions | null;
}

/** node:crypto one-shot SHA-256 (Node >= 20.12), the engine's default hash. */
// Returned as a plain Uint8Array view (no copy) so API hashes are not Buffers.
export const nodeSha256: Sha256 = (data) => {
  const b = nodeHash('sha256', data, 'buffer');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
};

export const stderrLogger: LogLogger = {
  info: () => undefined,
  warn: (message, err) => console.warn(`tilelog: ${message}`, err ?? ''),
  error: (message, err) => console.error(`tilelog: ${message}`, err ?? ''),
};

/** Default partialGraceMs: the max-age of partial tiles (CACHE_PARTIAL). */
export const DEFAULT_PARTIAL_GRACE_MS = 60_000;

export function resolveOptions(opts: LogOptions): ResolvedOptions {
  if (typeof opts.origin !== 'string' || opts.origin.length === 0) {
    throw configError('origin', 'must be a non-empty string such as "example.com/log"');
  }
  if ((opts.store === undefined) === (opts.db === undefined)) {
    throw configError('store', 'must be given, or db, but not both');
  }
  const store: SequenceStore & TreeStateStore = opts.store ?? new SqliteLogStore(opts.db as SequenceDB);
  const field = opts.store === undefined ? 'db' : 'store';
  if (store.origin !== opts.origin) {
    throw configError(field, `belongs to origin ${JSON.stringify(store.origin)}, not ${JSON.stringify(opts.origin)}`);
  }
  // A store that fixed dedup when the log was created (PostgreSQL: a unique
  // leaf-hash index or none) decides; an explicit other choice is a mistake.
  if (store.dedup !== undefined && opts.dedup !== undefined && store.dedup !== opts.dedup) {
    throw configError(
      'dedup',
      `is ${opts.dedup ? 'on' : 'off'}, but log ${opts.origin} was created with dedup ${store.dedup ? 'on' : 'off'} and keeps it; ` +
        `run it with dedup ${store.dedup ? 'on' : 'off'} (or create a new log)`,
    );
  }
  if (typeof opts.signer?.verifierKey !== 'string') {
    throw configError('signer', 'must carry its verifierKey (use parseSignerKey from tilelog/note)');
  }
  return {
    origin: opts.origin,
    signer: opts.signer,
    store,
    lease: opts.lease ?? new HeldLease(),
    sequencePollMs: positiveInt('sequencePollMs', opts.sequencePollMs ?? 0, 0),
    publishedPollMs: positiveInt('publishedPollMs', opts.publishedPollMs ?? 250, 1),
    tiles: opts.tiles,
    batchMaxEntries: positiveInt('batchMaxEntries', opts.batchMaxEntries ?? 4096, 1),
    batchMaxDelayMs: positiveInt('batchMaxDelayMs', opts.batchMaxDelayMs ?? 1, 0),
    batchLingerMs: positiveInt('batchLingerMs', opts.batchLingerMs ?? 0, 0),
    dedup: opts.dedup ?? store.dedup ?? true,
    maxPendingEntries: positiveInt('maxPendingEntries', opts.maxPendingEntries ?? 65536, 1),
    hasher: opts.sha256 === undefined ? makeHasher(nodeSha256, sha256NodeInto) : makeHasher(opts.sha256),
    checkpointIntervalMs: positiveInt('checkpointIntervalMs', opts.checkpointIntervalMs ?? 0, 0),
    integrateMaxEntries: positiveInt('integrateMaxEntries', opts.integrateMaxEntries ?? 16384, 1),
    partialGraceMs: positiveInt('partialGraceMs', opts.partialGraceMs ?? DEFAULT_PARTIAL_GRACE_MS, 0),
    partialGcIntervalMs: positiveInt('partialGcIntervalMs', opts.partialGcIntervalMs ?? 1000, 1),
    tileCacheBytes: positiveInt('tileCacheBytes', opts.tileCacheBytes ?? DEFAULT_TILE_CACHE_BYTES, 0),
    tileSummaries: opts.tileSummaries ?? null,
    backfillTileSummaries: opts.backfillTileSummaries ?? false,
    storageProbes: opts.storageProbes ?? {},
    storageProbeIntervalMs: positiveInt('storageProbeIntervalMs', opts.storageProbeIntervalMs ?? 1000, 1),
    logger: opts.logger ?? stderrLogger,
    witnesses: resolveWitnesses(opts),
  };
}

// resolveWitnesses: every witness needs a URL to be asked, and a policy that
// lists logs must list this one (else its clients would reject our checkpoints).
function resolveWitnesses(opts: LogOptions): ResolvedWitnessOptions | null {
  const w = opts.witnesses;
  if (w === undefined || w.policy.witnesses.length === 0) return null;
  for (const witness of w.policy.witnesses) {
    if (witness.url === null) {
      throw configError('witnesses.policy', `lists witness ${witness.name} without a URL; the log cannot ask it to cosign`);
    }
  }
  if (w.policy.logs.length > 0) {
    const ours = parseVerifierKey(opts.signer.verifierKey);
    const listed = w.policy.logs.some(
      (l) => l.verifier.keyId === ours.keyId && l.verifier.name === ours.name && l.verifier.publicKey.every((b, i) => b === ours.publicKey[i]),
    );
    if (!listed) throw configError('witnesses.policy', `lists logs but not this one (${opts.signer.verifierKey})`);
  }
  return {
    policy: w.policy,
    timeoutMs: positiveInt('witnesses.timeoutMs', w.timeoutMs ?? 5000, 1),
    refreshMs: positiveInt('witnesses.refreshMs', w.refreshMs ?? 60_000, 1),
    failOpen: w.failOpen ?? false,
  };
}

function positiveInt(field: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw configError(field, `must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}

function configError(field: string, why: string): TilelogError {
  return new TilelogError('LOG_CONFIG', `log: option ${field} ${why}`);
}
