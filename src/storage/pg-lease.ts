// PgLease: leadership among signer candidates through the lease columns of
// the log's tree_state row (SCALE-OUT.md 3.6).
//
// - acquire: when the lease has expired (by the DATABASE's clock), take it
//   with epoch + 1. A candidate that fails learns in the same statement when
//   the lease it lost to lapses (lease_expires - now(), database clock) and
//   tries again just then, or after pollMs (ttl/2) if that is sooner: so a
//   dead leader is replaced when its lease lapses, not up to ttl/2 later.
// - renew every ttl/3: extends lease_expires iff (leader, epoch) are still
//   ours. 0 rows: another candidate took over; the term ends at once.
// - local deadline: the send time of the last successful acquire/renew + ttl
//   - margin, on this process's monotonic clock (performance.now). The term
//   ends there even if PostgreSQL cannot be reached, so a partitioned or
//   paused leader stops before the database lets another one in. A renewal is
//   never sent after the deadline passed (a process resumed from SIGSTOP
//   finds its term over).
// - release: lease_expires = now(), so another candidate takes over at once.
//
// Safety does not depend on any of this: every write carries the epoch (the
// fence) and a superseded epoch changes nothing. The lease decides who works.

import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { TilelogError } from '../errors.js';
import type { Fence, LeaderLease, Leadership } from './log-store.js';
import { callDeadlineMs, openPool, pgTarget, withClient, type PgConnectOptions, type PgPool } from './pg-connect.js';
import { assertSchemaName, safeInteger, schemaNameForOrigin } from './pg-schema.js';

export interface PgLeaseOptions extends PgConnectOptions {
  /** The log's origin (the schema is derived from it unless given). */
  readonly origin: string;
  readonly schema?: string;
  /** This candidate's id (default host:pid:random). */
  readonly holder?: string;
  /** Lease length on the database clock, ms (default 10,000). */
  readonly ttlMs?: number;
  /** Renewal period, ms (default ttl/3). */
  readonly renewMs?: number;
  /** Safety margin before the local deadline, ms (default 2,000, at most ttl/4). */
  readonly marginMs?: number;
  /** The longest a waiting candidate waits between attempts, ms (default ttl/2); it tries sooner when the lease lapses sooner. */
  readonly pollMs?: number;
}

/** The settings in use, after defaults. */
export interface PgLeaseTiming {
  readonly ttlMs: number;
  readonly renewMs: number;
  readonly marginMs: number;
  readonly pollMs: number;
}

// leaseTiming(options): defaults and the rules between them:
// 0 < margin < ttl, 0 < renew < ttl - margin (a renewal lands before the deadline).
export function leaseTiming(options: Pick<PgLeaseOptions, 'ttlMs' | 'renewMs' | 'marginMs' | 'pollMs'>): PgLeaseTiming {
  const ttlMs = options.ttlMs ?? 10_000;
  const marginMs = options.marginMs ?? Math.min(2_000, ttlMs / 4);
  const renewMs = options.renewMs ?? ttlMs / 3;
  const pollMs = options.pollMs ?? ttlMs / 2;
  if (!(ttlMs >= 100 && ttlMs <= 3_600_000)) throw new TilelogError('LOG_CONFIG', `postgres lease: ttl ${ttlMs} ms is outside 100 ms .. 1 h`);
  if (!(marginMs > 0 && marginMs < ttlMs)) throw new TilelogError('LOG_CONFIG', `postgres lease: margin ${marginMs} ms must be in (0, ttl)`);
  if (!(renewMs > 0 && renewMs < ttlMs - marginMs)) {
    throw new TilelogError('LOG_CONFIG', `postgres lease: renew every ${renewMs} ms must be below ttl - margin (${ttlMs - marginMs} ms)`);
  }
  if (!(pollMs > 0)) throw new TilelogError('LOG_CONFIG', `postgres lease: poll ${pollMs} ms must be positive`);
  return { ttlMs, renewMs, marginMs, pollMs };
}

export class PgLease implements LeaderLease {
  readonly shared = true;
  readonly holder: string;
  readonly timing: PgLeaseTiming;
  readonly #pool: PgPool;
  readonly #schema: string;
  readonly #target: string;
  #closed = false;

  private constructor(pool: PgPool, schema: string, target: string, holder: string, timing: PgLeaseTiming) {
    this.#pool = pool;
    this.#schema = schema;
    this.#target = target;
    this.holder = holder;
    this.timing = timing;
  }

  /** Connects (its own small pool, so renewals never queue behind sequencing calls). The log's schema must exist. */
  static async open(options: PgLeaseOptions): Promise<PgLease> {
    const timing = leaseTiming(options);
    const schema = options.schema ?? schemaNameForOrigin(options.origin);
    assertSchemaName(schema);
    const target = pgTarget(options.connectionString);
    // A renewal answered before the local deadline still counts, so the client waits up to ttl - margin for one.
    const pool = await openPool(
      {
        ...options,
        poolSize: 2,
        statementTimeoutMs: Math.max(100, Math.floor(timing.renewMs)),
        callDeadlineMs: Math.max(callDeadlineMs(Math.max(100, Math.floor(timing.renewMs))), timing.ttlMs - timing.marginMs),
      },
      'tilelog-lease',
    );
    const holder = options.holder ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
    const lease = new PgLease(pool, schema, target, holder, timing);
    try {
      const rows = await lease.#query(`SELECT value FROM ${schema}.meta WHERE key = 'origin'`, [], 'reading the log origin');
      if (rows[0]?.value !== options.origin) {
        throw new TilelogError('LOG_CONFIG', `postgres lease: schema ${schema} does not hold log ${JSON.stringify(options.origin)}`);
      }
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw err;
    }
    return lease;
  }

