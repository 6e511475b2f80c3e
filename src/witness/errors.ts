// The witness's one error table: codes to statuses for POST /add-checkpoint,
// answered as text/plain (what C2SP clients print), except 409, whose body is
// the stored size as `text/x.tlog.size` (PROTOCOLS.md 6.1). Codes missing
// here are a bug or a broken store: logged and answered 500 with no details.

import type { Context } from 'hono';
import { TilelogError, type ErrorCode } from '../errors.js';
import { errorResponse } from '../http/errors.js';
import { OldSizeError } from './witness.js';

const STATUS_BY_CODE: Partial<Record<ErrorCode, 400 | 403 | 404 | 409 | 413 | 422 | 503>> = {
  WITNESS_BAD_REQUEST: 400,
  NOTE_MALFORMED: 400,
  HTTP_BAD_REQUEST: 400,
  WITNESS_UNVERIFIED: 403,
  WITNESS_UNKNOWN_LOG: 404,
  WITNESS_OLD_SIZE: 409,
  HTTP_TOO_LARGE: 413,
  WITNESS_INCONSISTENT: 422,
  // The witness's key in a token cannot sign now (token removed): nothing was cosigned or stored; the log retries.
  SIGNER_UNAVAILABLE: 503,
};

/** The status add-checkpoint answers for err: from the table, else 500. */
export function witnessStatus(err: unknown): number {
  if (err instanceof TilelogError) return STATUS_BY_CODE[err.code] ?? 500;
  return 500;
}

/** The text answer of POST /add-checkpoint for err. */
export function addCheckpointErrorResponse(err: unknown, logError: (msg: string, err: unknown) => void): Response {
  const status = witnessStatus(err);
  const headers: Record<string, string> = { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' };
  if (status === 409 && err instanceof OldSizeError) {
    return new Response(`${err.size}\n`, { status, headers: { ...headers, 'Content-Type': 'text/x.tlog.size' } });
  }
  // The rest of an oversized body is never read: the connection cannot be reused.
  if (status === 413) headers.Connection = 'close';
  if (status === 503) {
    logError('tilelog witness: the cosigning key cannot sign', err);
    headers['Retry-After'] = '5';
  }
  if (status === 500) {
    logError('tilelog witness: internal error', err);
    return new Response('internal server error; see the witness log\n', { status, headers });
  }
  return new Response(`${(err as Error).message}\n`, { status, headers });
}

/** onError for the witness app: text answers on /add-checkpoint, the log's JSON errors elsewhere. */
export function witnessOnError(logError: (msg: string, err: unknown) => void) {
  return function onError(err: Error, c: Context): Response {
    if (c.req.path === '/add-checkpoint') return addCheckpointErrorResponse(err, logError);
    return errorResponse(c, err, logError);
  };
}
