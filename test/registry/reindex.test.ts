// `tilelog registry reindex` against the state of a real `tilelog serve
// --registry`: refused while the server holds the state, then, stopped,
// the index rebuilt from the log alone equals the live one, and the server
// starts on it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toBase64 } from '../../src/merkle/index.js';
import { runCli, startServe, tempDir, type ServeHandle } from '../cli/helpers.js';
import { agentKey, dumpIndex } from './helpers.js';

const ORIGIN = 'reindex.test/log';
let dir: string;
let state: string;
let apiKey: string;

const serveArgs = () => ['--state', state, '--tiles', path.join(dir, 'tiles'), '--listen', '127.0.0.1:0', '--origin', ORIGIN, '--registry', '--no-registry-dns-validation'];
const call = async (serve: ServeHandle, method: string, p: string, body?: unknown) => {
  const res = await fetch(`${serve.url}${p}`, { method, headers: { Authorization: `Bearer ${apiKey}` }, ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }) });
  return { status: res.status, json: (await res.json()) as any };
};
const dump = () => dumpIndex(state, ORIGIN);

beforeAll(() => {
  dir = tempDir();
  state = path.join(dir, 'state');
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('tilelog registry reindex', () => {
  it('refuses while serve holds the state; stopped, rebuilds an equal index with a progress line; serve starts on it', async () => {
    apiKey = (await runCli(['registry', 'apikey', '--state', state, '--owner', 'acme'])).stdout.trim();
    let serve = await startServe(serveArgs());
    let agents: unknown;
    try {
      for (let n = 1; n <= 3; n++) {
        const r = await call(serve, 'POST', '/v1/agents', { name: `ans://v1.0.${n}.bot${n}.acme.example`, endpoints: [{ protocol: 'MCP', url: `https://bot${n}.acme.example/mcp` }], publicKey: toBase64(agentKey(n)) });
        expect(r.status).toBe(201);
      }
      expect((await call(serve, 'PATCH', `/v1/agents/${encodeURIComponent('ans://v1.0.1.bot1.acme.example')}`, { capabilities: ['orders.read'] })).status).toBe(200);
      expect((await call(serve, 'POST', `/v1/agents/${encodeURIComponent('ans://v1.0.2.bot2.acme.example')}/revoke`, {})).status).toBe(200);
      expect((await fetch(`${serve.url}/add`, { method: 'POST', body: 'not an entry' })).status).toBeLessThan(300);
      // A registry write catches the live index up past the junk leaf.
      expect((await call(serve, 'POST', `/v1/agents/${encodeURIComponent('ans://v1.0.3.bot3.acme.example')}/deprecate`, {})).status).toBe(200);
      agents = (await call(serve, 'GET', '/v1/agents')).json;

      const busy = await runCli(['registry', 'reindex', '--state', state]);
      expect(busy.code).toBe(1);
      expect(busy.stderr).toMatch(new RegExp(`in use by pid ${serve.child.pid}`));
    } finally {
      await serve.stop();
    }
    const live = dump();

    // Delete the index; rebuild it from the log alone.
    for (const s of ['', '-wal', '-shm']) fs.rmSync(path.join(state, `registry.db${s}`), { force: true });
    const r = await runCli(['registry', 'reindex', '--state', state]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/100\.0% [0-9]+\/[0-9]+ entries/);
    expect(r.stdout).toMatch(/from [0-9]+ published entries of reindex\.test\/log: [0-9]+ applied, [0-9]+ skipped; 3 agents, 1 submitter key\n/);
    expect(dump()).toEqual(live);
    expect(fs.existsSync(path.join(state, 'registry.lock.pid'))).toBe(false);

    // Over an existing index, with a stale lock of an earlier version (a pid file) left by a process that is gone, as JSON.
    fs.rmSync(path.join(state, 'registry.lock'));
    fs.writeFileSync(path.join(state, 'registry.lock'), '999999999\n');
    const j = await runCli(['registry', 'reindex', '--state', state, '--json']);
    expect(j.code, j.stderr).toBe(0);
    expect(JSON.parse(j.stdout)).toMatchObject({ origin: ORIGIN, agents: 3, keys: 1, skipped: 1 });
    expect(dump()).toEqual(live);

    serve = await startServe(serveArgs());
    try {
      expect((await call(serve, 'GET', '/v1/agents')).json).toEqual(agents);
    } finally {
      await serve.stop();
    }
  });

  it('usage errors and a state dir without a log', async () => {
    expect((await runCli(['registry', 'reindex', '--owner', 'x'])).code).toBe(2);
    expect((await runCli(['registry', 'frobnicate'])).code).toBe(2);
    const empty = await runCli(['registry', 'reindex', '--state', path.join(dir, 'nothing')]);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toMatch(/no log in/);
  });
});
