// The proof fast path answers byte for byte as the app does: for a table of
// targets and headers (good proofs, and every near miss the app must judge:
// leading zeros, hex roots, queries, escapes, HEAD, sizes past the
// checkpoint, a damaged tile), the same status, headers in the same order
// and body from a server with it (real node:http, a real log on SQLite and
// files) and from the app alone; the same request counts in /metrics; and
// the app behind it is reached exactly for what the path does not answer.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { getRequestListener } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createLogApp, proofFastPath, RequestCounts, startListener, type RunningServer } from '../../src/http/index.js';
import { TilelogError } from '../../src/errors.js';
import { openFileLog, type Log } from '../../src/log/index.js';
import { tilePath } from '../../src/merkle/index.js';
import { quietLogger, tempDir, testSigner, ORIGIN } from '../log/helpers.js';

const N = 2000;
const tmp = tempDir('tilelog-proof-fast-');
let log: Log;
let plain: RunningServer;
let fast: RunningServer;
const plainCounts = new RequestCounts();
const fastCounts = new RequestCounts();
/** Requests the fast server passed on to its app. */
const passedOn: string[] = [];

interface Raw {
  status: number;
  headers: string[];
  body: Buffer;
}

function get(url: string, target: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Raw> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: target, method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.rawHeaders, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Raw headers without Date, and with a generated request ID replaced by a placeholder. */
function comparable(r: Raw, sentId: boolean): { status: number; headers: string[]; body: string } {
  const headers: string[] = [];
  for (let i = 0; i < r.headers.length; i += 2) {
    const [name, value] = [r.headers[i]!, r.headers[i + 1]!];
    if (name.toLowerCase() === 'date') continue;
    if (name.toLowerCase() === 'x-request-id' && !sentId) {
      expect(value).toMatch(/^[0-9a-f-]{36}$/);
      headers.push(name, '<uuid>');
    } else headers.push(name, value);
  }
  return { status: r.status, headers, body: r.body.toString('utf8') };
}

beforeAll(async () => {
  log = await openFileLog({ origin: ORIGIN, signer: testSigner, stateDir: path.join(tmp.dir, 'state'), tilesDir: path.join(tmp.dir, 'tiles'), logger: quietLogger });
  const acks = await Promise.all(Array.from({ length: N }, (_, i) => log.add(new TextEncoder().encode(`fast path ${i}`))));
  await log.waitForCheckpoint(Math.max(...acks.map((a) => a.index)));
  plain = await startListener(getRequestListener(createLogApp(log, { requestCounts: plainCounts, logError: () => {} }).fetch, { hostname: '127.0.0.1' }), { port: 0 });
  const app = getRequestListener(createLogApp(log, { requestCounts: fastCounts, logError: () => {} }).fetch, { hostname: '127.0.0.1' });
  fast = await startListener(
    proofFastPath({
      log,
      counts: fastCounts,
      app: (req, res) => {
        passedOn.push(`${req.method} ${req.url}`);
        return app(req, res);
      },
    }),
    { port: 0 },
  );
});

afterAll(async () => {
  await fast?.close();
  await plain?.close();
  await log?.close();
  tmp.cleanup();
});

describe('the proof fast path', () => {
  test('answers as the app does, headers and body byte for byte, and counts the same', async () => {
    const size = log.checkpoint().size;
    const hexRoot = Buffer.from(log.checkpoint().root).toString('hex');
    const answered = [`/v1/log/inclusion/0/${size}`, `/v1/log/inclusion/${size - 1}/${size}`, '/v1/log/inclusion/300/301', `/v1/log/consistency/1/${size}`, '/v1/log/consistency/256/700', `/v1/log/consistency/${size}/${size}`];
    const passed = [
      `/v1/log/inclusion/${size}/${size}`, // index not below the size: 400
      `/v1/log/inclusion/0/${size + 1}`, // past the checkpoint: 404
      `/v1/log/consistency/0/${size}`, // old 0: 400
      `/v1/log/consistency/9/8`,
      `/v1/log/inclusion/01/${size}`, // leading zero: 400
      `/v1/log/inclusion/0/${hexRoot}`, // a root: the app looks it up
      `/v1/log/inclusion/0/${size}?x=1`,
      `/v1/log/inclusion/0/%3${String(size)[0]}${String(size).slice(1)}`,
      `/v1/log/inclusion/0/${size}/`,
      `/v1/log//inclusion/0/${size}`,
      `/v1/log/inclusion/./0/${size}`,
      `/v1/log/inclusion/99999999999999999/${size}`,
      `/v1/log/inclusion/0`,
    ];
    const headerSets: Record<string, string>[] = [{}, { 'x-request-id': 'client-chosen.1' }, { 'x-request-id': 'bad id with spaces' }, { origin: 'https://elsewhere.example' }];
    for (const target of [...answered, ...passed]) {
      for (const h of headerSets) {
        const sentId = h['x-request-id'] === 'client-chosen.1';
        const [a, b] = await Promise.all([get(plain.url, target, h), get(fast.url, target, h)]);
        expect(comparable(b, sentId), `${target} ${JSON.stringify(h)}`).toEqual(comparable(a, sentId));
      }
    }
    // HEAD and other methods always go to the app.
    for (const method of ['HEAD', 'POST']) {
      const [a, b] = await Promise.all([get(plain.url, answered[0]!, {}, method), get(fast.url, answered[0]!, {}, method)]);
      expect(comparable(b, false)).toEqual(comparable(a, false));
    }
    // The fast path answered every good GET itself and passed on exactly the rest.
    expect(passedOn.filter((p) => answered.some((t) => p === `GET ${t}`))).toEqual([]);
    expect(new Set(passedOn)).toEqual(new Set([...passed.map((t) => `GET ${t}`), `HEAD ${answered[0]}`, `POST ${answered[0]}`]));
    expect([...fastCounts.entries()].sort(byKey)).toEqual([...plainCounts.entries()].sort(byKey));
    expect([...fastCounts.entries()].find((e) => e.route === '/v1/log/inclusion/:index/:tree' && e.status === '200')?.count).toBeGreaterThanOrEqual(3 * headerSets.length);
  });

  test('a log with no checkpoint to answer from: the app answers, the process does not crash', async () => {
    const unpublished = new Proxy(log, {
      get(target, prop, receiver) {
        if (prop === 'checkpoint') return () => { throw new TilelogError('LOG_NOT_FOUND', 'log: no published checkpoint yet'); };
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const app = getRequestListener(createLogApp(unpublished, { logError: () => {} }).fetch, { hostname: '127.0.0.1' });
    const both = [
      await startListener(app, { port: 0 }),
      await startListener(proofFastPath({ log: unpublished, counts: null, app }), { port: 0 }),
    ];
    try {
      const [a, b] = (await Promise.all(both.map((srv) => get(srv.url, '/v1/log/inclusion/1/5')))) as [Raw, Raw];
      expect(a.status).toBe(404);
      expect(comparable(b, false)).toEqual(comparable(a, false));
    } finally {
      for (const srv of both) await srv.close();
    }
  });

  test('an error while computing (a damaged tile) is the app\'s to answer, as without the fast path', async () => {
    const size = log.checkpoint().size;
    // Tile 0/005 (entries 1280..1535), full and never read so far (so in no tile cache): cut short on disk.
    fs.writeFileSync(path.join(tmp.dir, 'tiles', tilePath({ level: 0, index: 5, width: 256 })), Buffer.alloc(10));
    passedOn.length = 0;
    const target = `/v1/log/inclusion/1300/${size}`;
    const [a, b] = await Promise.all([get(plain.url, target), get(fast.url, target)]);
    expect(a.status).toBeGreaterThanOrEqual(500); // the log's own tiles are damaged: the server's fault
    expect(comparable(b, false)).toEqual(comparable(a, false));
    expect(passedOn).toEqual([`GET ${target}`]);
  });
});

const byKey = (x: { method: string; route: string; status: string }, y: { method: string; route: string; status: string }) =>
  `${x.method} ${x.route} ${x.status}`.localeCompare(`${y.method} ${y.route} ${y.status}`);
