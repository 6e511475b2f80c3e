// Observed server certificates through the API, in process: POST
// /v1/agents/{name}/certificates/observed records a cert.observed entry signed
// by the registry key (bundle verifies, idempotent), and GET .../dns carries a
// TLSA 3 1 1 record whose hash is what openssl computes for the SPKI. Refusals
// (wrong host, junk, no API key) write nothing. Certificates are made by openssl.
import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { verifyBundle } from '../../src/client/index.js';
import { toBase64 } from '../../src/merkle/index.js';
import { decodeEntry } from '../../src/registry/entries/index.js';
import { ApiKeys, newApiKey } from '../../src/registry/http/auth.js';
import { createRegistryApp } from '../../src/registry/http/app.js';
import { agentKey, openFixture, ORIGIN, registryKey, tempDir, type Fixture } from './helpers.js';

const acme = newApiKey('acme');
const other = newApiKey('other');
const NAME = 'ans://v1.0.0.bot.acme.example';
const N = encodeURIComponent(NAME);
const OBSERVED = `/v1/agents/${N}/certificates/observed`;
let f: Fixture;
let app: OpenAPIHono;
let tmp: { dir: string; cleanup(): void };

const sh = (cmd: string) => execSync(cmd, { cwd: tmp.dir, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
/** A self-signed server certificate for the DNS names; returns its PEM and openssl's SPKI SHA-256. */
const serverCert = (file: string, dns: string[]) => {
  sh(
    `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ${file}.key -out ${file}.pem -days 30 -subj /CN=${dns[0]} -addext subjectAltName=${dns.map((d) => `DNS:${d}`).join(',')}`,
  );
  const spki = sh(`openssl x509 -in ${file}.pem -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -r`).split(' ')[0]!;
  return { pem: readFileSync(path.join(tmp.dir, `${file}.pem`), 'utf8'), spki };
};
let good: { pem: string; spki: string };
let wild: { pem: string; spki: string };
let wrong: { pem: string; spki: string };

beforeAll(() => {
  tmp = tempDir('tilelog-observed-');
  good = serverCert('good', ['bot.acme.example']);
  wild = serverCert('wild', ['*.acme.example']);
  wrong = serverCert('wrong', ['bot.other.example', 'acme.example']);
});
afterAll(() => tmp.cleanup());

beforeEach(async () => {
  f = await openFixture();
  app = createRegistryApp(f.registry, { apiKeys: new ApiKeys([acme.line, other.line]), dns: null, publicUrl: 'https://registry.example', rateLimit: { ratePerMinute: 60, burst: 100 } });
});
afterEach(async () => {
  await f.close();
});

const req = async (method: string, p: string, body?: unknown, key: string | null = acme.key) => {
  const headers: Record<string, string> = {};
  if (key !== null) headers.Authorization = `Bearer ${key}`;
  const res = await app.request(p, { method, headers, ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }) });
  const text = await res.text();
  return { status: res.status, text, json: text.startsWith('{') ? JSON.parse(text) : null };
};
const register = (endpoints = [{ protocol: 'A2A', url: 'https://bot.acme.example/a2a' }]) =>
  req('POST', '/v1/agents', { name: NAME, capabilities: ['orders.read'], endpoints, publicKey: toBase64(agentKey(1)) });
const written = () => f.log.stats().sequenced;
const tlsa = async () => ((await req('GET', `/v1/agents/${N}/dns`)).json.records as { name: string; type: string; value: string }[]).filter((r) => r.type === 'TLSA');

