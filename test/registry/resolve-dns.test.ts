// DNS-first resolve against a real DNS server (dns2 in a child process on
// 127.0.0.1): the agent's _ans TXT records are read through the stub
// resolver and cached by their TTL on an injected clock (no sleeps).
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { toBase64 } from '../../src/merkle/index.js';
import { AnsLookup } from '../../src/registry/ans-lookup.js';
import { compareAnsTxt, formatAnsTxt, parseAnsTxt } from '../../src/registry/ans-txt.js';
import { decodeAnswer, encodeQuery, queryTxt } from '../../src/registry/dns-wire.js';
import { ApiKeys, newApiKey } from '../../src/registry/http/auth.js';
import { createRegistryApp } from '../../src/registry/http/app.js';
import { TtlCache } from '../../src/registry/ttl-cache.js';
import { verifyResolution } from '../../src/registry/verify.js';
import { startDns, type TestDns } from './dns-server.js';
import { agentKey, openFixture, ORIGIN, registryKey, type Fixture } from './helpers.js';

const NAME = 'ans://v1.0.0.order-bot.acme.example';
const HOST = 'order-bot.acme.example';
const TXT_NAME = `_ans.${HOST}`;
const A2A = 'https://order-bot.acme.example/a2a';
const acme = newApiKey('acme');

let dns: TestDns;
let f: Fixture;
let app: OpenAPIHono;
let clockMs: number;

beforeAll(async () => {
  dns = await startDns();
});
afterAll(async () => {
  await dns.close();
});
beforeEach(async () => {
  f = await openFixture();
  clockMs = 1_000_000;
  app = createRegistryApp(f.registry, {
    apiKeys: new ApiKeys([acme.line]),
    dns: null, publicUrl: 'https://registry.example',
    resolveDns: new AnsLookup({ servers: [dns.server], timeoutMs: 300, tries: 1, nowMs: () => clockMs }),
  });
  await f.registry.register(NAME, {
    owner: 'acme',
    capabilities: ['orders.read'],
    endpoints: [{ protocol: 'A2A', url: A2A }],
    publicKey: agentKey(1),
    validation: 'none',
  });
});
afterEach(async () => {
  await f.close();
});

const resolve = async (name = NAME) => {
  const res = await app.request(`/v1/resolve/${encodeURIComponent(name)}`);
  expect(res.status).toBe(200);
  return (await res.json()) as any;
};
const published = async () => ((await (await app.request(`/v1/agents/${encodeURIComponent(NAME)}/dns`)).json()) as any).records;
const policy = () => ({ log: { origin: ORIGIN, logKey: f.log.verifierKey }, submitterKeys: { [registryKey.kid]: toBase64(registryKey.publicKey) } });

