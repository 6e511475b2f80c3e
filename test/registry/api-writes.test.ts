// The remaining write types through the API, in process: update (PATCH or
// POST .../update), deprecate, and pre-signed entries from another submitter
// key (POST /v1/entries). Every refusal writes nothing.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { toBase64 } from '../../src/merkle/index.js';
import { encodeEntry, keySubject, submitterKey, type AgentBody, type UnsignedEntry } from '../../src/registry/entries/index.js';
import { ApiKeys, newApiKey } from '../../src/registry/http/auth.js';
import { createRegistryApp } from '../../src/registry/http/app.js';
import { verifyResolution } from '../../src/registry/verify.js';
import { agentKey, openFixture, ORIGIN, registryKey, type Fixture } from './helpers.js';

const acme = newApiKey('acme');
const other = newApiKey('other');
const NAME = 'ans://v1.0.0.bot.acme.example';
const N = encodeURIComponent(NAME);
let f: Fixture;
let app: OpenAPIHono;
let clockMs: number;

beforeEach(async () => {
  f = await openFixture();
  clockMs = 0;
  app = createRegistryApp(f.registry, { apiKeys: new ApiKeys([acme.line, other.line]), dns: null, publicUrl: 'https://registry.example', rateLimit: { ratePerMinute: 60, burst: 100, nowMs: () => clockMs } });
});
afterEach(async () => {
  await f.close();
});

const req = async (method: string, path: string, body?: unknown, key: string | null = acme.key) => {
  const headers: Record<string, string> = {};
  if (key !== null) headers.Authorization = `Bearer ${key}`;
  const payload: BodyInit | undefined = body === undefined ? undefined : body instanceof Uint8Array ? new Uint8Array(body) : typeof body === 'string' ? body : JSON.stringify(body);
  const res = await app.request(path, { method, headers, ...(payload !== undefined && { body: payload }) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text.startsWith('{') ? JSON.parse(text) : null };
};
const register = () =>
  req('POST', '/v1/agents', { name: NAME, capabilities: ['orders.read'], endpoints: [{ protocol: 'A2A', url: 'https://bot.acme.example/a2a' }], publicKey: toBase64(agentKey(1)) });
const written = () => f.log.stats().sequenced;
const policy = (kids: { kid: string; publicKey: Uint8Array }[]) => ({
  log: { origin: ORIGIN, logKey: f.log.verifierKey },
  submitterKeys: Object.fromEntries(kids.map((k) => [k.kid, toBase64(k.publicKey)])),
});

describe('update', () => {
  it('PATCH replaces capabilities and endpoints (agent.updated); ?wait=checkpoint carries a bundle that verifies', async () => {
    expect((await register()).status).toBe(201);
    const eps = [{ protocol: 'MCP', url: 'https://bot.acme.example/mcp' }];
    const r = await req('PATCH', `/v1/agents/${N}?wait=checkpoint`, { capabilities: ['orders.write', 'orders.read'], endpoints: eps });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ name: NAME, type: 'agent.updated' });
    expect(r.json.bundle.index).toBe(r.json.index);
    const v = verifyResolution(r.json, NAME, policy([registryKey]));
    expect(v.record).toMatchObject({ capabilities: ['orders.read', 'orders.write'], endpoints: eps, lastChange: 'agent.updated', seq: 1, publicKey: toBase64(agentKey(1)) });
    // POST .../update is the same operation; one member alone is enough.
    const r2 = await req('POST', `/v1/agents/${N}/update`, { capabilities: [] });
    expect(r2.json).toMatchObject({ type: 'agent.updated' });
    expect((await req('GET', `/v1/agents/${N}`)).json).toMatchObject({ capabilities: [], endpoints: eps, seq: 2 });
  });

  it.each([
    ['no API key', 401, 'REGISTRY_UNAUTHORIZED', { capabilities: ['x'] }, null],
    ["another owner's agent", 403, 'REGISTRY_FORBIDDEN', { capabilities: ['x'] }, other.key],
    ['an empty change', 400, 'REGISTRY_BAD_REQUEST', {}, acme.key],
    ['an unknown member', 400, 'REGISTRY_BAD_REQUEST', { publicKey: toBase64(agentKey(2)) }, acme.key],
    ['no endpoints', 400, 'REGISTRY_BAD_REQUEST', { endpoints: [] }, acme.key],
    ['a capability outside the grammar', 400, 'REGISTRY_BAD_ENTRY', { capabilities: ['Orders Read'] }, acme.key],
    ['nothing changed', 409, 'REGISTRY_CONFLICT', { capabilities: ['orders.read'] }, acme.key],
  ] as const)('refuses %s (%i %s), writing nothing', async (_what, status, code, body, key) => {
    await register();
    const before = written();
    const r = await req('PATCH', `/v1/agents/${N}`, body, key);
    expect([r.status, r.json.error.code]).toEqual([status, code]);
    expect(written()).toBe(before);
  });

  it('unknown agent: 404; not JSON: 400', async () => {
    expect((await req('PATCH', `/v1/agents/${encodeURIComponent('ans://v1.0.0.nope.example')}`, { capabilities: [] })).status).toBe(404);
    await register();
    expect((await req('PATCH', `/v1/agents/${N}`, 'nope')).status).toBe(400);
  });
});

