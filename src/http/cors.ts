// CORS for the read API: every GET/HEAD answer (including errors) may be
// read by any web origin, as Sunlight and other tlog-tiles servers do. Writes
// (POST /add) get no CORS header: browsers submitting entries is not a use case.

import type { MiddlewareHandler } from 'hono';

export function corsReads(): MiddlewareHandler {
  return async function corsReads(c, next) {
    await next();
    if (c.req.method === 'GET' || c.req.method === 'HEAD') {
      c.res.headers.set('Access-Control-Allow-Origin', '*');
    }
  };
}
