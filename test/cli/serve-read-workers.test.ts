// serve --read-workers: real processes over HTTP. The same log is served
// first by one process, then with two read workers on the same port; every
// read the workers answer (tiles, partial tiles, bundles, the checkpoint,
// 404s, bad and unsafe paths) must carry the same status, headers (names,
// order, values; Date aside) and bytes, and every request they forward (the
// API, unknown paths) too. Then: adds through the workers are acknowledged,
// visible in a fresh checkpoint whose tiles exist, and durable; a SIGKILLed
// worker is replaced; SIGTERM lets an in-flight request finish and leaves no
// process and no socket behind; a SIGKILLed log process leaves no worker behind.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveServeConfig } from '../../src/cli/serve-config.js';
import { startServe, tempDir, usageMessage, type ServeHandle } from './helpers.js';
import { freePort } from '../support/free-port.js';

interface Answer {
  status: number;
  headers: string[];
  body: string;
}

/** One request with the raw target (no normalisation), a fixed request ID, on a fresh connection. */
function raw(base: string, method: string, target: string, body?: string): Promise<Answer> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, method, path: target, agent: false, headers: { 'X-Request-Id': 'same-id' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => {
        const headers: string[] = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) {
          if (res.rawHeaders[i]!.toLowerCase() !== 'date') headers.push(`${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}`);
        }
        resolve({ status: res.statusCode!, headers, body: Buffer.concat(chunks).toString('base64') });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}


/** The pids of pid's child processes (the read workers). */
function childrenOf(pid: number): number[] {
  const text = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  return text === '' ? [] : text.split(/\s+/).map(Number);
}

