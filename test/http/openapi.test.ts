// The OpenAPI description against the apps: every route described and every
// operation served (log + registry + CA as `tilelog serve` composes them, and
// the witness); golden and live answers parse with the documented response
// schemas; failed checks are coded 400s naming the field; /docs lists every
// operation and links nowhere else; the document is structurally OpenAPI 3.1.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { Hono } from 'hono';
import type { ZodType } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentCertificates } from '../../src/ca/agent-certificates.js';
import { createCaApp } from '../../src/ca/http.js';
import { mountExplorer } from '../../src/http/explorer.js';
import { createLogApp } from '../../src/http/index.js';
import { ErrorBody, raw } from '../../src/http/openapi/common.js';
import { describeRoute } from '../../src/http/openapi/routes.js';
import { ProofBundle } from '../../src/http/schemas.js';
import { toBase64 } from '../../src/merkle/index.js';
import { ApiKeys, newApiKey } from '../../src/registry/http/auth.js';
import { createRegistryApp } from '../../src/registry/http/app.js';
import { openCaFixture, type CaFixture } from '../ca/helpers.js';
import { agentKey } from '../registry/helpers.js';
import { openTestWitness, type TestWitness } from '../witness/helpers.js';
import { operations, undocumentedRoutes, unservedOperations, type ApiDoc } from './openapi-coverage.js';