describe('DNS-first resolve', () => {
  it('hit: the records GET .../dns publishes resolve from DNS, then from the cache; the bundle still verifies', async () => {
    const records = await published();
    dns.setZone({ records: { [TXT_NAME]: records.filter((r: any) => r.name === TXT_NAME).map((r: any) => r.value) } });
    const a = await resolve();
    expect(a.source).toBe('dns');
    expect(a.dns).toEqual({ name: TXT_NAME, status: 'ok', cached: false, ttl: 60, endpoints: [{ protocol: 'A2A', url: A2A }], match: true });
    expect(verifyResolution(a, NAME, policy()).record.endpoints).toEqual([{ protocol: 'A2A', url: A2A }]);
    clockMs += 10_000;
    const b = await resolve('v1.0.0.order-bot.acme.example'); // scheme-less name, same host
    expect(b.dns).toMatchObject({ status: 'ok', cached: true, ttl: 50, match: true });
    expect(b.source).toBe('dns');
  });

  it('TTL expiry: an answer is kept for its TTL, then asked again', async () => {
    dns.setZone({ records: { [TXT_NAME]: [formatAnsTxt({ version: 'v1.0.0', protocol: 'A2A', url: A2A })] }, ttls: { [TXT_NAME]: 120 } });
    expect((await resolve()).dns).toMatchObject({ cached: false, ttl: 120, match: true });
    // The zone changes; the cache does not see it until the TTL runs out.
    dns.setZone({ records: { [TXT_NAME]: [formatAnsTxt({ version: 'v1.0.0', protocol: 'A2A', url: 'https://evil.example/a2a' })] } });
    clockMs += 119_000;
    expect((await resolve()).dns).toMatchObject({ cached: true, ttl: 1, match: true });
    clockMs += 1_000;
    const after = await resolve();
    expect(after.dns).toMatchObject({ cached: false, ttl: 60, match: false });
    expect(after.source).toBe('log');
  });

  it('NXDOMAIN falls back to the log and is cached for the short negative TTL (SOA 300 s capped to 30 s)', async () => {
    dns.setZone({ records: {}, negativeTtl: 300 });
    const a = await resolve();
    expect(a.source).toBe('log');
    expect(a.dns).toEqual({ name: TXT_NAME, status: 'nxdomain', cached: false, ttl: 30, endpoints: [], match: null });
    expect(a.record.endpoints).toEqual([{ protocol: 'A2A', url: A2A }]);
    expect(verifyResolution(a, NAME, policy()).record.status).toBe('active');
    dns.setZone({ records: { [TXT_NAME]: [formatAnsTxt({ version: 'v1.0.0', protocol: 'A2A', url: A2A })] } });
    clockMs += 29_000;
    expect((await resolve()).dns).toMatchObject({ status: 'nxdomain', cached: true });
    clockMs += 1_000;
    expect(await resolve()).toMatchObject({ source: 'dns', dns: { status: 'ok', cached: false } });
  });

  it('NODATA without an SOA is cached for the negative TTL too', async () => {
    dns.setZone({ records: { [TXT_NAME]: [] } });
    expect((await resolve()).dns).toMatchObject({ status: 'nodata', ttl: 30, match: null });
  });

  it('mismatch: the log wins and the answer says what differs', async () => {
    dns.setZone({
      records: {
        [TXT_NAME]: [
          formatAnsTxt({ version: 'v1.0.0', protocol: 'MCP', url: 'https://elsewhere.example/mcp' }),
          formatAnsTxt({ version: 'v2.0.0', protocol: 'A2A', url: 'https://v2.example/a2a' }), // another version: ignored
          'v=spf1 -all', // not ours: ignored
        ],
      },
    });
    const a = await resolve();
    expect(a.source).toBe('log');
    expect(a.record.endpoints).toEqual([{ protocol: 'A2A', url: A2A }]);
    expect(a.dns).toMatchObject({
      status: 'ok',
      match: false,
      endpoints: [{ protocol: 'MCP', url: 'https://elsewhere.example/mcp' }],
      missing: [{ protocol: 'A2A', url: A2A }],
      unexpected: [{ protocol: 'MCP', url: 'https://elsewhere.example/mcp' }],
    });
    expect(verifyResolution(a, NAME, policy()).record.endpoints[0]!.url).toBe(A2A);
  });

  it('a revoked agent whose _ans records are still in DNS: every record is unexpected', async () => {
    dns.setZone({ records: { [TXT_NAME]: [formatAnsTxt({ version: 'v1.0.0', protocol: 'A2A', url: A2A })] } });
    await f.registry.revoke(NAME, 'keyCompromise');
    const a = await resolve();
    expect(a).toMatchObject({ source: 'log', record: { status: 'revoked' }, dns: { match: false, missing: [], unexpected: [{ protocol: 'A2A', url: A2A }] } });
  });

  it('a DNS failure (no answer) falls back to the log and is not cached', async () => {
    dns.setZone({ drop: [TXT_NAME] });
    const a = await resolve();
    expect(a).toMatchObject({ source: 'log', dns: { status: 'unavailable', cached: false, ttl: 0, match: null } });
    expect(a.dns.error).toMatch(/ETIMEOUT/);
    dns.setZone({ records: { [TXT_NAME]: [formatAnsTxt({ version: 'v1.0.0', protocol: 'A2A', url: A2A })] } });
    expect((await resolve()).source).toBe('dns');
  });

  it('without DNS-first resolve the answer says source log and has no dns member', async () => {
    const plain = createRegistryApp(f.registry, { apiKeys: new ApiKeys([]), dns: null, publicUrl: 'https://registry.example' });
    const a = (await (await plain.request(`/v1/resolve/${encodeURIComponent(NAME)}`)).json()) as any;
    expect(a.source).toBe('log');
    expect(a.dns).toBeUndefined();
  });

  it('the stub resolver reads TTLs and long values split into strings', async () => {
    const long = formatAnsTxt({ version: 'v1.0.0', protocol: 'HTTP-API', url: `https://x.example/${'p'.repeat(300)}` });
    dns.setZone({ records: { [TXT_NAME]: [long] }, ttls: { [TXT_NAME]: 7 } });
    expect(await queryTxt(TXT_NAME, { servers: [dns.server], timeoutMs: 300, tries: 1 })).toEqual({ kind: 'records', values: [long], ttlSeconds: 7 });
  });

  it('a truncated UDP answer is asked again over TCP', async () => {
    dns.setZone({ records: { [TXT_NAME]: ['a', 'b'] }, truncate: [TXT_NAME] });
    expect(await queryTxt(TXT_NAME, { servers: [dns.server], timeoutMs: 300, tries: 1 })).toEqual({ kind: 'records', values: ['a', 'b'], ttlSeconds: 60 });
  });
});

