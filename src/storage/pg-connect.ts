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
  /** Server-side limit per statement, ms (default 30,000): a stuck call fails instead of hanging. */
  readonly statementTimeoutMs?: number;
  /** Time to open a connection, ms (default 10,000). */
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
export async function openPool(options: PgConnectOptions, applicationName: string): Promise<PgPool> {
  if (!/^postgres(ql)?:\/\//.test(options.connectionString)) {
    throw new TilelogError('LOG_CONFIG', 'postgres: the database URL must start with postgres:// or postgresql://');
  }
  const pg = await loadPg(options.pgModule);
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.poolSize ?? 4,
    application_name: applicationName,
    statement_timeout: options.statementTimeoutMs ?? 30_000,
    idle_in_transaction_session_timeout: 30_000,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    keepAlive: true,
    ...(options.readOnly === true && { options: '-c default_transaction_read_only=on' }),
  });
  pool.on('error', () => undefined);
  return pool;
}

/** Runs fn on one pooled connection; a broken connection is discarded, not reused. */
export async function withClient<T>(
  pool: PgPool,
  target: string,
  what: string,
  write: boolean,
  fn: (client: PgPoolClient) => Promise<T>,
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
    const result = await fn(client);
    client.off('error', onError);
    client.release();
    return result;
  } catch (err) {
    client.off('error', onError);
    client.release(err instanceof Error ? err : true);
    throw classify(err, target, what, write, true);
  }
}

export { pgTarget };