const VECTORS = fileURLToPath(new URL('../../spec/vectors/', import.meta.url));
const PKG = JSON.parse(fs.readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { name: string; version: string };
const acme = newApiKey('acme');
const NAME = 'ans://v1.0.0.bot.acme.example';
const ENC = encodeURIComponent(NAME);

let f: CaFixture;
let app: OpenAPIHono;
let w: TestWitness;
let doc: ApiDoc;
let witnessDoc: ApiDoc;

beforeAll(async () => {
  f = await openCaFixture();
  // Composed as src/cli/serve.ts and src/cli/registry.ts do.
  app = createLogApp(f.log, { logError: () => {} });
  const registry = createRegistryApp(f.registry, { apiKeys: new ApiKeys([acme.line]), dns: null, publicUrl: 'https://registry.example', certificates: agentCertificates(f.ca), logError: () => {} });
  registry.route('/', createCaApp(f.ca, { logError: () => {}, apiKeys: new ApiKeys([acme.line]) }));
  app.route('/', registry);
  mountExplorer(app, { assetsDir: path.join(VECTORS, 'no-explorer-build') });
  doc = (await (await app.request('/openapi.json')).json()) as ApiDoc;
  w = openTestWitness();
  witnessDoc = (await (await w.app.request('/openapi.json')).json()) as ApiDoc;
});
afterAll(async () => {
  w.close();
  await f.close();
});

/** The documented zod schema of an answer to method path, if the route documents one for that status and type. */
function responseSchema(a: OpenAPIHono, method: string, urlPath: string, status: number, type: string): ZodType | null {
  const p = urlPath.split('?')[0]!;
  const routes = a.openAPIRegistry.definitions.flatMap((d) => (d.type === 'route' && d.route.method.toUpperCase() === method ? [d.route] : []));
  // A parameter is one segment, except in tile paths (x001/234.p/5): those are tried second.
  const matches = (param: string) => routes.filter((r) => new RegExp(`^${r.path.replace(/\{[^}]+\}/g, param)}$`).test(p));
  for (const route of [...matches('[^/]+'), ...matches('.+')]) {
    const media = (route.responses[status] as { content?: Record<string, { schema?: ZodType }> } | undefined)?.content?.[type];
    if (media?.schema === undefined) throw new Error(`${method} ${p}: no ${type} schema for status ${status}`);
    return media.schema;
  }
  throw new Error(`${method} ${p}: not described`);
}

/** Requests and checks the answer against its documented schema; returns the JSON. */
async function documented(a: OpenAPIHono, method: string, p: string, init: RequestInit = {}) {
  const res = await a.request(p, { method, ...init });
  const type = (res.headers.get('content-type') ?? '').split(';')[0]!;
  const text = await res.text();
  if (type === 'application/json') {
    const schema = responseSchema(a, method, p, res.status, 'application/json')!;
    const r = schema.safeParse(JSON.parse(text));
    expect(r.success, `${method} ${p} ${res.status}: ${JSON.stringify(r.error?.issues)}`).toBe(true);
    return { status: res.status, json: JSON.parse(text) as any };
  }
  return { status: res.status, json: null, text };
}

const auth = { Authorization: `Bearer ${acme.key}`, 'Content-Type': 'application/json' };

describe('route coverage', () => {
  it('every route of the composed serve app (log, registry, CA, log browser) is described, and every operation is served', () => {
    expect(undocumentedRoutes(app, doc)).toEqual([]);
    expect(unservedOperations(app, doc)).toEqual([]);
    const ops = operations(doc).map((o) => `${o.method} ${o.path}`);
    for (const op of ['POST /add', 'GET /v1/log/inclusion/{index}/{tree}', 'PATCH /v1/agents/{name}', 'GET /v1/ca/ocsp/{request}', 'GET /openapi.json', 'GET /docs', 'GET /', 'GET /explorer/{file}']) expect(ops).toContain(op);
  });

  it('the witness app likewise', () => {
    expect(undocumentedRoutes(w.app, witnessDoc)).toEqual([]);
    expect(unservedOperations(w.app, witnessDoc)).toEqual([]);
    expect(operations(witnessDoc).map((o) => `${o.method} ${o.path}`)).toContain('POST /add-checkpoint');
  });

  it('a route of a plain sub-app (say, a log browser) is reported until described with describeRoute', async () => {
    const a = createLogApp(f.log, { logError: () => {} });
    const ui = new Hono();
    ui.get('/explorer/*', (c) => c.html('<p>log browser</p>'));
    a.route('/', ui);
    const docOf = async () => (await (await a.request('/openapi.json')).json()) as ApiDoc;
    expect(undocumentedRoutes(a, await docOf())).toEqual(['GET /explorer/*']);
    describeRoute(a, createRoute({ method: 'get', path: '/explorer/{page}', tags: ['explorer'], summary: 'The log browser', responses: { 200: raw('A page.', 'text/html; charset=utf-8') } }));
    const d = await docOf();
    expect(undocumentedRoutes(a, d)).toEqual([]);
    expect(d.tags?.map((t) => t.name)).toContain('explorer');
  });

  it('the log alone describes no registry or CA routes', async () => {
    const solo = createLogApp(f.log, { logError: () => {} });
    const d = (await (await solo.request('/openapi.json')).json()) as ApiDoc;
    expect(Object.keys(d.paths).filter((p) => p.startsWith('/v1/agents') || p.startsWith('/v1/ca'))).toEqual([]);
    expect(undocumentedRoutes(solo, d)).toEqual([]);
  });
});

describe('the document', () => {
  it('is structurally OpenAPI 3.1: info from package.json, tags, declared path parameters, resolvable $refs, bearer on registry writes', () => {
    for (const d of [doc, witnessDoc]) {
      expect(d.openapi).toBe('3.1.0');
      expect(d.info).toMatchObject({ title: PKG.name, version: PKG.version });
      const tags = new Set((d.tags ?? []).map((t) => t.name));
      for (const [p, item] of Object.entries(d.paths)) {
        expect(p.startsWith('/')).toBe(true);
        const names = [...p.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
        for (const op of Object.values(item) as { tags: string[]; parameters?: { name: string; in: string; required?: boolean }[]; responses: object }[]) {
          expect(Object.keys(op.responses).length).toBeGreaterThan(0);
          const declared = (op.parameters ?? []).filter((x) => x.in === 'path');
          expect(declared.map((x) => x.name).sort()).toEqual([...names].sort());
          for (const x of declared) expect(x.required).toBe(true);
          for (const t of op.tags) expect(tags.has(t)).toBe(true);
        }
      }
      const text = JSON.stringify(d);
      for (const m of text.matchAll(/"\$ref":"#\/components\/(\w+)\/([^"]+)"/g)) expect(d.components?.[m[1]!]?.[m[2]!], m[0]).toBeDefined();
    }
    expect([...new Set(operations(doc).flatMap((o) => (doc.paths[o.path]![o.method.toLowerCase()] as { tags: string[] }).tags))].sort()).toEqual(
      ['ca', 'explorer', 'operations', 'proofs', 'registry', 'submission', 'tiles'],
    );
    expect(doc.components?.securitySchemes).toMatchObject({ apiKey: { type: 'http', scheme: 'bearer' } });
    const op = (p: string, m: string) => doc.paths[p]![m] as { security?: unknown[] };
    expect(op('/v1/agents', 'post').security).toEqual([{ apiKey: [] }]);
    expect(op('/v1/agents/{name}', 'patch').security).toEqual([{ apiKey: [] }]);
    expect(op('/v1/agents', 'get').security).toBeUndefined();
    // POST /add: raw bytes, described without a schema check.
    expect(Object.keys((doc.paths['/add']!.post as { requestBody: { content: object } }).requestBody.content)).toEqual(['application/octet-stream']);
  });
});

describe('answers match the documented schemas', () => {
  it('every golden answer in spec/vectors', () => {
    const files = fs.readdirSync(VECTORS).filter((n) => n.endsWith('.json') && !n.startsWith('bundle-'));
    expect(files.length).toBeGreaterThan(15);
    for (const n of files) {
      const v = JSON.parse(fs.readFileSync(path.join(VECTORS, n), 'utf8')) as { request: string; status: number; body: unknown };
      const [method, p] = v.request.split(' ') as [string, string];
      // A wrong method (405) belongs to no operation: it answers the shared error body (the document's description says so).
      const schema = v.status === 405 ? ErrorBody : responseSchema(app, method, p, v.status, 'application/json')!;
      const r = schema.safeParse(v.body);
      expect(r.success, `${n}: ${JSON.stringify(r.error?.issues)}`).toBe(true);
    }
    for (const n of fs.readdirSync(VECTORS).filter((x) => x.startsWith('bundle-') && x.endsWith('.json'))) {
      expect(ProofBundle.safeParse(JSON.parse(fs.readFileSync(path.join(VECTORS, n), 'utf8'))).success, n).toBe(true);
    }
  });

  it('live answers of a log with a registry and a CA', async () => {
    const reg = await documented(app, 'POST', '/v1/agents?wait=checkpoint', {
      headers: auth,
      body: JSON.stringify({ name: NAME, endpoints: [{ protocol: 'A2A', url: 'https://bot.acme.example/' }], publicKey: toBase64(agentKey(1)), capabilities: ['orders'] }),
    });
    expect(reg.status).toBe(201);
    await f.log.waitForCheckpoint(reg.json.index);
    for (const p of ['/v1/log/info', '/healthz', '/readyz', `/v1/log/entry/0`, `/v1/log/inclusion/0/${reg.json.index + 1}`, '/v1/registry', '/v1/agents', `/v1/agents/${ENC}`, `/v1/agents/${ENC}/dns`, `/v1/resolve/${ENC}`, '/v1/ca/intermediates']) {
      expect((await documented(app, 'GET', p)).status, p).toBe(200);
    }
    const errors = ['/v1/log/entry/999', '/v1/log/inclusion/01/1', '/v1/agents/nobody.acme', '/v1/ca/certs/00', `/v1/ca/crl?issuer=${'0'.repeat(64)}`, `/v1/ca/chain?issuer=${'0'.repeat(64)}`];
    for (const p of errors) expect((await documented(app, 'GET', p)).status, p).toBeGreaterThanOrEqual(400);
    const upd = await documented(app, 'PATCH', `/v1/agents/${ENC}`, { headers: auth, body: JSON.stringify({ capabilities: ['orders', 'refunds'] }) });
    expect(upd.status).toBe(200);
    expect((await documented(app, 'POST', `/v1/agents/${ENC}/deprecate`, { headers: auth, body: JSON.stringify({ reason: 'moving' }) })).status).toBe(200);
    expect((await documented(app, 'POST', `/v1/agents/${ENC}/revoke`, { headers: auth, body: JSON.stringify({ reason: 'superseded' }) })).status).toBe(200);
    const v = await documented(app, 'POST', '/v1/verify/cert', { headers: auth, body: JSON.stringify({ certificate: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n' }) });
    expect(v.status).toBe(400);
    expect((await documented(app, 'POST', '/v1/ca/rotate', { headers: auth })).status).toBe(403);
    expect((await documented(app, 'POST', '/v1/ca/rotate')).status).toBe(401);
    expect((await documented(w.app, 'GET', '/evidence')).status).toBe(200);
  });
});

describe('failed checks are coded 400s that name the field', () => {
  it.each([
    ['GET', '/v1/log/inclusion/abc/7', undefined, 'HTTP_BAD_REQUEST', /^index must be a decimal/],
    ['GET', '/v1/log/consistency/1/zz', undefined, 'HTTP_BAD_REQUEST', /^new must be a decimal/],
    ['GET', '/v1/log/entry/-1', undefined, 'HTTP_BAD_REQUEST', /^index /],
    ['GET', '/v1/log/lookup/ABC', undefined, 'HTTP_BAD_REQUEST', /^leaf hash must be 64 lowercase hex/],
    ['POST', '/add?wait=forever', 'x', 'HTTP_BAD_REQUEST', /^wait must be one of "checkpoint"/],
    ['GET', '/v1/agents?status=bogus', undefined, 'REGISTRY_BAD_REQUEST', /^request: status must be one of "active", "deprecated", "revoked"/],
    ['GET', '/v1/agents?limit=ten', undefined, 'REGISTRY_BAD_REQUEST', /^request: limit has the wrong format/],
    ['GET', `/v1/agents/${ENC}/dns?format=bind`, undefined, 'REGISTRY_BAD_REQUEST', /^request: format must be one of "zone"/],
    ['POST', '/v1/agents', { name: NAME, endpoints: [{ protocol: 'FTP', url: 'x' }] }, 'REGISTRY_BAD_REQUEST', /^request: endpoints\[0\]\.protocol must be one of "A2A"/],
    ['POST', '/v1/agents', { name: NAME }, 'REGISTRY_BAD_REQUEST', /^request: endpoints is required/],
    ['POST', '/v1/agents', { name: 7, endpoints: [] }, 'REGISTRY_BAD_REQUEST', /^request: name must be a string/],
    ['POST', '/v1/agents', { name: NAME, endpoints: [{ protocol: 'A2A', url: 'https://a.example' }], colour: 'red' }, 'REGISTRY_BAD_REQUEST', /^request: unknown member "colour"/],
    ['POST', '/v1/agents', [1, 2], 'REGISTRY_BAD_REQUEST', /^request: the body must be a JSON object/],
    ['POST', `/v1/agents/${ENC}/revoke`, { reason: 'bored' }, 'REGISTRY_BAD_REQUEST', /^request: reason must be one of/],
    ['GET', '/v1/ca/crl?issuer=leaf', undefined, 'CA_BAD_REQUEST', /^request: issuer must be one of "intermediate", "root"/],
    ['GET', '/v1/ca/chain?issuer=root', undefined, 'CA_BAD_REQUEST', /^request: issuer must be an intermediate's key hash/],
    ['POST', '/v1/verify/cert', { pem: 'x' }, 'CA_BAD_REQUEST', /^request: certificate is required/],
  ] as const)('%s %s', async (method, p, body, code, message) => {
    const init: RequestInit = { method, headers: auth };
    if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
    const res = await app.request(p, init);
    expect(res.status).toBe(400);
    const j = (await res.json()) as { error: { code: string; message: string } };
    expect(j.error.code).toBe(code);
    expect(j.error.message).toMatch(message);
  });

  it('a JSON body without a Content-Type is still read (no 415), and the key is checked before the body', async () => {
    const r = await app.request('/v1/agents', { method: 'POST', headers: { Authorization: `Bearer ${acme.key}` }, body: '{"name":1}' });
    expect(r.status).toBe(400);
    const bad = await app.request('/v1/agents', { method: 'POST', headers: { Authorization: 'Bearer nope' }, body: '{"name":1}' });
    expect(bad.status).toBe(401);
  });

  it('the witness evidence query', async () => {
    const r = await w.app.request('/evidence?after=1.5');
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: { message: string } }).error.message).toBe('after must be a whole number, got "1.5"');
  });
});

describe('GET /docs', () => {
  it('lists every operation with its summary, escapes text, and links only within the page', async () => {
    for (const [a, d] of [[app, doc], [w.app, witnessDoc]] as const) {
      const res = await a.request('/docs');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      const html = await res.text();
      for (const o of operations(d)) {
        const esc = o.path.replace(/&/g, '&#38;');
        expect(html, `${o.method} ${o.path}`).toContain(`${o.method}</span> <code>${esc}</code>`);
        expect(html).toContain((d.paths[o.path]![o.method.toLowerCase()] as { summary: string }).summary.replace(/'/g, '&#39;').replace(/"/g, '&#34;'));
      }
      expect(html).not.toMatch(/<script/i);
      for (const m of html.matchAll(/\s(?:src|href)\s*=\s*"([^"]*)"/gi)) expect(m[1]).toMatch(/^(#[a-z0-9-]+|openapi\.json|\.\/)$/);
      // The log browser is linked exactly when this app serves it at / (the log app does, the witness does not).
      expect(html.includes('<a id="browser-link" href="./">')).toBe(d.paths['/'] !== undefined);
      expect(html).not.toMatch(/(?:src|href)\s*=\s*["']?(?:https?:)?\/\//i);
    }
    const html = await (await app.request('/docs')).text();
    expect(html).toContain('.p/&#60;width&#62;');
    expect(html).not.toContain('<width>');
  });
});
