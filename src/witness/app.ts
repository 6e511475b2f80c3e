// createWitnessApp: the HTTP face of a witness.
//
//   POST /add-checkpoint          c2sp.org/tlog-witness; text answers (errors.ts)
//   GET  /                        status page (text)
//   GET  /evidence                JSON: refused checkpoints and cosignatures issued
//   GET  /<hex sha256(origin)>/checkpoint   the latest cosigned checkpoint (monitoring)
//   GET  /metrics                 Prometheus (metrics.ts)
//   GET  /openapi.json, /docs     this API's description (schemas.ts)
//
// Known paths answer other methods with 405, unknown paths with a JSON 404.
// The add-checkpoint body is read with a hard cap (MAX_REQUEST_BYTES): a
// larger Content-Length is refused before a byte is read, a chunked body as
// soon as it passes the cap.

import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { readBodyCapped } from '../http/body-limit.js';
import { corsPolicy } from '../http/cors.js';
import { httpError, methodNotAllowed, notFoundHandler } from '../http/errors.js';
import { metricsHandler } from '../http/metrics.js';
import { observeRequests, type HttpLogger } from '../http/observe.js';
import { rejectBadEscapes } from '../http/percent-escapes.js';
import { serveApiDocs, type ApiInfo } from '../http/openapi/document.js';
import { createApiApp, describeRoute, honoPath, serveRoute, type RouteConfig, type RouteHandler } from '../http/openapi/routes.js';
import { toBase64 } from '../merkle/index.js';
import { witnessOnError } from './errors.js';
import { ADD_CHECKPOINT_ROUTE, createWitnessMetrics } from './metrics.js';
import { MAX_REQUEST_BYTES } from './request.js';
import * as routes from './schemas.js';
import { decimalParam } from './schemas.js';
import { renderStatusPage } from './status-page.js';
import type { CosignedCheckpoint, EvidenceFilter } from './store.js';
import type { Witness } from './witness.js';

export interface WitnessAppOptions {
  /** Largest add-checkpoint body accepted (default MAX_REQUEST_BYTES, 64 KiB). */
  maxRequestBytes?: number;
  /** Where internal errors are reported (default console.error); ignored when logger is set. */
  logError?: (msg: string, err: unknown) => void;
  /** Structured request logs with request IDs (pino's Logger fits). */
  logger?: HttpLogger;
  /** Serve GET /metrics from a registry of this app's own (default true). */
  metrics?: boolean;
  /** Title and version of GET /openapi.json (default: from package.json). */
  apiInfo?: ApiInfo;
}

const TEXT = 'text/plain; charset=utf-8';
const NO_STORE = 'no-store';
const GET = ['GET', 'HEAD'] as const;

export function createWitnessApp(witness: Witness, options: WitnessAppOptions = {}): OpenAPIHono {
  const { maxRequestBytes = MAX_REQUEST_BYTES, logger, metrics = true } = options;
  const logError = logger !== undefined ? () => {} : (options.logError ?? ((msg, err) => console.error(msg, err)));
  const app = createApiApp({ code: 'HTTP_BAD_REQUEST' });
  app.onError(witnessOnError(logError));
  app.notFound(notFoundHandler);
  const m = metrics ? createWitnessMetrics(witness) : null;
  // The same CORS rule as the log's (cors.ts): public reads open, /metrics and writes closed.
  // Before observeRequests, which labels a request no route matched by being the last handler reached.
  app.use('*', corsPolicy());
  app.use(
    '*',
    observeRequests({ ...(m !== null && { counts: m.requests, onAnswer: m.onAnswer }), ...(logger !== undefined && { logger }) }),
  );
  app.use('*', rejectBadEscapes());
  const get = (route: RouteConfig, handler: RouteHandler) => {
    serveRoute(app, route, handler);
    app.all(honoPath(route.path), methodNotAllowed(GET));
  };

  serveRoute(app, routes.addCheckpointRoute, addCheckpointHandler(witness, maxRequestBytes));
  app.all(ADD_CHECKPOINT_ROUTE, methodNotAllowed(['POST']));
  if (m !== null) get(routes.witnessMetricsRoute, metricsHandler(m.registry));
  get(routes.statusRoute, statusHandler(witness));
  get(routes.evidenceRoute, evidenceHandler(witness));
  // A regex path, so that other two-segment paths stay 404s: described, served by hand.
  describeRoute(app, routes.monitoringRoute);
  app.get('/:hash{[0-9a-f]{64}}/checkpoint', monitoringHandler(witness));
  app.all('/:hash{[0-9a-f]{64}}/checkpoint', methodNotAllowed(GET));
  serveApiDocs(app, options.apiInfo);
  return app;
}

