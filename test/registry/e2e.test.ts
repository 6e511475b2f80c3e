// The README walk-through as a test: a real `tilelog serve --registry
// --registry-resolve-dns` whose domain validation and DNS-first resolve ask a
// real DNS server on 127.0.0.1. register -> resolve
// -> rotate -> resolve -> revoke -> resolve, each answer verified offline
// with the SDK (verifyBundle via verifyResolution) and pinned keys only.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toBase64 } from '../../src/merkle/index.js';
import { verifyResolution } from '../../src/registry/verify.js';
import { callApi, runCli, startServe, tempDir, type ServeHandle } from '../cli/helpers.js';
import { agentKey } from './helpers.js';
import { startDns, type TestDns } from './dns-server.js';

const NAME = 'ans://v1.0.0.order-bot.acme.example';
const HOST = 'order-bot.acme.example';

let dns: TestDns;
let serve: ServeHandle;
let apiKey: string;
let dir: string;

beforeAll(async () => {
  dns = await startDns();
  dir = tempDir();
  const made = await runCli(['registry', 'apikey', '--state', path.join(dir, 'state'), '--owner', 'acme']);
  expect(made.code).toBe(0);
  apiKey = made.stdout.trim();
  serve = await startServe([
    '--state', path.join(dir, 'state'),
    '--tiles', path.join(dir, 'tiles'),
    '--listen', '127.0.0.1:0',
    '--origin', 'registry.test/log',
    '--registry',
    '--registry-dns', dns.server,
    '--registry-dns-timeout-ms', '500',
    '--registry-resolve-dns',
  ]);
});

afterAll(async () => {
  await serve?.stop();
  await dns?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const call = (method: string, p: string, body?: unknown) => callApi(serve.url, apiKey, method, p, body);

const enc = encodeURIComponent(NAME);

describe('registry walk-through against tilelog serve --registry', () => {
  it('register (DNS-validated) -> resolve -> rotate -> resolve -> revoke -> resolve shows revoked, each verified offline', async () => {
    const reg = {
      name: NAME,
      alias: 'order-bot.acme',
      capabilities: ['orders.write', 'orders.read'],
      endpoints: [{ protocol: 'A2A', url: 'https://order-bot.acme.example/a2a' }],
      publicKey: toBase64(agentKey(1)),
    };
    // Without the TXT record: refused, nothing written.
    let r = await call('POST', '/v1/agents', reg);
    expect(r.status).toBe(422);
    expect(r.json.error.code).toBe('REGISTRY_DNS_FAILED');

    // Publish the challenge in DNS, then register.
    const ch = await call('POST', '/v1/challenges', { name: NAME });
    expect(ch.json).toMatchObject({ domainValidation: 'dns-txt', name: `_ans-challenge.${HOST}`, type: 'TXT' });
    dns.setZone({ records: { [ch.json.name]: [ch.json.value] } });
    r = await call('POST', '/v1/agents?wait=checkpoint', reg);
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ name: NAME, type: 'agent.registered' });
    expect(r.json.bundle.index).toBe(r.json.index);

    // Pin the keys (out of band in real life): the log key and the registry's submitter key.
    const info = (await call('GET', '/v1/registry')).json;
    const policy = {
      log: { origin: 'registry.test/log', logKey: serve.verifierKey },
      submitterKeys: Object.fromEntries(info.submitterKeys.map((k: any) => [k.kid, k.publicKey])),
    };

    // Publish the _ans records GET .../dns lists (before the first resolve:
    // the server caches a negative answer for up to 30 s of real time).
    const published = (await call('GET', `/v1/agents/${enc}/dns`)).json.records as { name: string; value: string }[];
    const zone: Record<string, string[]> = { [ch.json.name]: [ch.json.value] };
    for (const rec of published) (zone[rec.name] ??= []).push(rec.value);
    dns.setZone({ records: zone });

    const resolve1 = (await call('GET', `/v1/resolve/${enc}`)).json;
    expect(resolve1).toMatchObject({ source: 'dns', dns: { name: `_ans.${HOST}`, status: 'ok', match: true } });
    const v1 = verifyResolution(resolve1, NAME, policy);
    expect(v1.record).toMatchObject({ status: 'active', publicKey: reg.publicKey, capabilities: ['orders.read', 'orders.write'], validation: 'dns-txt' });
    // By alias too.
    expect(verifyResolution((await call('GET', '/v1/resolve/order-bot.acme')).json, 'order-bot.acme', policy).record.name).toBe(NAME);

    r = await call('POST', `/v1/agents/${enc}/rotate?wait=checkpoint`, { publicKey: toBase64(agentKey(2)) });
    expect(r.status).toBe(200);
    const v2 = verifyResolution((await call('GET', `/v1/resolve/${enc}`)).json, NAME, policy);
    expect(v2.record).toMatchObject({ status: 'active', publicKey: toBase64(agentKey(2)), lastChange: 'agent.renewed', seq: 1 });

    r = await call('POST', `/v1/agents/${enc}/revoke`, { reason: 'keyCompromise' });
    expect(r.status).toBe(200);
    const again = await call('POST', `/v1/agents/${enc}/revoke`, { reason: 'keyCompromise' });
    expect(again.json).toMatchObject({ index: r.json.index, duplicate: true });

    const resolve3 = (await call('GET', `/v1/resolve/${enc}`)).json;
    // DNS still publishes the revoked agent's endpoint: reported, and the log wins.
    expect(resolve3).toMatchObject({ source: 'log', dns: { match: false, unexpected: [{ protocol: 'A2A', url: reg.endpoints[0]!.url }] } });
    const v3 = verifyResolution(resolve3, NAME, policy);
    expect(v3.record).toMatchObject({ status: 'revoked', reason: 'keyCompromise', seq: 2 });
    expect(v3.bundle.index).toBe(r.json.index);

    // A tampered answer fails offline.
    const bad = (await call('GET', `/v1/resolve/${enc}`)).json;
    bad.record.status = 'active';
    expect(() => verifyResolution(bad, NAME, policy)).toThrow(/record.status differs/);

    // DNS records: none for a revoked agent.
    expect((await call('GET', `/v1/agents/${enc}/dns`)).json.records).toEqual([]);
  });

  it('writes need an API key', async () => {
    const res = await fetch(`${serve.url}/v1/agents`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(401);
  });
});
