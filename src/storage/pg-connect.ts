// Loading the optional `pg` package and opening pools on a postgres:// URL.
//
// pg is an optional peer dependency, imported on first use (like the S3 SDK):
// a single-machine install on SQLite never loads or needs it. Its types only
// appear here and in private members, never in a public signature.

import { TilelogError } from '../errors.js';
import { classify, pgTarget, unreachable } from './pg-errors.js';

export type PgModule = typeof import('pg');
export type PgPool = InstanceType<PgModule['Pool']>;
export type PgPoolClient = import('pg').PoolClient;

/** The npm package (and version) a postgres:// store needs; printed when it is missing. */
export const PG_PACKAGE = 'pg@8.23.1';

// loadPg(specifier): the pg module, or LOG_CONFIG naming the npm command when
// it is not installed.
export async function loadPg(specifier = 'pg'): Promise<PgModule> {
  try {
    const mod = (await import(specifier)) as PgModule & { default?: PgModule };
    return mod.default ?? mod;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw err;
    throw new TilelogError(
      'LOG_CONFIG',
      `postgres: a postgres:// database needs the optional package ${PG_PACKAGE}, which is not installed; run: npm install ${PG_PACKAGE}`,
      { cause: err },
    );
  }
}

export interface PgConnectOptions {
  /** postgres://user:password@host:port/database (libpq URL syntax; ?host=/dir for a unix socket). */
  readonly connectionString: string;
  /** Connections in the pool (default 4). */
  readonly poolSize?: number;
  /**
   * Server-side limit per statement, ms (default: the URL's ?statement_timeout=, else 30,000; 0: none):
   * a stuck call fails instead of hanging. The client gives up on a call a
   * little later (callDeadlineMs) even when no answer can arrive at all.
   */
  readonly statementTimeoutMs?: number;
  /** How long the client waits for the answer to one call, ms (default callDeadlineMs(statement timeout)). */
  readonly callDeadlineMs?: number;
  /** Time to open a connection, ms (default: the URL's ?connect_timeout= in seconds, else 10,000). */
  readonly connectTimeoutMs?: number;
  /**
   * Every transaction read-only (default_transaction_read_only): PostgreSQL
   * itself refuses a write, for tools that must never change a log.
   */
  readonly readOnly?: boolean;
  /** The module specifier to import (tests: a missing package). */
  readonly pgModule?: string;
}

// openPool(options, applicationName): a pool whose idle-connection errors
// (a terminated backend, a restarted server) are absorbed: pg drops the broken
// client and the next query opens a new one. Without the listener such an
// error would be an unhandled 'error' event and end the process.
//
// Every call also has a client-side deadline (callDeadlineMs): the server's
// statement_timeout cannot help when its answer cannot arrive (a partition, a
// black-holed connection, a frozen server). At the deadline the connection is
// destroyed, never reused, and the call rejects as a broken connection: a
// write's outcome is then unknown (pg-errors.ts), never an index.
export async function openPool(options: PgConnectOptions, applicationName: string): Promise<PgPool> {
  if (!/^postgres(ql)?:\/\//.test(options.connectionString)) {
    throw new TilelogError('LOG_CONFIG', 'postgres: the database URL must start with postgres:// or postgresql://');
  }
  const fromUrl = urlTimeouts(options.connectionString);
  const statementTimeoutMs = options.statementTimeoutMs ?? fromUrl.statementTimeoutMs ?? 30_000;
  const pg = await loadPg(options.pgModule);
  const pool = new pg.Pool({
    connectionString: fromUrl.connectionString,
    max: options.poolSize ?? 4,
    application_name: applicationName,
    statement_timeout: statementTimeoutMs,
    idle_in_transaction_session_timeout: 30_000,
    connectionTimeoutMillis: options.connectTimeoutMs ?? fromUrl.connectTimeoutMs ?? 10_000,
    // Probes after 10 s idle: a peer gone without a FIN (a dropped network) is noticed by the OS, not in 2 hours.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    ...(options.readOnly === true && { options: '-c default_transaction_read_only=on' }),
  });
  pool.on('error', () => undefined);
  deadlines.set(pool, options.callDeadlineMs ?? callDeadlineMs(statementTimeoutMs));
  return pool;
}

