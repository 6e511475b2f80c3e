// Reusable checks that an app and its OpenAPI document describe the same
// routes: every route hono serves (app.routes, ignoring middleware and the
// 405 catch-alls, which are method ALL) has an operation with its method,
// and every operation is served. Paths are compared by shape: parameters
// (hono :name or :name{regex}, OpenAPI {name}) become {}, and a hono * matches
// any rest, so /tile/* serves /tile/{level}/{index}.
import type { OpenAPIHono } from '@hono/zod-openapi';

export interface ApiDoc {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, unknown>>;
  tags?: { name: string }[];
  components?: Record<string, Record<string, unknown>>;
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

export function honoShape(path: string): string {
  return path.replace(/:[A-Za-z_][A-Za-z0-9_]*(\{(?:[^{}]|\{[^{}]*\})*\})?/g, '{}');
}

export function docShape(path: string): string {
  return path.replace(/\{[^}]+\}/g, '{}');
}

function serves(honoPath: string, docPath: string): boolean {
  const shape = honoShape(honoPath);
  const re = new RegExp(`^${shape.split('*').map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re.test(docShape(docPath));
}

/** The method and path of each operation in doc. */
export function operations(doc: ApiDoc): { method: string; path: string }[] {
  const out: { method: string; path: string }[] = [];
  for (const [path, item] of Object.entries(doc.paths)) for (const m of Object.keys(item)) if (HTTP_METHODS.includes(m)) out.push({ method: m.toUpperCase(), path });
  return out;
}

/** Routes app serves that doc does not describe, as "METHOD path". */
export function undocumentedRoutes(app: OpenAPIHono, doc: ApiDoc): string[] {
  const ops = operations(doc);
  const served = new Set(app.routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method} ${r.path}`));
  return [...served].filter((key) => {
    const [method, path] = key.split(' ') as [string, string];
    return !ops.some((o) => o.method === method && serves(path, o.path));
  });
}

/** Operations doc describes that app does not serve, as "METHOD path". */
export function unservedOperations(app: OpenAPIHono, doc: ApiDoc): string[] {
  const routes = app.routes.filter((r) => r.method !== 'ALL');
  return operations(doc)
    .filter((o) => !routes.some((r) => r.method === o.method && serves(r.path, o.path)))
    .map((o) => `${o.method} ${o.path}`);
}