describe('observed server certificates', () => {
  it('records a cert.observed signed by the registry key; the bundle verifies; the same certificate again is a duplicate', async () => {
    expect((await register()).status).toBe(201);
    const r = await req('POST', `${OBSERVED}?wait=checkpoint`, { certificate: good.pem });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ type: 'cert.observed', agent: NAME, spkiSha256: good.spki });
    expect(r.json.name).toBe(`observed:${r.json.sha256}`);
    const v = verifyBundle(JSON.stringify(r.json.bundle), { origin: ORIGIN, logKey: f.log.verifierKey });
    expect(v.index).toBe(r.json.index);
    const e = decodeEntry(v.entry);
    expect(e.type).toBe('cert.observed');
    expect(e.kid).toBe(registryKey.kid);
    if (e.type !== 'cert.observed') throw new Error('unreachable');
    expect(Buffer.from(e.body.spkiSha256).toString('hex')).toBe(good.spki);
    expect(e.body.dnsNames).toEqual(['bot.acme.example']);
    // Base64 DER of the same certificate: the same entry, nothing written.
    const before = written();
    const der = good.pem.replace(/-----[A-Z ]+-----|\s+/g, '');
    const again = await req('POST', OBSERVED, { certificate: der });
    expect(again.status).toBe(200);
    expect(again.json).toMatchObject({ index: r.json.index, duplicate: true });
    expect(written()).toBe(before);
  });

  it('GET .../dns has TLSA 3 1 1 <openssl SPKI SHA-256> at _443._tcp.<host> (JSON and zone), also for a wildcard SAN', async () => {
    await register();
    expect(await tlsa()).toEqual([]);
    await req('POST', OBSERVED, { certificate: good.pem });
    expect(await tlsa()).toEqual([{ name: '_443._tcp.bot.acme.example', type: 'TLSA', ttl: 3600, value: `3 1 1 ${good.spki}` }]);
    const zone = (await req('GET', `/v1/agents/${N}/dns?format=zone`)).text;
    expect(zone).toContain(`_443._tcp.bot.acme.example.\t3600\tIN\tTLSA\t3 1 1 ${good.spki}\n`);
    expect((await req('POST', OBSERVED, { certificate: wild.pem })).status).toBe(201);
    expect((await tlsa()).map((r) => r.value).sort()).toEqual([`3 1 1 ${good.spki}`, `3 1 1 ${wild.spki}`].sort());
  });

  it('TLSA uses the ports of https endpoints on the host; none for a deprecated agent', async () => {
    await register([
      { protocol: 'A2A', url: 'https://bot.acme.example:8443/a2a' },
      { protocol: 'MCP', url: 'https://mcp.elsewhere.example/mcp' },
    ]);
    await req('POST', OBSERVED, { certificate: good.pem });
    expect((await tlsa()).map((r) => r.name)).toEqual(['_8443._tcp.bot.acme.example']);
    await req('POST', `/v1/agents/${N}/deprecate`, {});
    expect(await tlsa()).toEqual([]);
  });

  it('a certificate not valid now gives no TLSA', async () => {
    app = createRegistryApp(f.registry, { apiKeys: new ApiKeys([acme.line]), dns: null, publicUrl: 'https://registry.example', nowSeconds: () => Math.floor(Date.now() / 1000) + 60 * 86400 });
    await register();
    expect((await req('POST', OBSERVED, { certificate: good.pem })).status).toBe(201);
    expect(await tlsa()).toEqual([]);
  });

  it.each([
    ['a certificate for another host', 400, 'REGISTRY_BAD_REQUEST', () => ({ certificate: wrong.pem }), acme.key, /no DNS subjectAltName matching bot\.acme\.example/],
    ['junk', 400, 'REGISTRY_BAD_REQUEST', () => ({ certificate: 'bm90IGEgY2VydGlmaWNhdGU=' }), acme.key, /does not parse as an X\.509/],
    ['not base64 at all', 400, 'REGISTRY_BAD_REQUEST', () => ({ certificate: '%%%' }), acme.key, /does not parse/],
    ['no certificate member', 400, 'REGISTRY_BAD_REQUEST', () => ({}), acme.key, /certificate must be/],
    ['no API key', 401, 'REGISTRY_UNAUTHORIZED', () => ({ certificate: good.pem }), null, /API key/],
    ["another owner's agent", 403, 'REGISTRY_FORBIDDEN', () => ({ certificate: good.pem }), other.key, /another owner/],
  ] as const)('refuses %s (%i %s), writing nothing', async (_what, status, code, body, key, message) => {
    await register();
    const before = written();
    const r = await req('POST', OBSERVED, body(), key);
    expect([r.status, r.json.error.code]).toEqual([status, code]);
    expect(r.json.error.message).toMatch(message);
    expect(written()).toBe(before);
    expect(await tlsa()).toEqual([]);
  });

  it('unknown agent 404; GET is 405', async () => {
    expect((await req('POST', `/v1/agents/${encodeURIComponent('ans://v1.0.0.nope.example')}/certificates/observed`, { certificate: good.pem })).status).toBe(404);
    expect((await req('GET', OBSERVED)).status).toBe(405);
  });
});
