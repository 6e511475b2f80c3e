// createLogApp: the HTTP face of one log (GET /metrics: metrics.ts). Routes are listed in one place;
// each handler lives in the file named for its concern, each route's
// description and checks in schemas.ts. Every known path answers other
// methods with a JSON 405, unknown paths with a JSON 404, and every error
// goes through the one table in errors.ts. GET /openapi.json and /docs
// describe whatever the app serves when asked, sub-apps mounted later
// included (openapi/document.ts).

import type { OpenAPIHono } from '@hono/zod-openapi';
import { addHandler } from './add.js';
import { corsPolicy } from './cors.js';
import { rejectDotSegments } from './dot-segments.js';
import { rejectBadEscapes } from './percent-escapes.js';
import { methodNotAllowed, notFoundHandler, onErrorHandler } from './errors.js';
import { checkpointsHandler } from './history.js';
import { healthzHandler, infoHandler, readyzHandler } from './health.js';
import type { LogApi } from './log-api.js';
import { createLogMetrics, metricsHandler } from './metrics.js';
import { observeRequests, type HttpLogger, type RequestCounts } from './observe.js';
import { serveApiDocs, type ApiInfo } from './openapi/document.js';
import { createApiApp, honoPath, serveRoute, type RouteConfig, type RouteHandler } from './openapi/routes.js';
import { consistencyHandler, entryHandler, inclusionHandler, lookupHandler } from './proofs.js';
import { mountTreeRoutes } from './tree-routes.js';
import { logSignedCheckpointHandler, witnessesHandler } from './witnesses.js';
import * as routes from './schemas.js';

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
  /** Title and version of GET /openapi.json (default: from package.json). */
  apiInfo?: ApiInfo;
  /** The URL readers fetch the public tree from, named by GET /v1/log/info (a bucket's or CDN's; asked per request). */
  publicUrl?: () => string;
  /** The request counter /metrics reports (default: the app's own); give it to proofFastPath too. */
  requestCounts?: RequestCounts;
}

const GET = ['GET', 'HEAD'] as const;

export function createLogApp(log: LogApi, options: LogAppOptions = {}): OpenAPIHono {
  const { waitTimeoutMs = 30_000, isReady = () => true, logger, metrics = true } = options;
  const logError = logger !== undefined ? () => {} : (options.logError ?? ((msg, err) => console.error(msg, err)));
  const app = createApiApp({ code: 'HTTP_BAD_REQUEST' });
  app.onError(onErrorHandler(logError));
  app.notFound(notFoundHandler);
  // Every request, POST /add included: a request ID and one counter increment (observe.ts).
  const m = metrics ? createLogMetrics(log, options.requestCounts) : null;
  // CORS for every route, the registry's, CA's and browser's mounted later included (cors.ts).
  // Before observeRequests, which labels a request no route matched by being the last handler reached.
  app.use('*', corsPolicy());
  app.use('*', observeRequests({ ...(m !== null && { counts: m.requests }), ...(logger !== undefined && { logger }) }));
  // Every route, mounted sub-apps included: a malformed %-escape is a 400 before any handler decodes (an indexOf when there is no '%').
  app.use('*', rejectBadEscapes());
  // Not on POST /add: the hot path stays free of other middleware.
  const dots = rejectDotSegments();
  app.use('/tile/*', dots);
  app.use('/v1/*', dots);
  app.use('/checkpoint', dots);

  const get = (route: RouteConfig, handler: RouteHandler) => {
    const path = honoPath(route.path);
    serveRoute(app, route, handler);
    app.all(path, methodNotAllowed(GET));
  };

  // C2SP tlog-tiles (tree-routes.ts, shared with read workers).
  mountTreeRoutes(app, log);

  // Writes. The body is read from the node stream by the handler, never by a validator (the hot path).
  serveRoute(app, routes.addRoute, addHandler(log, { waitTimeoutMs }));
  app.all('/add', methodNotAllowed(['POST']));

  // JSON proofs.
  get(routes.entryRoute, entryHandler(log));
  get(routes.inclusionRoute, inclusionHandler(log));
  get(routes.consistencyRoute, consistencyHandler(log));
  get(routes.lookupRoute, lookupHandler(log));
  get(routes.infoRoute, infoHandler(log, options.publicUrl));
  get(routes.checkpointsRoute, checkpointsHandler(log));
  get(routes.logSignedCheckpointRoute, logSignedCheckpointHandler(log));
  get(routes.witnessesRoute, witnessesHandler(log));

  // Operations.
  get(routes.healthzRoute, healthzHandler());
  get(routes.readyzRoute, readyzHandler(isReady, log));
  if (m !== null) get(routes.metricsRoute, metricsHandler(m.registry));
  serveApiDocs(app, options.apiInfo);
  return app;
}
