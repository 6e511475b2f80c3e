// The agents API in process (app.request), domain validation off explicitly.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toBase64 } from '../../src/merkle/index.js';
import { ApiKeys, newApiKey } from '../../src/registry/http/auth.js';
import { createRegistryApp } from '../../src/registry/http/app.js';
import { agentKey, openFixture, type Fixture } from './helpers.js';
import type { OpenAPIHono } from '@hono/zod-openapi';

const acme = newApiKey('acme');
const other = newApiKey('other');
let f: Fixture;
let app: OpenAPIHono;
let clockMs: number;

beforeEach(async () => {
  f = await openFixture();
  clockMs = 0;
  app = createRegistryApp(f.registry, {
    apiKeys: new ApiKeys([acme.line, other.line]),
    dns: null,
    rateLimit: { ratePerMinute: 6, burst: 3, nowMs: () => clockMs },
    publicUrl: 'https://registry.example',
  });
});
afterEach(async () => {
  await f.close();
});

const req = async (method: string, path: string, body?: unknown, key: string | null = acme.key) => {
  const headers: Record<string, string> = {};
  if (key !== null) headers.Authorization = `Bearer ${key}`;
  const res = await app.request(path, { method, headers, ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: text.startsWith('{') ? JSON.parse(text) : null };
};
const agent = (n: number, over: Record<string, unknown> = {}) => ({
  name: `ans://v1.0.${n}.bot${n}.acme.example`,
  endpoints: [{ protocol: 'MCP', url: `https://bot${n}.acme.example/mcp` }],
  publicKey: toBase64(agentKey(n)),
  ...over,
});
const enc = (n: number) => encodeURIComponent(`ans://v1.0.${n}.bot${n}.acme.example`);

describe('registry API', () => {
  it('writes: 401 without a key or with an unknown one; 403 on another owner\'s agent', async () => {
    expect((await req('POST', '/v1/agents', agent(1), null)).status).toBe(401);
    expect((await req('POST', '/v1/agents', agent(1), 'tlk_nope')).json.error.code).toBe('REGISTRY_UNAUTHORIZED');
    expect((await req('POST', '/v1/agents', agent(1))).status).toBe(201);
    const r = await req('POST', `/v1/agents/${enc(1)}/revoke`, { reason: 'superseded' }, other.key);
    expect(r.status).toBe(403);
    expect(r.json.error.code).toBe('REGISTRY_FORBIDDEN');
  });

  it('rate limits per key: 429 with Retry-After once the burst is spent, then refills', async () => {
    for (let i = 0; i < 3; i++) expect((await req('POST', '/v1/agents', agent(i))).status).toBe(201);
    const r = await req('POST', '/v1/agents', agent(3));
    expect(r.status).toBe(429);
    expect(r.headers.get('Retry-After')).toBe('10');
    clockMs += 10_000;
    expect((await req('POST', '/v1/agents', agent(3))).status).toBe(201);
  });

  it.each([
    ['a bad name', agent(1, { name: 'ans://v01.0.0.x.example' }), 'REGISTRY_BAD_NAME'],
    ['an unknown member', agent(1, { color: 'red' }), 'REGISTRY_BAD_REQUEST'],
    ['a bad protocol', agent(1, { endpoints: [{ protocol: 'FTP', url: 'https://x.example' }] }), 'REGISTRY_BAD_REQUEST'],
    ['a short public key', agent(1, { publicKey: toBase64(new Uint8Array(31)) }), 'REGISTRY_BAD_REQUEST'],
    ['a bad alias', agent(1, { alias: 'v1.acme' }), 'REGISTRY_BAD_NAME'],
    ['not JSON', 'hello', 'REGISTRY_BAD_REQUEST'],
  ])('register refuses %s with 400, writing nothing', async (_what, body, code) => {
    const before = f.log.stats().sequenced;
    const r = await req('POST', '/v1/agents', body);
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe(code);
    expect(f.log.stats().sequenced).toBe(before);
  });

  it('register twice: the same second is the identical leaf (200, duplicate), later 409; unknown agent: 404; revoke reason outside RFC 5280: 400', async () => {
    const first = await req('POST', '/v1/agents', agent(1));
    expect((await req('POST', '/v1/agents', agent(1))).json).toMatchObject({ index: first.json.index, duplicate: true });
    f.clock.now += 1;
    expect((await req('POST', '/v1/agents', agent(1))).status).toBe(409);
    expect((await req('GET', `/v1/agents/${enc(9)}`)).status).toBe(404);
    clockMs += 60_000; // refill the burst of 3
    expect((await req('POST', `/v1/agents/${enc(1)}/revoke`, { reason: 'bored' })).status).toBe(400);
  });

  it('every write answers with the index; ?wait=checkpoint adds the proof bundle', async () => {
    const plain = await req('POST', '/v1/agents', agent(1));
    expect(Object.keys(plain.json).sort()).toEqual(['index', 'leafHash', 'name', 'type']);
    const waited = await req('POST', `/v1/agents/${enc(1)}/rotate?wait=checkpoint`, { publicKey: toBase64(agentKey(5)) });
    expect(waited.json.bundle).toMatchObject({ version: 1, index: waited.json.index });
  });

  it('lists with filters and pagination', async () => {
    await req('POST', '/v1/agents', agent(1, { capabilities: ['a'] }));
    await req('POST', '/v1/agents', agent(2, { capabilities: ['b'] }));
    clockMs += 60_000;
    await req('POST', '/v1/agents', agent(3, { capabilities: ['a'] }));
    await req('POST', `/v1/agents/${enc(3)}/revoke`, {});
    const page1 = await req('GET', '/v1/agents?limit=2');
    expect(page1.json.agents.map((a: any) => a.name)).toEqual([agent(1).name, agent(2).name]);
    const page2 = await req('GET', `/v1/agents?limit=2&cursor=${encodeURIComponent(page1.json.next)}`);
    expect(page2.json).toMatchObject({ agents: [{ name: agent(3).name, status: 'revoked', reason: 'unspecified' }], next: null });
    expect((await req('GET', '/v1/agents?capability=a&status=active')).json.agents.map((a: any) => a.name)).toEqual([agent(1).name]);
    expect((await req('GET', '/v1/agents?owner=other')).json.agents).toEqual([]);
    expect((await req('GET', '/v1/agents?limit=0')).status).toBe(400);
  });

  it('DNS records: _ans TXT per endpoint and _ans-badge, as JSON and zone text', async () => {
    await req('POST', '/v1/agents', agent(1, { endpoints: [{ protocol: 'A2A', url: 'https://bot1.acme.example/a2a' }, { protocol: 'MCP', url: 'https://bot1.acme.example/mcp' }] }));
    const j = (await req('GET', `/v1/agents/${enc(1)}/dns`)).json;
    expect(j.records).toEqual([
      { name: '_ans.bot1.acme.example', type: 'TXT', ttl: 3600, value: 'v=ans1; version=v1.0.1; p=a2a; url=https://bot1.acme.example/a2a' },
      { name: '_ans.bot1.acme.example', type: 'TXT', ttl: 3600, value: 'v=ans1; version=v1.0.1; p=mcp; url=https://bot1.acme.example/mcp' },
      { name: '_ans-badge.bot1.acme.example', type: 'TXT', ttl: 3600, value: `v=ans-badge1; url=https://registry.example/v1/resolve/${enc(1)}` },
    ]);
    const zone = await req('GET', `/v1/agents/${enc(1)}/dns?format=zone`);
    expect(zone.text.split('\n')[0]).toBe('_ans.bot1.acme.example.\t3600\tIN\tTXT\t"v=ans1; version=v1.0.1; p=a2a; url=https://bot1.acme.example/a2a"');
  });

  it('the _ans-badge URL comes from configuration, never from the request: a forged Host or absolute URL changes nothing', async () => {
    await req('POST', '/v1/agents', agent(1));
    const badge = (r: { json: any }) => (r.json.records as { name: string; value: string }[]).find((x) => x.name.startsWith('_ans-badge.'))!.value;
    const want = `v=ans-badge1; url=https://registry.example/v1/resolve/${enc(1)}`;
    const forged = await app.request(`http://evil.example:8443/v1/agents/${enc(1)}/dns`, { headers: { Host: 'evil.example', 'X-Forwarded-Host': 'evil.example', 'X-Forwarded-Proto': 'http', Forwarded: 'host=evil.example' } });
    expect(badge({ json: await forged.json() })).toBe(want);
    expect(badge(await req('GET', `/v1/agents/${enc(1)}/dns`))).toBe(want);
    // A base known only once the server is bound: asked at request time.
    let bound = 'http://127.0.0.1:1';
    const late = createRegistryApp(f.registry, { apiKeys: new ApiKeys([]), dns: null, publicUrl: () => bound });
    bound = 'http://127.0.0.1:8080';
    const zone = await (await late.request(`http://evil.example/v1/agents/${enc(1)}/dns?format=zone`, { headers: { Host: 'evil.example' } })).text();
    expect(zone).toContain(`url=http://127.0.0.1:8080/v1/resolve/${enc(1)}`);
    expect(zone).not.toContain('evil');
  });

  it('challenges say validation is off when it is', async () => {
    expect((await req('POST', '/v1/challenges', { name: agent(1).name })).json).toEqual({ domainValidation: 'none' });
  });

  it('wrong methods get 405 with Allow', async () => {
    const r = await req('DELETE', `/v1/agents/${enc(1)}`);
    expect(r.status).toBe(405);
    expect(r.headers.get('Allow')).toBe('GET, HEAD, PATCH');
  });
});
