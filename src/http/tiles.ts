// The C2SP tlog-tiles read endpoints: /checkpoint, /tile/<L>/<N>[.p/<W>],
// /tile/entries/<N>[.p/<W>]. Paths are parsed by the one layout module
// (non-canonical forms are a 400) and served from the log's public store.

import type { Context } from 'hono';
import { parseTilePath, tilePath, TILE_WIDTH } from '../merkle/index.js';
import { CACHE_IMMUTABLE, CACHE_LATEST, CACHE_PARTIAL } from './cache.js';
import { httpError } from './errors.js';
import type { LogApi } from './log-api.js';

/** What the tree's routes read: the log itself, or a read worker's view of its public tree. */
export type PublicTree = Pick<LogApi, 'checkpoint' | 'readPublic'>;

export function checkpointHandler(log: PublicTree) {
  return function checkpoint(c: Context): Response {
    return c.body(log.checkpoint().text, 200, {
      'Content-Type': 'text/plain; charset=utf-8',
      'Cache-Control': CACHE_LATEST,
    });
  };
}

export function tileHandler(log: PublicTree) {
  return async function tile(c: Context): Promise<Response> {
    // The raw path, before any percent-decoding: only canonical paths pass.
    const url = c.req.url;
    const pathStart = url.indexOf('/', url.indexOf('://') + 3);
    const queryStart = url.indexOf('?', pathStart);
    const raw = url.slice(pathStart + 1, queryStart === -1 ? undefined : queryStart);
    const id = parseTilePath(raw);
    const canonical = tilePath(id);
    const data = await log.readPublic(canonical);
    if (data === null) throw httpError('HTTP_NOT_FOUND', `${canonical} does not exist (yet) in this log`);
    return c.body(data as Uint8Array<ArrayBuffer>, 200, {
      'Content-Type': 'application/octet-stream',
      'Cache-Control': id.width === TILE_WIDTH ? CACHE_IMMUTABLE : CACHE_PARTIAL,
    });
  };
}
