// createExplorerApp: serves the log browser built by `npm run build`
// (scripts/build-explorer.ts -> dist/explorer/): GET / is index.html and
// GET /explorer/<file> its assets. The page routes by URL hash, so nothing
// else is needed. Every answer carries a strict Content-Security-Policy:
// the page may load and fetch only from this origin, and runs no inline
// script or style, so a hostile entry rendered in it cannot reach out.
// Without a build, / answers a short page saying how to make one.
// Assets are read like tiles (storage/safe-read.ts): only regular files
// directly in assetsDir, never through a symlink; a refused one is a 404.

import * as path from 'node:path';
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { Hono, type Context } from 'hono';
import { CACHE_IMMUTABLE, CACHE_NONE } from './cache.js';
import { errorResponses, raw } from './openapi/common.js';
import { describeRoute } from './openapi/routes.js';
import { readInside, realRoot } from '../storage/safe-read.js';

export const EXPLORER_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
  "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export interface ExplorerAppOptions {
  /** The built assets: index.html, app-<hash>.js, style-<hash>.css, favicon.svg. */
  assetsDir: string;
  /** Called for each asset read refused as unsafe (a symlink, not a regular file). */
  onRefused?: (name: string, reason: string) => void;
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.html': 'text/html; charset=utf-8',
};
// Built names only: letters, digits, dot, dash, underscore; no dot first.
const ASSET_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;
// esbuild's content hash in app-<hash>.js: such files never change.
const HASHED = /-[A-Z0-9]{8}\.(js|css)$/;

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tilelog</title></head>
<body><h1>tilelog</h1>
<p>The log is running, but its browser is not built. Run <code>npm run build</code>
(or <code>npm start</code>, which builds first) and reload.</p>
<p>The log itself answers at <a href="/checkpoint">/checkpoint</a> and <a href="/v1/log/info">/v1/log/info</a>.</p>
</body></html>
`;

function secure(c: Context): void {
  c.header('Content-Security-Policy', EXPLORER_CSP);
  c.header('X-Content-Type-Options', 'nosniff');
  c.header('Referrer-Policy', 'no-referrer');
}

export function createExplorerApp(options: ExplorerAppOptions): Hono {
  const { onRefused } = options;
  const assetsDir = realRoot(options.assetsDir);
  const app = new Hono();
  // Files are read per request: small, and a rebuild while serving shows up at once.
  const read = async (name: string): Promise<Uint8Array<ArrayBuffer> | null> => {
    try {
      const got = await readInside(assetsDir, name);
      if (got.kind === 'refused') onRefused?.(name, got.reason);
      return got.kind === 'file' ? new Uint8Array(got.data) : null;
    } catch {
      return null;
    }
  };

  app.get('/', async function explorerIndex(c) {
    secure(c);
    const page = await read('index.html');
    if (page === null) return c.html(NOT_BUILT, 503, { 'Cache-Control': CACHE_NONE });
    // no-cache: revalidate each time, so a new build's asset names are picked up.
    return c.body(page, 200, { 'Content-Type': TYPES['.html']!, 'Cache-Control': 'no-cache' });
  });

  app.get('/explorer/:file', async function explorerAsset(c) {
    secure(c);
    const name = c.req.param('file');
    const type = TYPES[path.extname(name)];
    const data = ASSET_NAME.test(name) && name !== 'index.html' && type !== undefined ? await read(name) : null;
    if (data === null) return c.json({ error: { code: 'HTTP_NOT_FOUND', message: `no explorer asset ${JSON.stringify(name)}` } }, 404, { 'Cache-Control': CACHE_NONE });
    return c.body(data, 200, { 'Content-Type': type!, 'Cache-Control': HASHED.test(name) ? CACHE_IMMUTABLE : 'public, max-age=300' });
  });
  return app;
}

/** The browser's two routes in the API description (served by createExplorerApp, not by a schema). */
export const explorerRoutes = [
  createRoute({
    method: 'get',
    path: '/',
    tags: ['explorer'],
    summary: 'The log browser',
    description: 'An HTML page that shows the log and verifies checkpoints and inclusion proofs in the browser with keys the user can pin. 503 with a hint when the assets are not built.',
    responses: { 200: raw('The page.', 'text/html; charset=utf-8'), 503: raw('The assets are not built (npm run build).', 'text/html; charset=utf-8') },
  }),
  createRoute({
    method: 'get',
    path: '/explorer/{file}',
    tags: ['explorer'],
    summary: "The log browser's assets",
    description: 'Content-hashed scripts and styles (immutable) and the icon.',
    request: { params: z.object({ file: z.string().openapi({ description: 'A built asset name, e.g. app-ABCD1234.js.' }) }) },
    responses: { 200: raw('The asset.', 'text/javascript; charset=utf-8', 'text/css; charset=utf-8', 'image/svg+xml'), ...errorResponses(404) },
  }),
];

/** Mounts the browser at / on app and describes its routes in app's OpenAPI document. */
export function mountExplorer(app: OpenAPIHono, options: ExplorerAppOptions): void {
  app.route('/', createExplorerApp(options));
  for (const route of explorerRoutes) describeRoute(app, route);
}