describe('deprecate', () => {
  it('deprecates with a reason, is idempotent, refuses updates afterwards, and still allows revocation', async () => {
    await register();
    const d = await req('POST', `/v1/agents/${N}/deprecate?wait=checkpoint`, { reason: 'replaced by v2.0.0' });
    expect(d.status).toBe(200);
    expect(verifyResolution(d.json, NAME, policy([registryKey])).record).toMatchObject({ status: 'deprecated', reason: 'replaced by v2.0.0', lastChange: 'agent.deprecated' });
    const before = written();
    expect((await req('POST', `/v1/agents/${N}/deprecate`, {})).json).toMatchObject({ index: d.json.index, duplicate: true });
    const up = await req('PATCH', `/v1/agents/${N}`, { capabilities: ['x'] });
    expect([up.status, up.json.error.message]).toEqual([409, expect.stringMatching(/only an active agent can be updated/)]);
    expect(written()).toBe(before);
    const rv = await req('POST', `/v1/agents/${N}/revoke`, { reason: 'superseded' });
    expect(rv.status).toBe(200);
    expect((await req('GET', `/v1/agents/${N}`)).json).toMatchObject({ status: 'revoked', reason: 'superseded' });
    expect((await req('POST', `/v1/agents/${N}/deprecate`, {})).status).toBe(409); // revoked is final
  });

  it('without a reason; refusals write nothing', async () => {
    await register();
    const before = written();
    for (const [body, key, status] of [
      [{ reason: 'é' }, acme.key, 400],
      [{ reason: '' }, acme.key, 400],
      [{ why: 'x' }, acme.key, 400],
      [{}, other.key, 403],
      [{}, null, 401],
    ] as const) {
      expect((await req('POST', `/v1/agents/${N}/deprecate`, body, key)).status).toBe(status);
    }
    expect(written()).toBe(before);
    expect((await req('POST', `/v1/agents/${N}/deprecate`, {})).json).toMatchObject({ type: 'agent.deprecated' });
    expect((await req('GET', `/v1/agents/${N}`)).json).toMatchObject({ status: 'deprecated', reason: null });
  });

  it('rate limits apply: 429 with Retry-After', async () => {
    const tight = createRegistryApp(f.registry, { apiKeys: new ApiKeys([acme.line]), dns: null, publicUrl: 'https://registry.example', rateLimit: { ratePerMinute: 1, burst: 1, nowMs: () => clockMs } });
    const call = (p: string, m = 'POST') => tight.request(p, { method: m, headers: { Authorization: `Bearer ${acme.key}` }, body: '{}' });
    await register();
    expect((await call(`/v1/agents/${N}/deprecate`)).status).toBe(200);
    const r = await call(`/v1/agents/${N}`, 'PATCH');
    expect(r.status).toBe(429);
    expect(r.headers.get('Retry-After')).toBe('60');
  });
});

