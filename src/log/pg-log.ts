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
import { PgLogStore } from '../storage/pg-log-store.js';
import type { TileStore } from '../storage/tile-store.js';
import { Log } from './log.js';
import type { LogOptions } from './options.js';

export interface PgLogOptions extends Omit<LogOptions, 'db' | 'store' | 'lease' | 'tiles'> {
  /** postgres://user:password@host:port/database */
  connectionString: string;
  /** The public tree: a bucket (S3TileStore) every process of the log writes and reads. The caller owns it. */
  tileStore: TileStore;
  /** Lease timing (defaults: ttl 10 s, renew every 3 s, stop 2 s before the lease ends). */
  lease?: { ttlMs?: number; renewMs?: number; marginMs?: number; holder?: string };
  /** Connections for sequencing and reads (default 4). */
  poolSize?: number;
}

/** The lease defaults of SCALE-OUT.md 3.6. */
export const PG_LEASE_DEFAULTS = { ttlMs: 10_000, renewMs: 3_000, marginMs: 2_000 } as const;

/** A log on PostgreSQL; close() closes the pool and the lease too. */
export interface PgLog {
  readonly log: Log;
  readonly store: PgLogStore;
  readonly lease: PgLease;
  readonly timing: PgLeaseTiming;
  close(): Promise<void>;
}

export async function openPgLog(opts: PgLogOptions): Promise<PgLog> {
  const { connectionString, tileStore, lease: leaseOpts, poolSize, ...rest } = opts;
  if (tileStore instanceof FileTileStore) {
    throw new TilelogError(
      'LOG_CONFIG',
      'log: a log on PostgreSQL needs its public tree in a bucket (s3://...): a tiles directory cannot be shared between processes',
    );
  }
  const store = await PgLogStore.open({ connectionString, origin: opts.origin, ...(opts.dedup !== undefined && { dedup: opts.dedup }), ...(poolSize !== undefined && { poolSize }) });
  let lease: PgLease | null = null;
  try {
    const ttlMs = leaseOpts?.ttlMs ?? PG_LEASE_DEFAULTS.ttlMs;
    lease = await PgLease.open({
      connectionString,
      origin: opts.origin,
      ttlMs,
      // Shorter leases (tests) scale the other defaults down with the ttl.
      renewMs: leaseOpts?.renewMs ?? Math.min(PG_LEASE_DEFAULTS.renewMs, ttlMs * 0.3),
      marginMs: leaseOpts?.marginMs ?? Math.min(PG_LEASE_DEFAULTS.marginMs, ttlMs * 0.2),
      ...(leaseOpts?.holder !== undefined && { holder: leaseOpts.holder }),
    });
    const log = await Log.open({
      sequencePollMs: 100,
      ...rest,
      store,
      lease,
      tiles: tileStore,
    });
    const held = lease;
    let closing: Promise<void> | null = null;
    return {
      log,
      store,
      lease: held,
      timing: held.timing,
      close: () =>
        (closing ??= (async () => {
          await log.close();
          await held.close();
          await store.close();
        })()),
    };
  } catch (err) {
    await lease?.close().catch(() => undefined);
    await store.close().catch(() => undefined);
    throw err;
  }
}
