// The one error boundary of the HTTP layer: TilelogError codes map to
// statuses in a single table, and every error answer is JSON of the form
//   {"error": {"code": "<CODE>", "message": "<what went wrong and what to do>"}}
//
// Bad input always maps to a 4xx. A full, read-only or failing disk
// (STORAGE_UNAVAILABLE, or an uncoded ENOSPC/EIO/EDQUOT/EROFS/SQLITE_FULL/
// SQLITE_IOERR anywhere in the error's cause chain) is a 503 with
// Retry-After: the server is healthy and resumes by itself once space
// returns. A log that stopped publishing because another writer is on its
// store (PublicationStoppedError: LOG_SUPERSEDED, LOG_FOREIGN_TILES, a tile
// conflict) is a 503 carrying its message: this process takes no more adds
// until an operator restarts it. Anything else without a code (a bug) or with
// a code that means the server itself is broken (LOG_CORRUPT, STORAGE_IO, ...)
// is logged and answered with a generic 500 that leaks no internals.

import type { Context } from 'hono';
import { TilelogError, type ErrorCode } from '../errors.js';
import { PublicationStoppedError, storageFailure } from '../log/index.js';

/** Seconds a client should wait before retrying after LOG_PUSHBACK. */
export const PUSHBACK_RETRY_AFTER_SECONDS = 1;
/** Seconds before retrying while the disk refuses writes: freeing space takes an operator, not a millisecond. */
export const STORAGE_RETRY_AFTER_SECONDS = 5;

/** Status for each code a client can cause or should retry; absent codes are 500. */
const STATUS_BY_CODE: Partial<Record<ErrorCode, 400 | 404 | 405 | 413 | 503>> = {
  HTTP_BAD_REQUEST: 400,
  LAYOUT_BAD_PATH: 400,
  MERKLE_RANGE: 400,
  MERKLE_BAD_HASH: 400,
  MERKLE_BAD_ENCODING: 400,
  LOG_ENTRY_SIZE: 400,
  NOTE_MALFORMED: 400,
  HTTP_NOT_FOUND: 404,
  LOG_NOT_FOUND: 404,
  HTTP_METHOD: 405,
  HTTP_TOO_LARGE: 413,
  LOG_PUSHBACK: 503,
  LOG_CLOSED: 503,
  LOG_UNKNOWN_OUTCOME: 503,
  LOG_NOT_LEADER: 503,
  STORAGE_UNAVAILABLE: 503,
  SIGNER_UNAVAILABLE: 503,
  CA_KEY_UNAVAILABLE: 503,
};

// asDiskError(err): err as a STORAGE_UNAVAILABLE error when it (or its cause)
// is a disk failure without that code, else err unchanged.
function asDiskError(err: unknown): unknown {
  if (err instanceof TilelogError && STATUS_BY_CODE[err.code] !== undefined) return err;
  const f = storageFailure(err);
  if (f === null) return err;
  return new TilelogError(
    'STORAGE_UNAVAILABLE',
    `the ${f.component === 'state' ? 'state database' : 'tile store'} refuses writes (${f.code}: the disk is full or failing); retry later`,
    { cause: err },
  );
}

/** The HTTP status for an error: 4xx/503 from the table, else 500. */
export function statusForError(err: unknown): number {
  if (err instanceof PublicationStoppedError) return 503;
  const e = asDiskError(err);
  if (e instanceof TilelogError) return STATUS_BY_CODE[e.code] ?? 500;
  return 500;
}

/** Shorthand for throwing a coded error from a handler. */
export function httpError(code: ErrorCode, message: string): TilelogError {
  return new TilelogError(code, message);
}

export interface ErrorBody {
  error: { code: string; message: string };
}

/** The JSON error answer for err; logs and hides anything that is a 500. */
export function errorResponse(c: Context, raw: unknown, log: (msg: string, err: unknown) => void): Response {
  const err = raw instanceof PublicationStoppedError ? raw : asDiskError(raw);
  const status = statusForError(err);
  let body: ErrorBody;
  if (status === 500 || !(err instanceof TilelogError)) {
    log('tilelog http: internal error', err);
    body = { error: { code: 'INTERNAL', message: 'internal server error; see the server log' } };
  } else {
    body = { error: { code: err.code, message: err.message } };
  }
  const headers: Record<string, string> = { 'Cache-Control': 'no-store' };
  if (status === 503) {
    // A full disk, a missing token or a stopped log takes an operator, not a millisecond.
    const disk = err instanceof PublicationStoppedError || (err instanceof TilelogError && (err.code === 'STORAGE_UNAVAILABLE' || err.code === 'SIGNER_UNAVAILABLE'));
    headers['Retry-After'] = String(disk ? STORAGE_RETRY_AFTER_SECONDS : PUSHBACK_RETRY_AFTER_SECONDS);
  }
  // The rest of an oversized body is never read: the connection cannot be reused.
  if (status === 413) headers.Connection = 'close';
  return c.json(body, status as 400, headers);
}

/** Factory for the app's onError handler. */
export function onErrorHandler(log: (msg: string, err: unknown) => void) {
  return function onError(err: Error, c: Context): Response {
    return errorResponse(c, err, log);
  };
}

/** The answer for a path no route matches. */
export function notFoundHandler(c: Context): Response {
  return errorResponse(c, httpError('HTTP_NOT_FOUND', `no such resource: ${c.req.method} ${c.req.path}`), () => {});
}

/** Factory for a handler answering 405 on a known path with the allowed methods. */
export function methodNotAllowed(allow: readonly string[]) {
  const allowHeader = allow.join(', ');
  return function methodNotAllowed(c: Context): Response {
    const res = errorResponse(
      c,
      httpError('HTTP_METHOD', `method ${c.req.method} is not allowed here; use ${allowHeader}`),
      () => {},
    );
    res.headers.set('Allow', allowHeader);
    return res;
  };
}
