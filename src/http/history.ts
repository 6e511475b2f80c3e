// GET /v1/log/checkpoints[?limit=N]: the log's growth over time, the newest N
// published checkpoints (size, root, commit time) in ascending size order.
// Roots are informative only: a client that wants to rely on one asks for a
// consistency proof against a checkpoint it verified.

import type { Context } from 'hono';
import { CACHE_LATEST } from './cache.js';
import { httpError } from './errors.js';
import type { LogApi } from './log-api.js';
import { b64, parseDecimal } from './params.js';

export const CHECKPOINT_HISTORY_DEFAULT = 100;
export const CHECKPOINT_HISTORY_MAX = 1000;

/** Parses ?limit: a canonical decimal in [1, CHECKPOINT_HISTORY_MAX] (also the route schema's check). */
export function parseHistoryLimit(raw: string): number {
  const limit = parseDecimal('limit', raw);
  if (limit < 1 || limit > CHECKPOINT_HISTORY_MAX) {
    throw httpError('HTTP_BAD_REQUEST', `limit must be between 1 and ${CHECKPOINT_HISTORY_MAX}, got ${limit}`);
  }
  return limit;
}

export function checkpointsHandler(log: LogApi) {
  return async function checkpoints(c: Context): Promise<Response> {
    const raw = c.req.query('limit');
    const limit = raw === undefined ? CHECKPOINT_HISTORY_DEFAULT : parseHistoryLimit(raw);
    const history = (await log.checkpointHistory?.(limit)) ?? [];
    return c.json(
      { checkpoints: history.map((h) => ({ size: h.size, rootHash: b64(h.root), time: h.time })) },
      200,
      { 'Cache-Control': CACHE_LATEST },
    );
  };
}