describe('POST /v1/entries: pre-signed entries from another submitter key', () => {
  const second = submitterKey(new Uint8Array(32).fill(12));
  const third = submitterKey(new Uint8Array(32).fill(13));
  const T = 1_767_225_600 + 1000;
  const body: AgentBody = { owner: 'acme', capabilities: [], endpoints: [{ protocol: 'HTTP-API', url: 'https://bot.acme.example/api' }], publicKey: agentKey(3), validation: 'none' };
  const registered = (key = second, time = T): Uint8Array =>
    encodeEntry({ v: 1, type: 'agent.registered', subject: NAME, seq: 0, prev: null, time, kid: key.kid, body }, key);
  const post = (bytes: Uint8Array | string, key: string | null = acme.key) => req('POST', '/v1/entries', bytes, key);

  /** Adds the second key with a key.added signed by the registry's key, through the API. */
  const addSecond = async () => {
    const e: UnsignedEntry = { v: 1, type: 'key.added', subject: keySubject(second.kid), seq: 0, prev: null, time: T, kid: registryKey.kid, body: { publicKey: second.publicKey, label: 'ci signer' } };
    const r = await post(encodeEntry(e, registryKey));
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ type: 'key.added', name: keySubject(second.kid) });
  };

  it('after key.added, an entry signed by the new key is admitted; the same bytes again are a duplicate', async () => {
    await addSecond();
    expect((await req('GET', '/v1/registry')).json.submitterKeys.map((k: any) => k.kid)).toEqual([registryKey.kid, second.kid]);
    const bytes = registered();
    const r = await req('POST', '/v1/entries?wait=checkpoint', bytes);
    expect(r.status).toBe(201);
    expect(verifyResolution(r.json, NAME, policy([registryKey, second])).record).toMatchObject({ submitterKey: second.kid, owner: 'acme' });
    // Pinned keys matter: without the second key the answer does not verify.
    expect(() => verifyResolution(r.json, NAME, policy([registryKey]))).toThrow(/not a pinned submitter key/);
    const before = written();
    expect((await post(bytes)).json).toMatchObject({ index: r.json.index, duplicate: true });
    expect(written()).toBe(before);
  });

  const refusals: [string, () => Promise<Uint8Array | string>, string | null, number, string, RegExp][] = [
    ['without an API key', async () => registered(), null, 401, 'REGISTRY_UNAUTHORIZED', /API key/],
    ['bytes that are not an entry', async () => 'hello', acme.key, 400, 'REGISTRY_BAD_ENTRY', /canonical CBOR/],
    [
      'non-canonical CBOR (a trailing byte)',
      async () => {
        const b = registered();
        return Uint8Array.from([...b, 0]);
      },
      acme.key,
      400,
      'REGISTRY_BAD_ENTRY',
      /canonical CBOR/,
    ],
    ['a key that was never added', async () => registered(third), acme.key, 403, 'REGISTRY_SIGNATURE', /unknown submitter key/],
    [
      'a signature that does not verify',
      async () => {
        const b = registered();
        b[b.length - 1]! ^= 1;
        return b;
      },
      acme.key,
      403,
      'REGISTRY_SIGNATURE',
      /does not verify/,
    ],
    [
      'a revoked key',
      async () => {
        const head = f.index.head(keySubject(second.kid))!;
        await f.registry.submit(encodeEntry({ v: 1, type: 'key.revoked', subject: keySubject(second.kid), seq: 1, prev: head.leafHash, time: T, kid: registryKey.kid, body: { reason: 'keyCompromise' } }, registryKey));
        return registered();
      },
      acme.key,
      403,
      'REGISTRY_SIGNATURE',
      /is revoked/,
    ],
    [
      'a change to an unknown agent',
      async () => encodeEntry({ v: 1, type: 'agent.deprecated', subject: NAME, seq: 1, prev: new Uint8Array(32), time: T, kid: second.kid, body }, second),
      acme.key,
      404,
      'REGISTRY_NOT_FOUND',
      /no agent/,
    ],
    [
      'a prev that is not the head',
      async () => {
        await f.registry.submit(registered());
        return encodeEntry({ v: 1, type: 'agent.deprecated', subject: NAME, seq: 1, prev: new Uint8Array(32), time: T, kid: second.kid, body }, second);
      },
      acme.key,
      409,
      'REGISTRY_CONFLICT',
      /has moved on/,
    ],
    [
      'a second registration of the name',
      async () => {
        await f.registry.submit(registered());
        return registered(second, T + 1);
      },
      acme.key,
      409,
      'REGISTRY_CONFLICT',
      /already registered/,
    ],
    ['a body over 64 KiB', async () => new Uint8Array(64 * 1024 + 1), acme.key, 413, '', /./],
  ];

  it.each(refusals)('refuses %s, writing nothing', async (_what, make, key, status, code, message) => {
    await addSecond();
    const bytes = await make();
    const before = written();
    const r = await post(bytes, key);
    expect(r.status).toBe(status);
    if (code !== '') {
      expect(r.json.error.code).toBe(code);
      expect(r.json.error.message).toMatch(message);
    }
    expect(written()).toBe(before);
  });
});
