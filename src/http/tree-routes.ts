// The public tree's routes, /checkpoint and /tile/..., mounted the same way
// on the log's full app (app.ts) and on a read worker's app (read-app.ts),
// so both answer every request to these paths with the same bytes.

import type { OpenAPIHono } from '@hono/zod-openapi';
import { methodNotAllowed } from './errors.js';
import { honoPath, serveRoute, describeRoute } from './openapi/routes.js';
import * as routes from './schemas.js';
import { checkpointHandler, tileHandler, type PublicTree } from './tiles.js';

const GET = ['GET', 'HEAD'] as const;

/** The paths a read worker answers itself: exactly those the routes below own (the rest goes to the log's process). */
export function isTreePath(pathname: string): boolean {
  return pathname === '/checkpoint' || pathname.startsWith('/tile/');
}

export function mountTreeRoutes(app: OpenAPIHono, tree: PublicTree): void {
  // C2SP tlog-tiles. Tile paths are checked by the layout module (LAYOUT_BAD_PATH), not by a schema.
  serveRoute(app, routes.checkpointRoute, checkpointHandler(tree));
  app.all(honoPath(routes.checkpointRoute.path), methodNotAllowed(GET));
  describeRoute(app, routes.tileRoute);
  describeRoute(app, routes.entriesTileRoute);
  app.get('/tile/*', tileHandler(tree));
  app.all('/tile/*', methodNotAllowed(GET));
}