async function until<T>(what: string, f: () => T | Promise<T>, ok: (v: T) => boolean, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const ENTRIES = 600; // two full tiles at level 0, partial ones beyond

// Reads answered by the workers themselves, each sent several times (the first may miss the workers' caches).
const READS: [string, string][] = [
  ['GET', '/tile/0/000'],
  ['HEAD', '/tile/0/000'],
  ['GET', '/tile/0/001'],
  ['GET', '/tile/entries/000'],
  ['HEAD', '/tile/entries/001'],
  ['GET', `/tile/0/002.p/${ENTRIES - 512}`],
  ['GET', `/tile/entries/002.p/${ENTRIES - 512}`],
  ['GET', '/tile/1/000.p/2'],
  ['GET', '/checkpoint'],
  ['HEAD', '/checkpoint'],
  ['GET', '/tile/0/000?x=1'],
  // Absent, bad and unsafe paths.
  ['GET', '/tile/0/999'],
  ['GET', '/tile/0/002'],
  ['GET', '/tile/0/../000'],
  ['GET', '/x/../tile/0/000'],
  ['GET', '/tile/0/%2e%2e/000'],
  ['GET', '/tile/0/%zz'],
  ['GET', '/tile/0/0000'],
  ['GET', '/tile/abc'],
  ['GET', '/tile//0/000'],
  ['GET', '/tile/0/050'], // a symlink to the log's key
  ['GET', '/tile/9/000'], // through a symlinked directory
  ['GET', '/checkpoint/'],
  ['GET', '/tile'],
  ['POST', '/tile/0/000'],
  ['OPTIONS', '/checkpoint'],
  ['DELETE', '/checkpoint'],
  // Forwarded to the log's process.
  ['GET', '/v1/log/info'],
  ['GET', '/v1/log/entry/5'],
  ['GET', `/v1/log/inclusion/5/${ENTRIES}`],
  ['GET', '/healthz'],
  ['GET', '/nope'],
  ['GET', '/v1/log/entry/%zz'],
  ['POST', '/add/'],
];

describe('serve --read-workers', () => {
  let dir: string;
  let port: number;
  let srv: ServeHandle | undefined;
  const single = new Map<string, Answer>();
  const args = () => ['--listen', `127.0.0.1:${port}`, '--state', path.join(dir, 'state'), '--tiles', path.join(dir, 'tiles'), '--origin', 'test.example/rw'];

  beforeAll(async () => {
    dir = tempDir('tilelog-read-workers-');
    port = await freePort();
    srv = await startServe(args());
    for (let i = 0; i < ENTRIES; i++) {
      const r = await fetch(`${srv.url}/add${i === ENTRIES - 1 ? '?wait=checkpoint' : ''}`, { method: 'POST', body: `entry ${i}` });
      expect(r.status).toBe(200);
    }
    const tiles = path.join(dir, 'tiles');
    fs.symlinkSync(path.join(dir, 'state/log.key'), path.join(tiles, 'tile/0/050'));
    fs.mkdirSync(path.join(dir, 'elsewhere/x'), { recursive: true });
    fs.copyFileSync(path.join(tiles, 'tile/0/000'), path.join(dir, 'elsewhere/000'));
    fs.symlinkSync(path.join(dir, 'elsewhere'), path.join(tiles, 'tile/9'));
    for (const [method, target] of READS) single.set(`${method} ${target}`, await raw(srv.url, method, target));
    await srv.stop();
    srv = await startServe([...args(), '--read-workers', '2']);
  });
  afterAll(async () => {
    await srv?.stop('SIGKILL');
  });

  it('answers every read, error and forwarded request exactly as the single process did', async () => {
    expect(srv!.url).toBe(`http://127.0.0.1:${port}`);
    // Eight rounds on fresh connections: both workers, their caches cold and warm.
    for (let round = 0; round < 8; round++) {
      for (const [method, target] of READS) {
        const want = single.get(`${method} ${target}`)!;
        expect(await raw(srv!.url, method, target), `${method} ${target} (round ${round})`).toEqual(want);
      }
    }
    expect(single.get('GET /tile/0/000')!.status).toBe(200);
    expect(single.get('GET /tile/0/050')!.status).toBe(404);
    expect(single.get('GET /tile/9/000')!.status).toBe(404);
    expect(single.get('GET /tile/0/../000')!.status).toBe(400);
    // The private socket: only this user can connect.
    expect(fs.statSync(path.join(dir, 'state/http.sock')).mode & 0o777).toBe(0o600);
  });

  it('acknowledges adds, and the next checkpoint read shows them with their tiles present', async () => {
    for (let i = 0; i < 20; i++) {
      const r = await fetch(`${srv!.url}/add?wait=checkpoint`, { method: 'POST', body: `through a worker ${i}` });
      expect(r.status).toBe(200);
      const { index } = (await r.json()) as { index: number };
      // Fresh connections, so they land on either worker.
      for (let k = 0; k < 4; k++) {
        const cp = await raw(srv!.url, 'GET', '/checkpoint');
        const size = Number(Buffer.from(cp.body, 'base64').toString().split('\n')[1]);
        expect(size).toBeGreaterThan(index);
        const n = Math.floor((size - 1) / 256);
        const w = size - n * 256;
        const bundle = `/tile/entries/${String(n).padStart(3, '0')}${w === 256 ? '' : `.p/${w}`}`;
        expect((await raw(srv!.url, 'GET', bundle)).status, bundle).toBe(200);
      }
    }
  });

  it('replaces a SIGKILLed worker and keeps answering', async () => {
    const before = await until('two workers', () => childrenOf(srv!.child.pid!), (c) => c.length === 2);
    process.kill(before[0]!, 'SIGKILL');
    const after = await until('a replacement', () => childrenOf(srv!.child.pid!), (c) => c.length === 2 && !c.includes(before[0]!));
    expect(after).toContain(before[1]);
    await until('the message', () => srv!.stderr(), (s) => /read worker \d+ exited \(SIGKILL\)/.test(s));
    for (let i = 0; i < 10; i++) expect((await raw(srv!.url, 'GET', '/tile/0/001')).status).toBe(200);
    const r = await fetch(`${srv!.url}/add`, { method: 'POST', body: 'after the kill' });
    expect(r.status).toBe(200);
  });

  it('drains on SIGTERM: a request in flight is answered, then nothing is left running', async () => {
    const workers = childrenOf(srv!.child.pid!);
    const { hostname } = new URL(srv!.url);
    // An add whose body is half sent when the signal arrives.
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request({ host: hostname, port, method: 'POST', path: '/add', agent: false, headers: { 'Content-Length': '12' } }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject);
      req.write('draining');
      setTimeout(() => {
        srv!.child.kill('SIGTERM');
        setTimeout(() => req.end('-add'), 500);
      }, 200);
    });
    const got = await answer;
    expect(got.status).toBe(200);
    const { index } = JSON.parse(got.body) as { index: number };
    // The signal was sent: wait for the exit (stop() would signal again, which means "exit now").
    const child = srv!.child;
    const code = child.exitCode ?? (await new Promise<number | null>((r) => child.once('exit', (c) => r(c))));
    expect(code, srv!.stderr()).toBe(0);
    for (const pid of workers) expect(fs.existsSync(`/proc/${pid}`), `worker ${pid}`).toBe(false);
    expect(fs.existsSync(path.join(dir, 'state/http.sock'))).toBe(false);
    // Durable: the single process, restarted, serves the entry added during the drain.
    srv = await startServe(args());
    const e = await fetch(`${srv.url}/v1/log/entry/${index}`);
    expect(e.status).toBe(200);
    expect(Buffer.from(((await e.json()) as { entry: string }).entry, 'base64').toString()).toBe('draining-add');
  });

  it('workers exit when the log process is SIGKILLed: no orphan keeps the port', async () => {
    await srv!.stop();
    srv = await startServe([...args(), '--read-workers', '2']);
    const workers = await until('two workers', () => childrenOf(srv!.child.pid!), (c) => c.length === 2);
    await srv.stop('SIGKILL');
    await until('the workers to exit', () => workers.filter((pid) => fs.existsSync(`/proc/${pid}`)), (alive) => alive.length === 0);
    // The next start finds the stale socket of the killed run and replaces it.
    srv = await startServe([...args(), '--read-workers', '1']);
    expect((await raw(srv.url, 'GET', '/tile/0/000')).status).toBe(200);
  });

  it('refuses --read-workers with a bucket, and more than 64', () => {
    expect(usageMessage(() => resolveServeConfig({ tiles: 's3://bucket/p', 'read-workers': '2' }, {}))).toMatch(/tiles directory/);
    expect(usageMessage(() => resolveServeConfig({ 'read-workers': '65' }, {}))).toMatch(/at most 64/);
    expect(resolveServeConfig({}, {}).readWorkers).toBe(0);
    expect(resolveServeConfig({}, { TILELOG_READ_WORKERS: '3' }).readWorkers).toBe(3);
  });
});
