// The read workers' hot path: a GET or HEAD of a full tile or entry bundle
// already in the worker's TileCache is answered straight from node:http, with
// the header list computed once, skipping the hono app. Full objects never
// change (write-once), so a cached copy is always the right answer.
//
// It must answer exactly as the app would (the same headers, in the same
// order, with the same names); it therefore takes only requests whose target
// is byte-for-byte a canonical full-tile path that is cached (every cache key
// came from the app's own canonical parse, so no query, no '%', no dot
// segment) and whose Host header is plain. Anything else, a miss included,
// returns false and goes to the app, which also fills the cache.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TileCache } from '../log/index.js';
import { CACHE_IMMUTABLE } from './cache.js';
import { requestIdFor } from './observe.js';

/** Host headers node-server accepts as they are (a name or an IPv4/[IPv6] address, optional port). */
export const PLAIN_HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

// The app's answer to a full tile: corsPolicy adds ACAO after the handler's
// two headers, observeRequests appends X-Request-Id, Node adds Content-Length
// (not for HEAD: node-server sends none there).
const BEFORE_ID = ['access-control-allow-origin', '*', 'cache-control', CACHE_IMMUTABLE, 'content-type', 'application/octet-stream'] as const;

/** Answers req from cache if it can (see the header); false: the app must answer it. */
export function answerCachedTile(cache: TileCache, req: IncomingMessage, res: ServerResponse): boolean {
  const method = req.method;
  const url = req.url;
  if ((method !== 'GET' && method !== 'HEAD') || url === undefined || !url.startsWith('/tile/')) return false;
  const host = req.headers.host;
  if (host === undefined || !PLAIN_HOST.test(host)) return false;
  const data = cache.cached(url.slice(1));
  if (data === undefined) return false;
  const id = requestIdFor(req.headers['x-request-id'] as string | undefined);
  if (method === 'HEAD') {
    res.writeHead(200, [...BEFORE_ID, 'x-request-id', id]);
    res.end();
  } else {
    res.writeHead(200, [...BEFORE_ID, 'x-request-id', id, 'Content-Length', String(data.length)]);
    res.end(data);
  }
  return true;
}
