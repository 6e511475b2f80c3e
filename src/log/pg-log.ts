// openPgLog: a log whose trusted state is in PostgreSQL (PgLogStore), shared
// by several processes, with the signer chosen by a lease on the same row
// (PgLease). Each process sequences adds and serves reads; the one holding
// the lease signs and publishes; the others take over when it stops renewing.
// The public tree must be in a store every process sees with conditional
// writes (an S3 bucket): a tiles directory cannot be shared between machines,
// and without If-Match a paused old leader could move the checkpoint back.

import { TilelogError } from '../errors.js';
import { FileTileStore } from '../storage/file-tile-store.js';
import { PgLease, type PgLeaseTiming } from '../storage/pg-lease.js';
import { PgLogStore, type PgLogStoreOptions } from '../storage/pg-log-store.js';
import type { LeaderLease, Leadership } from '../storage/log-store.js';
import type { TileStore } from '../storage/tile-store.js';
import { FileTileSummaryStore } from '../storage/tile-summary-store.js';
import { parseVerifierKey, type NoteSigner } from '../note/keys.js';
import { Log } from './log.js';
import type { LogOptions } from './options.js';

export interface PgLogOptions extends Omit<LogOptions, 'db' | 'store' | 'lease' | 'tiles'> {
  /**
   * 'candidate' (default): sequences adds, serves reads, and signs while it
   * holds the lease. 'frontend': never takes the lease, so never signs
   * (give it frontendSigner(verifierKey) instead of the signing key).
   */
  role?: 'candidate' | 'frontend';
  /** postgres://user:password@host:port/database */
  connectionString: string;
  /** The public tree: a bucket (S3TileStore) every process of the log writes and reads. The caller owns it. */
  tileStore: TileStore;
  /** Lease timing (defaults: ttl 10 s, renew every 3 s, stop 2 s before the lease ends). */
  lease?: { ttlMs?: number; renewMs?: number; marginMs?: number; holder?: string };
  /** Connections for sequencing and reads (default 4). */
  poolSize?: number;
  /** Told of every sequencing call's timing (measurement only). */
  onSequenceTiming?: PgLogStoreOptions['onSequenceTiming'];
  /**
   * This process's directory for tile summaries (FileTileSummaryStore, owned
   * and closed with the log), unless tileSummaries is given. Each process
   * keeps its own: the leader's fill as it writes tiles, the others' as
   * their proofs read.
   */
  tileSummariesDir?: string;
}

/** The lease defaults of SCALE-OUT.md 3.6. */
export const PG_LEASE_DEFAULTS = { ttlMs: 10_000, renewMs: 3_000, marginMs: 2_000 } as const;

/** A log on PostgreSQL; close() closes the pool and the lease too. */
export interface PgLog {
  readonly log: Log;
  readonly store: PgLogStore;
  /** The lease (null for a frontend, which never leads). */
  readonly lease: PgLease | null;
  readonly timing: PgLeaseTiming | null;
  close(): Promise<void>;
}

// NeverLeads: the lease of a frontend. It competes with nobody: acquire()
// waits until the log closes, so the process only sequences and serves reads,
// following the store's published state.
class NeverLeads implements LeaderLease {
  readonly shared = true;
  acquire(signal: AbortSignal): Promise<Leadership> {
    return new Promise((_resolve, reject) => {
      const stop = (): void => reject(signal.reason instanceof Error ? signal.reason : new TilelogError('LOG_CLOSED', 'log: closed'));
      if (signal.aborted) stop();
      else signal.addEventListener('abort', stop, { once: true });
    });
  }
}

/**
 * The signer of a frontend: it has the log's verifier key (to check the
 * checkpoints it serves) and no private key; sign() refuses. A frontend never
 * leads, so it is never called.
 */
export function frontendSigner(verifierKey: string): NoteSigner & { readonly verifierKey: string } {
  const v = parseVerifierKey(verifierKey);
  return {
    name: v.name,
    keyId: v.keyId,
    verifierKey,
    sign: () => {
      throw new TilelogError('LOG_CONFIG', 'log: this process is a frontend (no signing key): it never signs');
    },
  };
}

export async function openPgLog(opts: PgLogOptions): Promise<PgLog> {
  const { connectionString, tileStore, lease: leaseOpts, poolSize, onSequenceTiming, tileSummariesDir, ...rest } = opts;
  if (tileStore instanceof FileTileStore) {
    throw new TilelogError(
      'LOG_CONFIG',
      'log: a log on PostgreSQL needs its public tree in a bucket (s3://...): a tiles directory cannot be shared between processes',
    );
  }
  const store = await PgLogStore.open({ connectionString, origin: opts.origin, ...(opts.dedup !== undefined && { dedup: opts.dedup }), ...(poolSize !== undefined && { poolSize }), onSequenceTiming: onSequenceTiming ?? null });
  let lease: PgLease | null = null;
  const summaries = rest.tileSummaries === undefined && tileSummariesDir !== undefined ? new FileTileSummaryStore(tileSummariesDir) : null;
  try {
    const ttlMs = leaseOpts?.ttlMs ?? PG_LEASE_DEFAULTS.ttlMs;
    if (opts.role !== 'frontend') lease = await PgLease.open({
      connectionString,
      origin: opts.origin,
      ttlMs,
      // Shorter leases (tests) scale the other defaults down with the ttl.
      renewMs: leaseOpts?.renewMs ?? Math.min(PG_LEASE_DEFAULTS.renewMs, ttlMs * 0.3),
      marginMs: leaseOpts?.marginMs ?? Math.min(PG_LEASE_DEFAULTS.marginMs, ttlMs * 0.2),
      ...(leaseOpts?.holder !== undefined && { holder: leaseOpts.holder }),
    });
    const { role: _role, ...engine } = rest;
    const log = await Log.open({
      sequencePollMs: 100,
      ...engine,
      store,
      lease: lease ?? new NeverLeads(),
      tiles: tileStore,
      ...(summaries !== null && { tileSummaries: summaries }),
    });
    const held = lease;
    let closing: Promise<void> | null = null;
    return {
      log,
      store,
      lease: held,
      timing: held?.timing ?? null,
      close: () =>
        (closing ??= (async () => {
          await log.close();
          await summaries?.close().catch(() => undefined);
          await held?.close();
          await store.close();
        })()),
    };
  } catch (err) {
    await summaries?.close().catch(() => undefined);
    await lease?.close().catch(() => undefined);
    await store.close().catch(() => undefined);
    throw err;
  }
}