describe('DNS answers that are not ours', () => {
  it('wrong ID, another question, not a response, SERVFAIL: REGISTRY_DNS_UNAVAILABLE', () => {
    const reply = (flags: number) => {
      const b = encodeQuery(7, 'a.example');
      b[2] = flags >> 8;
      b[3] = flags & 0xff;
      return b;
    };
    expect(decodeAnswer(reply(0x8180), 7, 'A.example.')).toEqual({ kind: 'nodata', ttlSeconds: null });
    expect(decodeAnswer(reply(0x8183), 7, 'a.example')).toEqual({ kind: 'nxdomain', ttlSeconds: null });
    expect(() => decodeAnswer(reply(0x8180), 8, 'a.example')).toThrow(/wrong ID/);
    expect(() => decodeAnswer(reply(0x8180), 7, 'b.example')).toThrow(/another name/);
    expect(() => decodeAnswer(reply(0x0100), 7, 'a.example')).toThrow(/not a response/);
    expect(() => decodeAnswer(reply(0x8182), 7, 'a.example')).toThrow(/SERVFAIL/);
  });
});

describe('_ans TXT format', () => {
  it('round-trips, keeps ";" inside the URL, and ignores what is not ans1', () => {
    const t = { version: 'v1.2.3', protocol: 'MCP' as const, url: 'https://a.example/x;y=1' };
    expect(parseAnsTxt(formatAnsTxt(t))).toEqual(t);
    expect(parseAnsTxt('v=ans1;version=v1.2.3;p=a2a;url=https://a.example/')).toEqual({ version: 'v1.2.3', protocol: 'A2A', url: 'https://a.example/' });
    for (const bad of ['v=spf1 -all', 'v=ans2; version=v1.0.0; p=mcp; url=https://a.example/', 'v=ans1; version=1.0.0; p=mcp; url=https://a.example/', 'v=ans1; version=v1.0.0; p=ftp; url=x', 'v=ans1; version=v1.0.0; p=mcp', 'hello', '']) {
      expect(parseAnsTxt(bad), bad).toBeNull();
    }
  });

  it('compares by (protocol, url), ignoring duplicates and other versions', () => {
    const v = (p: 'A2A' | 'MCP', u: string, version = 'v1.0.0') => formatAnsTxt({ version, protocol: p, url: u });
    expect(compareAnsTxt([v('A2A', 'https://a/'), v('A2A', 'https://a/'), v('MCP', 'https://b/', 'v9.0.0')], 'v1.0.0', [{ protocol: 'A2A', url: 'https://a/' }])).toEqual({
      endpoints: [{ protocol: 'A2A', url: 'https://a/' }],
      missing: [],
      unexpected: [],
    });
  });
});

describe('TtlCache', () => {
  it('expires by the injected clock and keeps at most maxEntries, least recently used out first', () => {
    let now = 0;
    const c = new TtlCache<number>({ maxEntries: 2, nowMs: () => now });
    c.set('a', 1, 1000);
    c.set('b', 2, 1000);
    expect(c.get('a')?.value).toBe(1); // a is now the most recent
    c.set('c', 3, 1000);
    expect([c.get('a')?.value, c.get('b'), c.get('c')?.value]).toEqual([1, undefined, 3]);
    now = 999;
    expect(c.get('a')).toEqual({ value: 1, remainingMs: 1 });
    now = 1000;
    expect(c.get('a')).toBeUndefined();
    c.set('z', 0, 0);
    expect(c.get('z')).toBeUndefined();
    expect(() => new TtlCache({ maxEntries: 0 })).toThrow(RangeError);
  });
});
