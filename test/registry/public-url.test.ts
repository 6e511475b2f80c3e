// `tilelog serve --registry` publishes its own URL in _ans-badge records:
// from --registry-public-url, else the bound listen address, never from the
// request. A real server, a raw request with a forged Host header, and the
// refusal to start on all interfaces without the flag.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toBase64 } from '../../src/merkle/index.js';
import { callApi, runCli, startServe, tempDir, type ServeHandle } from '../cli/helpers.js';
import { agentKey } from './helpers.js';

const NAME = 'ans://v1.0.0.bot.acme.example';
const ENC = encodeURIComponent(NAME);

let dir: string;
let serve: ServeHandle;
let apiKey: string;

beforeAll(async () => {
  dir = tempDir();
  const made = await runCli(['registry', 'apikey', '--state', path.join(dir, 'state'), '--owner', 'acme']);
  expect(made.code).toBe(0);
  apiKey = made.stdout.trim();
  serve = await startServe([
    '--state', path.join(dir, 'state'), '--tiles', path.join(dir, 'tiles'), '--listen', '127.0.0.1:0',
    '--origin', 'registry.test/log', '--registry', '--no-registry-dns-validation',
  ]);
});
afterAll(async () => {
  await serve?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** GET with full control of the Host line (fetch would set its own). */
function getWithHost(p: string, host: string): Promise<{ status: number; body: string }> {
  const u = new URL(serve.url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: p, headers: { Host: host, 'X-Forwarded-Host': host, 'X-Forwarded-Proto': 'https' }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the registry URL it publishes', () => {
  it('without --registry-public-url: the bound listen address, whatever Host the client sends', async () => {
    const r = await callApi(serve.url, apiKey, 'POST', '/v1/agents', { name: NAME, endpoints: [{ protocol: 'A2A', url: 'https://bot.acme.example/a2a' }], publicKey: toBase64(agentKey(1)) });
    expect(r.status).toBe(201);
    const forged = await getWithHost(`/v1/agents/${ENC}/dns?format=zone`, 'evil.example');
    expect(forged.status).toBe(200);
    expect(forged.body).toContain(`"v=ans-badge1; url=${serve.url}/v1/resolve/${ENC}"`);
    expect(forged.body).not.toContain('evil');
  });

  it('listening on all interfaces without --registry-public-url: refused before anything starts, saying what to pass', async () => {
    const d = tempDir();
    try {
      const r = await runCli(['serve', '--state', path.join(d, 'state'), '--tiles', path.join(d, 'tiles'), '--listen', ':0', '--registry', '--no-registry-dns-validation']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('--registry-public-url is required');
      expect(r.stderr).toContain('Host header');
      expect(fs.existsSync(path.join(d, 'state'))).toBe(false);
    } finally {
      fs.rmSync(d, { recursive: true, force: true });
    }
  });
});
