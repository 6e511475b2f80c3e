// The CORS rule (src/http/cors.ts) over every route: the routes are taken
// from /openapi.json of the app `tilelog serve --registry --registry-ca`
// composes (log, registry, CA, log browser) and of the witness, so a route
// added later is checked too. The expectations are written here, not read
// from cors.ts: a change of the rule, or a route that escapes it, fails.
//   GET and HEAD, errors included: Access-Control-Allow-Origin: *
//   GET /metrics (private), writes, any other method: no Access-Control-* header
//   OPTIONS (no preflight): a 404 or 405, no Access-Control-* header
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentCertificates } from '../../src/ca/agent-certificates.js';
import { createCaApp } from '../../src/ca/http.js';
import { mountExplorer } from '../../src/http/explorer.js';
import { createLogApp } from '../../src/http/index.js';
import { ApiKeys, newApiKey } from '../../src/registry/http/auth.js';
import { createRegistryApp } from '../../src/registry/http/app.js';
import { openCaFixture, type CaFixture } from '../ca/helpers.js';
import { openTestWitness, type TestWitness } from '../witness/helpers.js';
import { operations, type ApiDoc } from './openapi-coverage.js';

/** Reads that stay private: their answers carry no CORS header. */
const PRIVATE_READS = new Set(['GET /metrics']);
const ORIGIN_HEADER = { Origin: 'https://elsewhere.example' };
const HEX64 = '0'.repeat(64);
/** A sample value per path parameter; what matters is that the route answers (an error answer too). */
const SAMPLES: Record<string, string> = {
  name: encodeURIComponent('ans://v1.0.0.bot.acme.example'),
  hash: HEX64,
  originHash: HEX64,
  serial: '00',
  request: 'MAA%3D',
  file: 'app.js',
  level: '0',
  index: '000',
  tree: '1',
  old: '0',
  new: '1',
};

let f: CaFixture;
let app: OpenAPIHono;
let w: TestWitness;

beforeAll(async () => {
  f = await openCaFixture();
  // Composed as src/cli/serve.ts and src/cli/registry.ts do.
  app = createLogApp(f.log, { logError: () => {} });
  const registry = createRegistryApp(f.registry, {
    apiKeys: new ApiKeys([newApiKey('acme').line]),
    dns: null,
    certificates: agentCertificates(f.ca),
    publicUrl: 'https://registry.example',
    logError: () => {},
  });
  registry.route('/', createCaApp(f.ca, { logError: () => {} }));
  app.route('/', registry);
  mountExplorer(app, { assetsDir: path.join(fileURLToPath(new URL('../golden/', import.meta.url)), 'no-explorer-build') });
  w = openTestWitness();
});
afterAll(async () => {
  w.close();
  await f.close();
});

function concrete(docPath: string): string {
  return docPath.replace(/\{([^}]+)\}/g, (_m, p: string) => SAMPLES[p] ?? '0');
}

/** Each operation of a's document as a request, HEAD added for every GET. */
async function requestsOf(a: OpenAPIHono): Promise<{ method: string; docPath: string; url: string }[]> {
  const doc = (await (await a.request('/openapi.json')).json()) as ApiDoc;
  const ops = operations(doc);
  expect(ops.length).toBeGreaterThan(5);
  return ops.flatMap((o) => {
    const r = { method: o.method, docPath: o.path, url: concrete(o.path) };
    return o.method === 'GET' ? [r, { ...r, method: 'HEAD' }] : [r];
  });
}

function expected(method: string, docPath: string): string | null {
  const read = method === 'GET' || method === 'HEAD';
  return read && !PRIVATE_READS.has(`GET ${docPath}`) ? '*' : null;
}

function corsHeaders(res: Response): string[] {
  const names: string[] = [];
  res.headers.forEach((_v, k) => {
    if (k.startsWith('access-control-')) names.push(k);
  });
  return names;
}

async function checkEveryRoute(a: OpenAPIHono): Promise<string[]> {
  const seen: string[] = [];
  for (const r of await requestsOf(a)) {
    const write = r.method !== 'GET' && r.method !== 'HEAD';
    const res = await a.request(r.url, {
      method: r.method,
      headers: { ...ORIGIN_HEADER, ...(write && { 'Content-Type': 'application/json' }) },
      ...(write && { body: '{}' }),
    });
    const want = expected(r.method, r.docPath);
    const what = `${r.method} ${r.url} (${res.status})`;
    expect(res.status, what).not.toBe(500); // (GET / is a 503 without a built log browser)
    expect(res.headers.get('access-control-allow-origin'), what).toBe(want);
    if (want === null) expect(corsHeaders(res), what).toEqual([]);
    seen.push(`${r.method} ${r.docPath}`);
  }
  return seen;
}

describe('one CORS rule over every route', () => {
  it('the composed serve app (log, registry, CA, log browser): public reads *, /metrics and writes none', async () => {
    const seen = await checkEveryRoute(app);
    // The document really lists the routes the rule is about.
    for (const r of ['GET /metrics', 'HEAD /metrics', 'GET /v1/registry', 'GET /v1/agents', 'GET /v1/ca/chain', 'POST /add', 'POST /v1/agents', 'GET /tile/{level}/{index}', 'GET /']) {
      expect(seen).toContain(r);
    }
  });

  it('the witness app: status, evidence and monitoring checkpoints *, /metrics and add-checkpoint none', async () => {
    const seen = await checkEveryRoute(w.app);
    for (const r of ['GET /metrics', 'POST /add-checkpoint', 'GET /evidence', 'GET /{originHash}/checkpoint']) expect(seen).toContain(r);
  });

  it('no preflight: OPTIONS on every documented path is a 404 or 405 without Access-Control-* headers', async () => {
    for (const a of [app, w.app]) {
      const paths = new Set((await requestsOf(a)).map((r) => r.url));
      for (const p of paths) {
        const res = await a.request(p, {
          method: 'OPTIONS',
          headers: { ...ORIGIN_HEADER, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization, content-type' },
        });
        expect([404, 405], `OPTIONS ${p}`).toContain(res.status);
        expect(corsHeaders(res), `OPTIONS ${p}`).toEqual([]);
      }
    }
  });

  it('unknown paths answer GET with * (an error is a public read too) and POST without', async () => {
    for (const a of [app, w.app]) {
      expect((await a.request('/no/such/path', { headers: ORIGIN_HEADER })).headers.get('access-control-allow-origin')).toBe('*');
      expect((await a.request('/no/such/path', { method: 'POST', headers: ORIGIN_HEADER })).headers.get('access-control-allow-origin')).toBeNull();
    }
  });
});
