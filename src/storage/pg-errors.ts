// How a PostgreSQL failure reaches tilelog's callers.
//
// - The server cannot be reached (refused, unknown host, authentication,
//   starting up, too many connections): STORAGE_UNAVAILABLE naming the host
//   and database and what to check. Nothing was written.
// - The connection broke while a write was in flight (no answer, a
//   terminated backend, an admin shutdown): the COMMIT may or may not have
//   happened. OutcomeUnknownError says so ("may have been stored; retry");
//   the caller must never answer an index for it.
// - The server answered with an error for the statement: the transaction
//   rolled back, nothing was written (storage errors keep their SQLSTATE).
//
// Passwords never appear in messages: pgTarget() names user@host:port/db.

import { TilelogError } from '../errors.js';

/** A write whose COMMIT may or may not have happened (the connection broke mid-call). 503; retry. */
export class OutcomeUnknownError extends TilelogError {
  /** Always 'unknown': tells this apart from a failure that certainly wrote nothing. */
  readonly outcome = 'unknown' as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super('STORAGE_UNAVAILABLE', message, options);
    this.name = 'OutcomeUnknownError';
  }
}

/** True when err says a write may have landed (OutcomeUnknownError). */
export function isOutcomeUnknown(err: unknown): err is OutcomeUnknownError {
  return err instanceof OutcomeUnknownError;
}

// pgTarget(connectionString): "user@host:port/database" without the password,
// for messages; the raw string's scheme and host when it does not parse.
export function pgTarget(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    const host = url.searchParams.get('host') ?? (url.hostname === '' ? 'localhost' : decodeURIComponent(url.hostname));
    const port = url.port === '' ? '5432' : url.port;
    const db = decodeURIComponent(url.pathname.replace(/^\//, '')) || '(default database)';
    const user = url.username === '' ? '' : `${decodeURIComponent(url.username)}@`;
    return `${user}${host}:${port}/${db}`;
  } catch {
    return 'the PostgreSQL server in the connection string';
  }
}

/** SQLSTATE classes and node errno codes that mean "could not talk to the server". */
const UNREACHABLE_ERRNO = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ENOENT']);
// 08: connection exception; 28: invalid authorization; 3D000: no such database;
// 53300: too many connections; 57P03: cannot connect now (starting up / shutting down).
const UNREACHABLE_SQLSTATE = /^(08...|28...|3D000|53300|57P03)$/;
// 57P01/57P02: the backend was terminated or the server is shutting down
// mid-call; no SQLSTATE at all: the socket broke.
const BROKEN_SQLSTATE = /^(57P01|57P02|08...)$/;

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** True when err means the connection broke or never came up (not an answer to the statement). */
export function isConnectionError(err: unknown): boolean {
  const code = codeOf(err);
  if (code === undefined) return err instanceof Error && /connection|terminat|timeout|socket|ECONNRESET|EPIPE/i.test(err.message);
  return UNREACHABLE_ERRNO.has(code) || code === 'ECONNRESET' || code === 'EPIPE' || BROKEN_SQLSTATE.test(code) || UNREACHABLE_SQLSTATE.test(code);
}

// unreachable(err, target): STORAGE_UNAVAILABLE for a failure to connect.
export function unreachable(err: unknown, target: string): TilelogError {
  const code = codeOf(err) ?? 'no code';
  const detail = err instanceof Error ? err.message : String(err);
  return new TilelogError(
    'STORAGE_UNAVAILABLE',
    `postgres: cannot use ${target} (${code}: ${detail}); check that PostgreSQL is running and reachable, ` +
      'and that the --db URL (user, password, host, port, database) is right; retry later',
    { cause: err },
  );
}

// classify(err, target, what, connected): the error a call rejects with.
// connected: the statement had been handed to a live connection, so a broken
// connection leaves the outcome of a write unknown.
export function classify(err: unknown, target: string, what: string, write: boolean, connected: boolean): Error {
  if (err instanceof TilelogError) return err;
  if (isConnectionError(err)) {
    if (write && connected) {
      const detail = err instanceof Error ? err.message : String(err);
      return new OutcomeUnknownError(
        `postgres: the connection to ${target} broke during ${what} (${detail}); it may have been stored; retry ` +
          '(with dedup on, a retry returns the stored index)',
        { cause: err },
      );
    }
    return unreachable(err, target);
  }
  const code = codeOf(err);
  const detail = err instanceof Error ? err.message : String(err);
  if (code === '57014' || code === '55P03' || code === '40001' || code === '40P01') {
    // statement timeout, lock timeout, serialization failure, deadlock: rolled back.
    return new TilelogError('STORAGE_UNAVAILABLE', `postgres: ${what} did not finish (${code}: ${detail}); nothing was stored; retry`, {
      cause: err,
    });
  }
  return new TilelogError('STORAGE_IO', `postgres: ${what} failed (${code ?? 'no code'}: ${detail})`, { cause: err });
}