function addCheckpointHandler(witness: Witness, maxBytes: number) {
  return async function addCheckpoint(c: Context): Promise<Response> {
    const body = await readBodyCapped(c.req.raw, maxBytes, (c.env as { incoming?: unknown } | undefined)?.incoming);
    const lines = witness.addCheckpoint(body);
    return c.body(lines, 200, { 'Content-Type': TEXT, 'Cache-Control': NO_STORE });
  };
}

function statusHandler(witness: Witness) {
  return function status(c: Context): Response {
    const page = renderStatusPage({ name: witness.name, verifierKey: witness.verifierKey, nextVerifierKey: witness.nextSigner?.verifierKey ?? null, logs: witness.status() });
    return c.body(page, 200, { 'Content-Type': TEXT, 'Cache-Control': NO_STORE });
  };
}

function monitoringHandler(witness: Witness) {
  return function monitoring(c: Context): Response {
    const note = witness.monitoringCheckpoint(c.req.param('hash') as string);
    if (note === null) throw httpError('HTTP_NOT_FOUND', 'this witness never cosigned a checkpoint for that origin');
    return c.body(note, 200, { 'Content-Type': TEXT, 'Cache-Control': NO_STORE });
  };
}

// GET /evidence?origin=<o>&kind=conflicts|cosigned&after=<id>&limit=<n>
//   {"conflicts": [...], "cosigned": [...]}; each list oldest first, at most
//   limit (default 100, max 1000) records with id > after.
function evidenceHandler(witness: Witness) {
  return function evidence(c: Context): Response {
    const filter: EvidenceFilter = {};
    const origin = c.req.query('origin');
    if (origin !== undefined) filter.origin = origin;
    const after = c.req.query('after');
    if (after !== undefined) filter.after = decimalParam('after', after);
    const limit = c.req.query('limit');
    if (limit !== undefined) filter.limit = decimalParam('limit', limit);
    const kind = c.req.query('kind');
    if (kind !== undefined && kind !== 'conflicts' && kind !== 'cosigned') {
      throw httpError('HTTP_BAD_REQUEST', `kind must be "conflicts" or "cosigned", got ${JSON.stringify(kind)}`);
    }
    const body: Record<string, unknown> = {};
    if (kind !== 'cosigned') {
      body.conflicts = witness.store.evidence(filter).map((e) => ({
        id: e.id,
        origin: e.origin,
        reason: e.reason,
        detail: e.detail,
        receivedAt: e.receivedAt,
        request: { oldSize: e.oldSize, proof: e.proof.map(toBase64), checkpoint: e.note },
        stored: e.stored === null ? null : cosignedJson(e.stored),
      }));
    }
    if (kind !== 'conflicts') {
      body.cosigned = witness.store.history(filter).map((h) => ({ id: h.id, ...cosignedJson(h) }));
    }
    return c.json(body, 200, { 'Cache-Control': NO_STORE });
  };
}

function cosignedJson(x: CosignedCheckpoint) {
  return { origin: x.origin, size: x.size, root: toBase64(x.root), timestamp: x.timestamp, checkpoint: x.note };
}
