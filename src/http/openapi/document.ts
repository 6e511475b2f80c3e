// GET /openapi.json and GET /docs: the OpenAPI 3.1 document of everything an
// app describes (routes.ts), and the reference page rendered from it. The
// document is built when first asked for and again only after more routes
// were described, so sub-apps mounted after createLogApp() (the registry,
// the CA) are included exactly when they are mounted.

import * as fs from 'node:fs';
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { CACHE_NONE } from '../cache.js';
import { methodNotAllowed } from '../errors.js';
import { raw } from './common.js';
import { renderReferencePage } from './reference-page.js';
import { serveRoute } from './routes.js';

export interface ApiInfo {
  title: string;
  version: string;
}

/** The parts of the API, in the order the reference page shows them. */
export const TAGS = [
  { name: 'tiles', description: 'C2SP tlog-tiles: the checkpoint and the tiles a client verifies against.' },
  { name: 'submission', description: 'Adding entries.' },
  { name: 'proofs', description: 'JSON proofs and lookups (spec/API.md).' },
  { name: 'registry', description: 'The agent-name registry (spec/REGISTRY.md). Writes need an API key.' },
  { name: 'ca', description: 'The private CA for agent certificates (spec/CA.md).' },
  { name: 'witness', description: 'A c2sp.org/tlog-witness witness (spec/WITNESS.md).' },
  { name: 'operations', description: 'Health, metrics, witness status and this description.' },
  { name: 'explorer', description: 'The log browser: a page that verifies what it shows with the SDK, in the browser.' },
] as const;

const DESCRIPTION =
  'Every error answer is JSON {"error": {"code", "message"}} (the witness\'s add-checkpoint answers text, as C2SP asks). ' +
  'A known path asked with another method answers 405 with Allow; an unknown path 404.';

/**
 * Title and version from tilelog's package.json, the nearest one at or above
 * this module: this code runs from src/http/openapi, dist/http/openapi and the
 * CLI bundle in dist/cli (scripts/bundle-cli.ts), at different depths.
 */
export function packageInfo(): ApiInfo {
  for (let dir = new URL('./', import.meta.url); ; dir = new URL('../', dir)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(new URL('package.json', dir), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'tilelog' && typeof pkg.version === 'string') return { title: pkg.name, version: pkg.version };
    } catch {
      // absent or not JSON: keep walking up
    }
    if (new URL('../', dir).href === dir.href) throw new Error('openapi: no package.json of tilelog above this module');
  }
}

type Document = ReturnType<OpenAPIHono['getOpenAPI31Document']>;

/** The OpenAPI 3.1 document of app's described routes. */
export function apiDocument(app: OpenAPIHono, info: ApiInfo = packageInfo()): Document {
  const doc = app.getOpenAPI31Document({ openapi: '3.1.0', info: { ...info, description: DESCRIPTION }, tags: [] });
  const used = new Set<string>();
  for (const item of Object.values(doc.paths ?? {})) {
    for (const op of Object.values(item as Record<string, { tags?: string[] }>)) for (const t of op.tags ?? []) used.add(t);
  }
  // Known parts first, in order; a tag added later (e.g. an explorer) is listed after them.
  const known = new Set<string>(TAGS.map((t) => t.name));
  doc.tags = [...TAGS.filter((t) => used.has(t.name)).map((t) => ({ ...t })), ...[...used].filter((t) => !known.has(t)).map((name) => ({ name }))];
  return doc;
}

export const openApiRoute = createRoute({
  method: 'get',
  path: '/openapi.json',
  tags: ['operations'],
  summary: 'This API description (OpenAPI 3.1)',
  responses: { 200: { description: 'The OpenAPI document.', content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } } } },
});

export const docsRoute = createRoute({
  method: 'get',
  path: '/docs',
  tags: ['operations'],
  summary: 'The API reference, as a page rendered from /openapi.json',
  responses: { 200: raw('A self-contained HTML page (no scripts, nothing fetched from elsewhere).', 'text/html; charset=utf-8') },
});

/** Serves GET /openapi.json and GET /docs on app, describing app itself. */
export function serveApiDocs(app: OpenAPIHono, info?: ApiInfo): void {
  let cached: { definitions: number; json: string; html: string } | null = null;
  const current = () => {
    const definitions = app.openAPIRegistry.definitions.length;
    if (cached === null || cached.definitions !== definitions) {
      const doc = apiDocument(app, info);
      cached = { definitions, json: JSON.stringify(doc), html: renderReferencePage(doc) };
    }
    return cached;
  };
  serveRoute(app, openApiRoute, (c: Context) => c.body(current().json, 200, { 'Content-Type': 'application/json', 'Cache-Control': CACHE_NONE }));
  serveRoute(app, docsRoute, (c: Context) =>
    c.body(current().html, 200, {
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': CACHE_NONE,
      // The page needs nothing but itself: inline styles, no scripts.
      'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'",
    }),
  );
  for (const p of ['/openapi.json', '/docs']) app.all(p, methodNotAllowed(['GET', 'HEAD']));
}
