// API keys load without a restart: a real `tilelog serve --registry` child
// picks up a key added by `tilelog registry apikey` while it runs, survives
// and reloads on SIGHUP, keeps the keys in force (and logs why) when the file
// is broken, and drops a key removed from the file.
import { generateKeyPairSync } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callApi, runCli, startServe, tempDir, type ServeHandle } from './helpers.js';

let dir: string;
let state: string;
let keysFile: string;
let serve: ServeHandle;
let agents = 0;
let firstKey: string;

const apikey = async (owner: string) => {
  const r = await runCli(['registry', 'apikey', '--state', state, '--owner', owner]);
  expect(r.code).toBe(0);
  return r.stdout.trim();
};

/** Registers a fresh agent with this API key: the HTTP status (201, or 401 for an unknown key). */
async function register(apiKey: string): Promise<number> {
  const jwk = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
  const host = `bot${++agents}.acme.example`;
  const r = await callApi(serve.url, apiKey, 'POST', '/v1/agents', {
    name: `ans://v1.0.0.${host}`,
    endpoints: [{ protocol: 'A2A', url: `https://${host}/a2a` }],
    publicKey: Buffer.from(jwk.x!, 'base64url').toString('base64'),
  });
  return r.status;
}

/** Polls until f() holds (the server reloads within about a second); no timing is asserted. */
async function eventually(f: () => Promise<boolean> | boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await f()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for: ${what}\nserver stderr:\n${serve.stderr()}`);
}

const reloads = () => (serve.stderr().match(/registry: loaded \d+ API keys?/g) ?? []).length;

beforeAll(async () => {
  dir = tempDir('tilelog-apikeys-');
  state = path.join(dir, 'state');
  keysFile = path.join(state, 'registry-api-keys');
  firstKey = await apikey('acme');
  serve = await startServe(['--state', state, '--tiles', path.join(dir, 'tiles'), '--listen', '127.0.0.1:0', '--origin', 'apikeys.test/log', '--registry', '--no-registry-dns-validation']);
});

afterAll(async () => {
  await serve?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('registry API keys without a restart', () => {
  let first: string;
  let second: string;

  it('a key added while the server runs works without a restart', async () => {
    first = fs.readFileSync(keysFile, 'utf8');
    expect(await register(firstKey)).toBe(201);
    expect(await register('tlk_unknown')).toBe(401);
    second = await apikey('acme');
    expect(second).toMatch(/^tlk_/);
    await eventually(async () => (await register(second)) === 201, 'the new key to be accepted');
    expect(serve.child.exitCode).toBeNull();
  });

  it('SIGHUP re-reads the file and does not stop the server', async () => {
    const before = reloads();
    serve.child.kill('SIGHUP');
    await eventually(() => reloads() > before, 'a reload logged after SIGHUP');
    expect(serve.child.exitCode).toBeNull();
    expect(await register(second)).toBe(201);
  });

  it('a broken file keeps the keys in force and logs why', async () => {
    const good = fs.readFileSync(keysFile, 'utf8');
    const third = 'tlk_not-in-the-file';
    fs.writeFileSync(keysFile, `${good}this is not a key line\n`);
    await eventually(() => /API keys not reloaded: .*registry-api-keys: registry: API key line 3 must be/.test(serve.stderr()), 'the error logged');
    expect(serve.stderr()).toMatch(/keeping the 2 API keys loaded before/);
    expect(await register(second)).toBe(201);
    expect(await register(third)).toBe(401);
    expect(serve.child.exitCode).toBeNull();
  });

  it('a key removed from the file stops working', async () => {
    // Keep only the second key (drop the first and the broken line).
    const lines = fs.readFileSync(keysFile, 'utf8').split('\n');
    const firstLine = first.trim();
    fs.writeFileSync(keysFile, lines.filter((l) => l.startsWith('sha256:') && l !== firstLine).join('\n') + '\n');
    await eventually(() => /registry: loaded 1 API key\b/.test(serve.stderr()), 'a reload to 1 key');
    expect(await register(firstKey)).toBe(401);
    expect(await register(second)).toBe(201);
  });
});
