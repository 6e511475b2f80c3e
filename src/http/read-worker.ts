// The request listener of a read worker (serve --read-workers): one of
// several processes that answer the public tree's reads on the log's public
// address while the log's own process keeps everything else (adds, proofs,
// the registry, metrics...). Per request, in order:
//   1. a cached full tile or bundle: answered from memory (tile-fast-path.ts);
//   2. /checkpoint and /tile/...: the same route code as the log's app, over
//      the worker's read-only view of the tree (read-app.ts);
//   3. anything else: forwarded to the log's process (forward.ts).
// Step 2 takes a path only when the log's app would route it to those same
// routes: its normalised path (as node-server and hono see it) is one of
// theirs and the target has no percent-escape (such targets, good or bad,
// are the log's to judge: forwarded).

import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import type { TileCache } from '../log/index.js';
import type { Forwarder } from './forward.js';
import type { HttpLogger } from './observe.js';
import { createReadApp } from './read-app.js';
import { answerCachedTile } from './tile-fast-path.js';
import type { PublicTree } from './tiles.js';
import { isTreePath } from './tree-routes.js';

export interface ReadWorkerOptions {
  /** The worker's read-only view of the public tree. */
  tree: PublicTree;
  /** The cache tree.readPublic reads full objects through. */
  cache: TileCache;
  forward: Forwarder;
  /** The public host, standing in for a missing Host header (as the log's own listener does). */
  host: string;
  logger?: HttpLogger;
}

/** The path a request target routes to, or null when the worker leaves it to the log (absolute form, %-escapes, unparsable). */
export function localPathOf(target: string | undefined): string | null {
  if (target === undefined || target[0] !== '/' || target.includes('%')) return null;
  try {
    return new URL(`http://h${target}`).pathname;
  } catch {
    return null;
  }
}

export function readWorkerListener(o: ReadWorkerOptions): RequestListener {
  const app = getRequestListener(createReadApp(o.tree, o.logger).fetch, { hostname: o.host });
  // A debug line per request is the app's (observe.ts): with debug on, every read goes through it.
  const fast = o.logger === undefined || !o.logger.isLevelEnabled('debug');
  return function readWorker(req: IncomingMessage, res: ServerResponse): void {
    if (fast && answerCachedTile(o.cache, req, res)) return;
    const local = localPathOf(req.url);
    if (local !== null && isTreePath(local)) void app(req, res);
    else o.forward(req, res);
  };
}
