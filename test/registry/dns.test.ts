import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTilelogError } from '../../src/errors.js';
import { challengeToken, DnsValidator, zoneSnippet } from '../../src/registry/dns.js';
import { startDns, type TestDns } from './dns-server.js';

const SECRET = new Uint8Array(32).fill(3);
const HOST = 'order-bot.acme.example';
const token = challengeToken(SECRET, 'acme', HOST);

let dns: TestDns;
let validator: DnsValidator;
beforeAll(async () => {
  dns = await startDns();
  validator = new DnsValidator({ servers: [dns.server], timeoutMs: 300, tries: 1 });
});
afterAll(async () => {
  await dns.close();
});

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (!isTilelogError(err)) throw err;
    return `${err.code}: ${err.message}`;
  }
}

describe('DNS TXT challenge against a real DNS server on 127.0.0.1', () => {
  it('tokens are bound to owner and host', () => {
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(challengeToken(SECRET, 'other', HOST)).not.toBe(token);
    expect(challengeToken(SECRET, 'acme', 'x.example')).not.toBe(token);
  });

  it('success: the token among other TXT records', async () => {
    dns.setZone({ records: { [`_ans-challenge.${HOST}`]: ['unrelated', token] } });
    expect(await code(validator.validate(HOST, token))).toBe('ok');
  });

  it('wrong token', async () => {
    dns.setZone({ records: { [`_ans-challenge.${HOST}`]: [challengeToken(SECRET, 'mallory', HOST)] } });
    expect(await code(validator.validate(HOST, token))).toMatch(/^REGISTRY_DNS_FAILED: .*not the challenge token/);
  });

  it('missing record (the name exists, no TXT)', async () => {
    dns.setZone({ records: { [`_ans-challenge.${HOST}`]: [] } });
    expect(await code(validator.validate(HOST, token))).toMatch(/^REGISTRY_DNS_FAILED: .*has no TXT record/);
  });

  it('NXDOMAIN', async () => {
    dns.setZone({ records: {} });
    expect(await code(validator.validate(HOST, token))).toMatch(/^REGISTRY_DNS_FAILED: .*does not exist \(NXDOMAIN\)/);
  });

  it('timeout: the server does not answer', async () => {
    dns.setZone({ drop: [`_ans-challenge.${HOST}`] });
    expect(await code(validator.validate(HOST, token))).toMatch(/^REGISTRY_DNS_UNAVAILABLE: .*ETIMEOUT/);
  });

  it('zone snippets quote and split TXT values', () => {
    const long = 'x'.repeat(300);
    expect(zoneSnippet([{ name: '_ans.a.example', type: 'TXT', ttl: 60, value: 'say "hi"' }])).toBe('_ans.a.example.\t60\tIN\tTXT\t"say \\"hi\\""\n');
    expect(zoneSnippet([{ name: 'a.example', type: 'TXT', ttl: 60, value: long }])).toBe(`a.example.\t60\tIN\tTXT\t"${'x'.repeat(255)}" "${'x'.repeat(45)}"\n`);
  });
});
