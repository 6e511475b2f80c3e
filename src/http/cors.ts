// CORS: one rule for every app we serve (the log with its registry, CA and
// browser, and the witness), applied once per app with app.use('*', ...) so
// that routes mounted later are covered too:
//
//   - an answer to GET or HEAD (errors included) carries
//     Access-Control-Allow-Origin: *, so any web page can read the public
//     data, as Sunlight and other tlog-tiles servers allow;
//   - a private read (GET /metrics: its handler calls markPrivate) and every
//     other method (writes, OPTIONS) carry no CORS header at all; one a
//     handler set anyway is removed here, so the rule cannot be bypassed
//     from inside a route.
//   - No preflight: OPTIONS gets the route's 405 (or a 404), never
//     Access-Control-Allow-*, so a page on another origin can send only
//     simple GET/HEAD requests and read their answers. Registry writes
//     (JSON bodies, Authorization) need a preflight and so stay out of
//     reach of other origins' pages.

import type { Context, MiddlewareHandler } from 'hono';

const ALLOW_ORIGIN = 'Access-Control-Allow-Origin';

/** Requests whose answer must not be readable cross-origin (keyed by the raw Request, which HEAD shares with GET). */
const privateAnswers = new WeakSet<Request>();

/** Marks this request's answer private: no CORS header, whatever its method. */
export function markPrivate(c: Context): void {
  privateAnswers.add(c.req.raw);
}

/** The rule: may a page on any origin read the answer to this request? */
export function isPublicRead(method: string, marked: boolean): boolean {
  return (method === 'GET' || method === 'HEAD') && !marked;
}

export function corsPolicy(): MiddlewareHandler {
  return async function corsPolicy(c, next) {
    await next();
    if (isPublicRead(c.req.method, privateAnswers.has(c.req.raw))) {
      c.res.headers.set(ALLOW_ORIGIN, '*');
    } else {
      const names: string[] = [];
      c.res.headers.forEach((_value, name) => names.push(name));
      for (const name of names) if (name.startsWith('access-control-')) c.res.headers.delete(name);
    }
  };
}