const deadlines = new WeakMap<PgPool, number>();

// callDeadlineMs(statementMs): how long the client waits for the answer to one
// call: the server's limit plus time for its error to arrive,
// statementMs + clamp(statementMs / 2, 500, 5000); 0 (no server limit): none.
export function callDeadlineMs(statementMs: number): number {
  if (!(statementMs > 0)) return 0;
  return statementMs + Math.min(5_000, Math.max(500, statementMs / 2));
}

// urlTimeouts(url): the URL without the timeout query parameters tilelog
// applies itself, and their values in ms: statement_timeout (ms, as
// PostgreSQL's setting) and connect_timeout (seconds, as libpq's), so the
// pool's explicit settings and the client deadlines agree (pg would
// otherwise let the URL override the config).
export function urlTimeouts(url: string): { connectionString: string; statementTimeoutMs?: number; connectTimeoutMs?: number } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { connectionString: url };
  }
  const take = (name: string, unitMs: number): number | undefined => {
    const raw = parsed.searchParams.get(name);
    if (raw === null) return undefined;
    const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(n)) {
      throw new TilelogError('LOG_CONFIG', `postgres: ${name}=${raw} in the database URL must be a whole number of ${unitMs === 1 ? 'milliseconds' : 'seconds'}`);
    }
    parsed.searchParams.delete(name);
    return n * unitMs;
  };
  const statementTimeoutMs = take('statement_timeout', 1);
  const connectTimeoutMs = take('connect_timeout', 1000);
  if (statementTimeoutMs === undefined && connectTimeoutMs === undefined) return { connectionString: url };
  return {
    connectionString: parsed.toString(),
    ...(statementTimeoutMs !== undefined && { statementTimeoutMs }),
    ...(connectTimeoutMs !== undefined && { connectTimeoutMs }),
  };
}

/**
 * Runs fn on one pooled connection; a broken connection is discarded, not reused.
 * deadlineMs: how long to wait for fn's answers (default: the pool's call deadline).
 */
export async function withClient<T>(
  pool: PgPool,
  target: string,
  what: string,
  write: boolean,
  fn: (client: PgPoolClient) => Promise<T>,
  deadlineMs?: number,
): Promise<T> {
  let client: PgPoolClient;
  try {
    client = await pool.connect();
  } catch (err) {
    throw unreachable(err, target);
  }
  // pg emits 'error' on a checked-out client whose socket breaks between queries.
  const onError = (): void => undefined;
  client.on('error', onError);
  try {
    const result = await withDeadline(client, deadlineMs ?? deadlines.get(pool) ?? 0, fn);
    client.off('error', onError);
    client.release();
    return result;
  } catch (err) {
    client.off('error', onError);
    client.release(err instanceof Error ? err : true);
    throw classify(err, target, what, write, true);
  }
}

// withDeadline: fn(client), or, when no answer came within ms, the connection
// destroyed (its late answer can never be taken for another call's) and a
// rejection that classify() reads as a broken connection.
async function withDeadline<T>(client: PgPoolClient, ms: number, fn: (client: PgPoolClient) => Promise<T>): Promise<T> {
  const call = fn(client);
  if (ms <= 0) return call;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      call.catch(() => undefined);
      client.connection.stream.destroy();
      reject(Object.assign(new Error(`no answer from the server within ${ms} ms; the connection was reset`), { code: 'ETIMEDOUT' }));
    }, ms);
  });
  try {
    return await Promise.race([call, expired]);
  } finally {
    clearTimeout(timer);
  }
}

export { pgTarget };
