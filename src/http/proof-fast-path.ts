// The log's hot read path for JSON proofs: GET /v1/log/inclusion/<index>/<size>
// and GET /v1/log/consistency/<old>/<new> with decimal sizes inside the
// published tree are answered straight from node:http, skipping the hono
// app (its request and response objects, middleware and validators were a
// fifth of a proof answer's CPU and a third of its garbage at 10M entries).
// Like the read workers' tile path (tile-fast-path.ts), it must answer
// exactly as the app would: the same body (proofs.ts builds it for both),
// the same headers in the same order, the same request counter. So it takes
// only what it can answer with a 200: a GET whose target is byte for byte
// /v1/log/<kind>/<canonical decimal>/<canonical decimal> (no query, no '%',
// no dot segment), whose Host is plain, within the published size. Anything
// else, and any error while computing, goes to the app, which then answers
// it (a GET has no body: the request is still whole).

import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import { CACHE_IMMUTABLE } from './cache.js';
import type { LogApi } from './log-api.js';
import { requestIdFor, type HttpLogger, type RequestCounts } from './observe.js';
import { honoPath } from './openapi/routes.js';
import { consistencyAnswer, inclusionAnswer } from './proofs.js';
import { consistencyRoute, inclusionRoute } from './schemas.js';
import { PLAIN_HOST } from './tile-fast-path.js';
import type { FetchApp } from './server.js';

/** The two routes, with canonical decimals (no leading zero, at most 16 digits: parseDecimal's rule). */
const PROOF_TARGET = /^\/v1\/log\/(inclusion|consistency)\/(0|[1-9][0-9]{0,15})\/(0|[1-9][0-9]{0,15})$/;
const INCLUSION_ROUTE = honoPath(inclusionRoute.path);
const CONSISTENCY_ROUTE = honoPath(consistencyRoute.path);

export interface ProofFastPathOptions {
  log: LogApi;
  /** The app's request counter (observe.ts), counted here for the answers given here. */
  counts: RequestCounts | null;
  /** The app's listener: everything this path does not answer. */
  app: RequestListener;
}

/** A listener answering plain proof GETs itself and passing everything else to o.app. */
export function proofFastPath(o: ProofFastPathOptions): RequestListener {
  return function proofs(req: IncomingMessage, res: ServerResponse): void {
    const m = req.method === 'GET' ? plainProofRequest(req) : null;
    if (m === null) {
      void o.app(req, res);
      return;
    }
    const [, kind, a, b] = m;
    const x = Number(a);
    const y = Number(b);
    let published: number;
    try {
      published = o.log.checkpoint().size;
    } catch {
      void o.app(req, res); // no checkpoint to answer from: the app says so
      return;
    }
    const inclusion = kind === 'inclusion';
    // Only what answers 200: index < size, or 1 <= old <= new, within the published tree.
    if (!Number.isSafeInteger(x) || !Number.isSafeInteger(y) || y > published || (inclusion ? x >= y : x < 1 || x > y)) {
      void o.app(req, res);
      return;
    }
    const answer = inclusion ? inclusionAnswer(o.log, x, y) : consistencyAnswer(o.log, x, y);
    answer.then(
      (body) => {
        const json = JSON.stringify(body);
        const id = requestIdFor(req.headers['x-request-id'] as string | undefined);
        res.writeHead(200, [
          'access-control-allow-origin', '*',
          'cache-control', CACHE_IMMUTABLE,
          'content-type', 'application/json',
          'x-request-id', id,
          'Content-Length', String(Buffer.byteLength(json)),
        ]);
        res.end(json);
        o.counts?.add('GET', inclusion ? INCLUSION_ROUTE : CONSISTENCY_ROUTE, 200);
      },
      // The app computes it again and answers with its error table (errors.ts).
      () => void o.app(req, res),
    );
  };
}

function plainProofRequest(req: IncomingMessage): RegExpExecArray | null {
  const url = req.url;
  if (url === undefined || !url.startsWith('/v1/log/')) return null;
  const host = req.headers.host;
  if (host === undefined || !PLAIN_HOST.test(host)) return null;
  return PROOF_TARGET.exec(url);
}

/**
 * The log process's request listener: the app behind the proof fast path,
 * unless debug logging wants a line for every request (the app's, observe.ts).
 * hostname stands in for a missing Host header, as startServer's does.
 */
export function logRequestListener(app: FetchApp, log: LogApi, o: { hostname: string; counts: RequestCounts | null; logger?: HttpLogger }): RequestListener {
  const listener = getRequestListener(app.fetch, { hostname: o.hostname });
  if (o.logger?.isLevelEnabled('debug') === true) return listener;
  return proofFastPath({ log, counts: o.counts, app: listener });
}
