// Witness cosigning, seen from outside (cosigner.ts in src/log):
//   GET /v1/log/log-signed-checkpoint  the newest checkpoint signed by the log
//     alone, for witnesses and operators; with witnesses it runs ahead of
//     /checkpoint, which moves only once the cosignature policy is met.
//   GET /v1/log/witnesses  JSON: the policy, signed and published sizes, and
//     per-witness sizes and failure counters; 404 without witnesses.

import type { Context } from 'hono';
import { CACHE_NONE } from './cache.js';
import { httpError } from './errors.js';
import type { LogApi } from './log-api.js';

export function logSignedCheckpointHandler(log: LogApi) {
  return function logSignedCheckpoint(c: Context): Response {
    const cp = log.logSignedCheckpoint?.() ?? log.checkpoint();
    return c.body(cp.text, 200, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': CACHE_NONE });
  };
}

export function witnessesHandler(log: LogApi) {
  return function witnesses(c: Context): Response {
    const status = log.witnessStatus?.() ?? null;
    if (status === null) throw httpError('HTTP_NOT_FOUND', 'this log publishes without witnesses');
    return c.json(status, 200, { 'Cache-Control': CACHE_NONE });
  };
}
