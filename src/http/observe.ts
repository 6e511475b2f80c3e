// observeRequests: the one middleware every request passes through when an
// app is observed. Per request it does only what must happen per request:
//   - a request ID: the client's X-Request-Id if it is short and plain, else a
//     random UUID; echoed in the answer's X-Request-Id and in every log line;
//   - one increment of a plain counter keyed by method, route pattern (not the
//     raw path: /v1/log/entry/:index, never /v1/log/entry/17) and status;
//   - a debug line (skipped by a level check), and an error line with the
//     request ID for answers that are 500s (the error table in errors.ts
//     decides which errors are the server's fault).
// prom-client reads the counters only when /metrics is scraped (metrics.ts).

import { randomUUID } from 'node:crypto';
import type { Context, MiddlewareHandler, Next } from 'hono';
import { matchedRoutes } from 'hono/route';

/** The part of a pino logger the HTTP layer uses (pino's Logger satisfies it). */
export interface HttpLogger {
  debug(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
  isLevelEnabled(level: string): boolean;
}

/** Requests by `${method} ${route} ${status}`, counted as plain numbers. */
export class RequestCounts {
  readonly counts = new Map<string, number>();

  add(method: string, route: string, status: number): void {
    const key = `${method} ${route} ${status}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  /** Each key split back into its labels. */
  *entries(): Generator<{ method: string; route: string; status: string; count: number }> {
    for (const [key, count] of this.counts) {
      const a = key.indexOf(' ');
      const b = key.lastIndexOf(' ');
      yield { method: key.slice(0, a), route: key.slice(a + 1, b), status: key.slice(b + 1), count };
    }
  }
}

/** The route label for requests no route matched. */
export const UNMATCHED_ROUTE = '(unmatched)';
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export interface ObserveOptions {
  counts?: RequestCounts;
  logger?: HttpLogger;
  /** Called after each answer with its route and status (e.g. per-result counters). */
  onAnswer?: (c: Context, route: string, status: number) => void;
}

/**
 * The route pattern that answered, or UNMATCHED_ROUTE when the last handler
 * reached was this middleware or another catch-all one (`*`): such
 * middleware (CORS, the percent-escape check) runs for every path, so it
 * never names the route a request was for.
 */
export function answeredRoute(c: Context, self: MiddlewareHandler): string {
  const r = matchedRoutes(c)[c.req.routeIndex];
  return r === undefined || r.handler === self || r.path === '/*' || r.path === '*' ? UNMATCHED_ROUTE : r.path;
}

/** The request ID for a request that sent `given` (its X-Request-Id): echoed if short and plain, else a new UUID. */
export function requestIdFor(given: string | undefined): string {
  return given !== undefined && REQUEST_ID.test(given) ? given : randomUUID();
}

export function observeRequests({ counts, logger, onAnswer }: ObserveOptions = {}): MiddlewareHandler {
  return async function observeRequests(c: Context, next: Next): Promise<void> {
    const id = requestIdFor(c.req.header('x-request-id'));
    c.set('requestId' as never, id as never);
    await next();
    const status = c.res.status;
    const route = answeredRoute(c, observeRequests);
    counts?.add(c.req.method, route, status);
    onAnswer?.(c, route, status);
    try {
      c.res.headers.set('X-Request-Id', id);
    } catch {
      // immutable headers (a proxied Response): the ID is still in the logs
    }
    if (logger === undefined) return;
    if (status >= 500 && c.error !== undefined) {
      logger.error({ reqId: id, method: c.req.method, route, status, err: c.error }, 'request failed');
    } else if (logger.isLevelEnabled('debug')) {
      logger.debug({ reqId: id, method: c.req.method, route, path: c.req.path, status }, 'request');
    }
  };
}
