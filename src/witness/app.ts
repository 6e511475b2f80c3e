// createWitnessApp: the HTTP face of a witness.
//
//   POST /add-checkpoint          c2sp.org/tlog-witness; text answers (errors.ts)
//   GET  /                        status page (text)
//   GET  /evidence                JSON: refused checkpoints and cosignatures issued
//   GET  /<hex sha256(origin)>/checkpoint   the latest cosigned checkpoint (monitoring)
//   GET  /metrics                 Prometheus (metrics.ts)
//
// Known paths answer other methods with 405, unknown paths with a JSON 404.
// The add-checkpoint body is read with a hard cap (MAX_REQUEST_BYTES): a
// larger Content-Length is refused before a byte is read, a chunked body as
// soon as it passes the cap.

import { Hono, type Context, type Handler } from 'hono';
import { readBodyCapped } from '../http/body-limit.js';
import { httpError, methodNotAllowed, notFoundHandler } from '../http/errors.js';
import { metricsHandler } from '../http/metrics.js';
import { observeRequests, type HttpLogger } from '../http/observe.js';
import { toBase64 } from '../merkle/index.js';
import { witnessOnError } from './errors.js';
import { ADD_CHECKPOINT_ROUTE, createWitnessMetrics } from './metrics.js';
import { MAX_REQUEST_BYTES } from './request.js';
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
}

const TEXT = 'text/plain; charset=utf-8';
const NO_STORE = 'no-store';
const GET = ['GET', 'HEAD'] as const;
const DECIMAL = /^(0|[1-9][0-9]{0,14})$/;

export function createWitnessApp(witness: Witness, options: WitnessAppOptions = {}): Hono {
  const { maxRequestBytes = MAX_REQUEST_BYTES, logger, metrics = true } = options;
  const logError = logger !== undefined ? () => {} : (options.logError ?? ((msg, err) => console.error(msg, err)));
  const app = new Hono();
  app.onError(witnessOnError(logError));
  app.notFound(notFoundHandler);
  const m = metrics ? createWitnessMetrics(witness) : null;
  app.use(
    '*',
    observeRequests({ ...(m !== null && { counts: m.requests, onAnswer: m.onAnswer }), ...(logger !== undefined && { logger }) }),
  );
  const get = (path: string, handler: Handler) => {
    app.get(path, handler);
    app.all(path, methodNotAllowed(GET));
  };

  app.post(ADD_CHECKPOINT_ROUTE, addCheckpointHandler(witness, maxRequestBytes));
  app.all(ADD_CHECKPOINT_ROUTE, methodNotAllowed(['POST']));
  if (m !== null) get('/metrics', metricsHandler(m.registry));
  get('/', statusHandler(witness));
  get('/evidence', evidenceHandler(witness));
  get('/:hash{[0-9a-f]{64}}/checkpoint', monitoringHandler(witness));
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
    const page = renderStatusPage({ name: witness.name, verifierKey: witness.verifierKey, logs: witness.status() });
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

function decimalParam(name: string, value: string): number {
  if (!DECIMAL.test(value)) throw httpError('HTTP_BAD_REQUEST', `${name} must be a whole number, got ${JSON.stringify(value)}`);
  return Number(value);
}
