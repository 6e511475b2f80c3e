// createLogApp: the HTTP face of one log (GET /metrics: metrics.ts). Routes are listed in one place;
// each handler lives in the file named for its concern. Every known path
// answers other methods with a JSON 405, unknown paths with a JSON 404, and
// every error goes through the one table in errors.ts.

import { Hono, type Handler } from 'hono';
import { addHandler } from './add.js';
import { corsReads } from './cors.js';
import { rejectDotSegments } from './dot-segments.js';
import { methodNotAllowed, notFoundHandler, onErrorHandler } from './errors.js';
import { checkpointsHandler } from './history.js';
import { healthzHandler, infoHandler, readyzHandler } from './health.js';
import type { LogApi } from './log-api.js';
import { createLogMetrics, metricsHandler } from './metrics.js';
import { observeRequests, type HttpLogger } from './observe.js';
import { consistencyHandler, entryHandler, inclusionHandler, lookupHandler } from './proofs.js';
import { checkpointHandler, tileHandler } from './tiles.js';
import { logSignedCheckpointHandler, witnessesHandler } from './witnesses.js';

export interface LogAppOptions {
  /** Longest time POST /add?wait=checkpoint waits for a checkpoint (default 30000). */
  waitTimeoutMs?: number;
  /** Answers /readyz (default: always ready). */
  isReady?: () => boolean;
  /** Where internal errors are reported (default console.error); ignored when logger is set. */
  logError?: (msg: string, err: unknown) => void;
  /** Structured request logs (pino): a debug line per request, an error line per 500, with the request ID. */
  logger?: HttpLogger;
  /** Serve GET /metrics (Prometheus) from a registry of this app's own (default true). */
  metrics?: boolean;
}

const GET = ['GET', 'HEAD'] as const;

export function createLogApp(log: LogApi, options: LogAppOptions = {}): Hono {
  const { waitTimeoutMs = 30_000, isReady = () => true, logger, metrics = true } = options;
  const logError = logger !== undefined ? () => {} : (options.logError ?? ((msg, err) => console.error(msg, err)));
  const app = new Hono();
  app.onError(onErrorHandler(logError));
  app.notFound(notFoundHandler);
  // Every request, POST /add included: a request ID and one counter increment (observe.ts).
  const m = metrics ? createLogMetrics(log) : null;
  app.use('*', observeRequests({ ...(m !== null && { counts: m.requests }), ...(logger !== undefined && { logger }) }));
  // Not on POST /add: the hot path stays free of other middleware.
  const dots = rejectDotSegments();
  app.use('/tile/*', dots);
  app.use('/v1/*', dots);
  app.use('/checkpoint', dots);

  const reads = corsReads();
  const get = (path: string, handler: Handler) => {
    app.use(path, reads);
    app.get(path, handler);
    app.all(path, methodNotAllowed(GET));
  };

  // C2SP tlog-tiles.
  get('/checkpoint', checkpointHandler(log));
  get('/tile/*', tileHandler(log));

  // Writes.
  app.post('/add', addHandler(log, { waitTimeoutMs }));
  app.all('/add', methodNotAllowed(['POST']));

  // JSON proofs.
  get('/v1/log/entry/:index', entryHandler(log));
  get('/v1/log/inclusion/:index/:tree', inclusionHandler(log));
  get('/v1/log/consistency/:old/:new', consistencyHandler(log));
  get('/v1/log/lookup/:hash', lookupHandler(log));
  get('/v1/log/info', infoHandler(log));
  get('/v1/log/checkpoints', checkpointsHandler(log));
  get('/v1/log/log-signed-checkpoint', logSignedCheckpointHandler(log));
  get('/v1/log/witnesses', witnessesHandler(log));

  // Operations.
  get('/healthz', healthzHandler());
  get('/readyz', readyzHandler(isReady));
  if (m !== null) get('/metrics', metricsHandler(m.registry));
  return app;
}
