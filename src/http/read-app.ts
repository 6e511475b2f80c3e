// A read worker's app: the public tree's routes (tree-routes.ts) behind the
// same middleware, in the same order, as the log's full app (app.ts), so an
// answer from a worker carries the same status, headers and bytes as one from
// the log's own process (only Date and a generated X-Request-Id differ).
// Requests counted here stay in the worker (GET /metrics is the log's).

import type { OpenAPIHono } from '@hono/zod-openapi';
import { corsPolicy } from './cors.js';
import { rejectDotSegments } from './dot-segments.js';
import { notFoundHandler, onErrorHandler } from './errors.js';
import { observeRequests, type HttpLogger } from './observe.js';
import { createApiApp } from './openapi/routes.js';
import { rejectBadEscapes } from './percent-escapes.js';
import type { PublicTree } from './tiles.js';
import { mountTreeRoutes } from './tree-routes.js';

export function createReadApp(tree: PublicTree, logger?: HttpLogger): OpenAPIHono {
  const app = createApiApp({ code: 'HTTP_BAD_REQUEST' });
  app.onError(onErrorHandler(logger !== undefined ? () => {} : (msg, err) => console.error(msg, err)));
  app.notFound(notFoundHandler);
  app.use('*', corsPolicy());
  app.use('*', observeRequests(logger !== undefined ? { logger } : {}));
  app.use('*', rejectBadEscapes());
  const dots = rejectDotSegments();
  app.use('/tile/*', dots);
  app.use('/checkpoint', dots);
  mountTreeRoutes(app, tree);
  return app;
}