  async acquire(signal: AbortSignal): Promise<Leadership> {
    for (;;) {
      if (signal.aborted) throw abortReason(signal);
      if (this.#closed) throw new TilelogError('LOG_CLOSED', 'postgres lease: closed');
      const sent = performance.now();
      let epoch: number | null = null;
      let wait = this.timing.pollMs;
      try {
        // `held` reads the row as the statement's snapshot saw it: a renewal
        // racing this attempt only makes the next attempt come early.
        const rows = await this.#query(
          `WITH held AS (SELECT lease_expires FROM ${this.#schema}.tree_state WHERE id = 1),
                won AS (UPDATE ${this.#schema}.tree_state
                           SET leader = $1, epoch = epoch + 1, lease_expires = now() + $2 * interval '1 millisecond'
                         WHERE id = 1 AND (lease_expires IS NULL OR lease_expires <= now())
                        RETURNING epoch)
           SELECT (SELECT epoch FROM won) AS epoch,
                  (SELECT extract(epoch FROM lease_expires - now()) * 1000 FROM held) AS lapses_in_ms`,
          [this.holder, this.timing.ttlMs],
          'acquiring the lease',
        );
        const row = rows[0];
        if (row?.epoch != null) epoch = safeInteger(row.epoch, 'tree_state.epoch');
        else wait = retryDelay(Number(row?.lapses_in_ms), this.timing.pollMs);
      } catch {
        // Unreachable or an unknown outcome: if it did land, the lease lapses
        // unrenewed after ttl and someone (perhaps us) takes it then.
      }
      if (epoch !== null) return this.#term({ epoch, holder: this.holder }, sent);
      await sleep(wait, signal);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }

  // #term: the Leadership of one epoch; its timers end it at the deadline,
  // on a renewal that matches nothing, or on release().
  #term(fence: Fence, sent: number): Leadership {
    const lost = new AbortController();
    let deadline = sent + this.timing.ttlMs - this.timing.marginMs;
    let deadlineTimer: NodeJS.Timeout | undefined;
    let renewTimer: NodeJS.Timeout | undefined;
    const end = (reason: string): void => {
      clearTimeout(deadlineTimer);
      clearTimeout(renewTimer);
      if (!lost.signal.aborted) lost.abort(new TilelogError('LOG_SUPERSEDED', `postgres lease: epoch ${fence.epoch} ended: ${reason}`));
    };
    const armDeadline = (): void => {
      clearTimeout(deadlineTimer);
      deadlineTimer = setTimeout(checkDeadline, Math.max(0, deadline - performance.now()));
    };
    const checkDeadline = (): boolean => {
      if (performance.now() < deadline) {
        armDeadline();
        return false;
      }
      end('the local deadline passed without a successful renewal');
      return true;
    };
    const renew = async (): Promise<void> => {
      if (lost.signal.aborted || checkDeadline()) return;
      const at = performance.now();
      try {
        const rows = await this.#query(
          `UPDATE ${this.#schema}.tree_state SET lease_expires = now() + $2 * interval '1 millisecond'
            WHERE id = 1 AND leader = $1 AND epoch = $3 RETURNING epoch`,
          [fence.holder, this.timing.ttlMs, fence.epoch],
          'renewing the lease',
        );
        if (lost.signal.aborted) return;
        if (rows.length === 0) return end('another candidate took over (the renewal matched no row)');
        deadline = Math.max(deadline, at + this.timing.ttlMs - this.timing.marginMs);
        armDeadline();
      } catch {
        // Keep trying until the deadline: a short outage need not end the term.
      }
      if (!lost.signal.aborted) renewTimer = setTimeout(() => void renew(), this.timing.renewMs);
    };
    armDeadline();
    renewTimer = setTimeout(() => void renew(), this.timing.renewMs);
    const release = async (): Promise<void> => {
      const wasLive = !lost.signal.aborted;
      end('released');
      if (!wasLive && this.#closed) return;
      await this.#query(
        `UPDATE ${this.#schema}.tree_state SET lease_expires = now() WHERE id = 1 AND leader = $1 AND epoch = $2`,
        [fence.holder, fence.epoch],
        'releasing the lease',
      );
    };
    return { fence, lost: lost.signal, release };
  }

  async #query(text: string, values: unknown[], what: string): Promise<Record<string, unknown>[]> {
    return withClient(this.#pool, this.#target, what, true, async (c) => (await c.query(text, values)).rows as Record<string, unknown>[]);
  }
}

/** Slack after the lease's end before the next attempt, ms: the attempt's own round trip may land a moment early. */
const LAPSE_SLACK_MS = 20;

// retryDelay(lapsesInMs, pollMs): how long a candidate that just failed waits:
// until the lease it lost to lapses (plus LAPSE_SLACK_MS), within
// [LAPSE_SLACK_MS, pollMs]; pollMs when the time is unknown (NaN).
export function retryDelay(lapsesInMs: number, pollMs: number): number {
  if (!Number.isFinite(lapsesInMs)) return pollMs;
  return Math.min(pollMs, Math.max(LAPSE_SLACK_MS, lapsesInMs + LAPSE_SLACK_MS));
}

/** Opens a lease on the log's tree_state row (the schema must exist: open the PgLogStore first). */
export function openPgLease(options: PgLeaseOptions): Promise<PgLease> {
  return PgLease.open(options);
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new TilelogError('LOG_CLOSED', 'postgres lease: acquire aborted');
}

// sleep(ms, signal): resolves after ms, rejects with the reason when aborted.
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(abortReason(signal));
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortReason(signal));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
