// The witness app on a real server on 127.0.0.1: oversized bodies refused
// before they are read whole (413), and many parallel requests from the same
// old size: exactly one advances, the rest get 409, and the state is one of them.
import * as http from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { toBase64 } from '../../src/merkle/index.js';
import { startServer, type RunningServer } from '../../src/http/index.js';
import { createWitnessApp, MAX_REQUEST_BYTES } from '../../src/witness/index.js';
import { openTestWitness, TestLog, type TestWitness } from './helpers.js';

const ORIGIN = 'example.com/server';
const log = new TestLog(ORIGIN, 200);
let w: TestWitness;
let server: RunningServer;

beforeAll(async () => {
  w = openTestWitness({ logs: [[ORIGIN, log.vkey]] });
  server = await startServer(createWitnessApp(w.witness, { logError: () => {} }), { host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await server.close();
  w.close();
});

function post(body: string): Promise<{ status: number; text: string; type: string | null }> {
  return fetch(`${server.url}/add-checkpoint`, { method: 'POST', body }).then(async (res) => ({
    status: res.status,
    text: await res.text(),
    type: res.headers.get('content-type'),
  }));
}

// A raw request that announces `length` bytes (or is chunked) and sends `send` bytes.
function rawPost(opts: { length?: number; chunks: number; chunkSize: number }): Promise<{ status: number; sent: number }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = {};
    if (opts.length !== undefined) headers['Content-Length'] = opts.length;
    const req = http.request(`${server.url}/add-checkpoint`, { method: 'POST', headers });
    let sent = 0;
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, sent }));
    });
    req.on('error', (err) => reject(err));
    const chunk = Buffer.alloc(opts.chunkSize, 0x41);
    let i = 0;
    const pump = () => {
      while (i < opts.chunks) {
        i++;
        sent += chunk.length;
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

describe('body limit', () => {
  test(`a Content-Length over ${MAX_REQUEST_BYTES} bytes is 413 before the body is read`, async () => {
    const res = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${server.url}/add-checkpoint`, {
        method: 'POST',
        headers: { 'Content-Length': 10_000_000 },
      });
      req.on('response', (r) => {
        r.resume();
        resolve(r.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write('old 0\n'); // and never the rest
    });
    expect(res).toBe(413);
  });

  test('a chunked body is cut off once it passes the cap', async () => {
    // 64 chunks of 16 KiB = 1 MiB; the server answers after ~64 KiB.
    const res = await rawPost({ chunks: 64, chunkSize: 16 * 1024 }).catch((err: NodeJS.ErrnoException) => ({ status: -1, err }));
    // Either we see the 413, or the server closed the socket while we were still writing.
    expect([413, -1]).toContain(res.status);
  });

  test('a body of exactly the cap is read (an extension line breaks the signature: 403, not 413)', async () => {
    const cp = await log.checkpoint(1);
    const pad = MAX_REQUEST_BYTES - Buffer.byteLength(`old 0\n\n${cp}`); // bytes: '—' is 3
    const res = await post(`old 0\n\n${cp.replace('\n\n', `\n${'x'.repeat(pad - 1)}\n\n`)}`);
    expect(res.status).toBe(403);
    const over = await post(`old 0\n\n${cp.replace('\n\n', `\n${'x'.repeat(pad)}\n\n`)}`);
    expect(over.status).toBe(413);
  });
});

describe('percent-escapes', () => {
  test('a malformed escape in the path or query is a 400 on every route', async () => {
    for (const [method, p] of [['GET', '/evidence?origin=%'], ['GET', '/%E0%A4%A/checkpoint'], ['POST', '/add-checkpoint?x=%zz'], ['GET', '/?%FF']]) {
      const res = await fetch(`${server.url}${p}`, { method, ...(method === 'POST' && { body: 'x' }) });
      expect(res.status, p).toBe(400);
      expect(await res.text(), p).toMatch(/percent-escape/);
    }
  });
});

describe('concurrency', () => {
  test('50 parallel requests from one old size: exactly one advances', async () => {
    expect((await post(await log.request(0, 10))).status).toBe(200);
    for (let round = 0; round < 3; round++) {
      const from = w.store.latest(ORIGIN)!.size;
      const targets = Array.from({ length: 50 }, (_, i) => from + 1 + (i % 25));
      const bodies = await Promise.all(targets.map((t) => log.request(from, t)));
      const answers = await Promise.all(bodies.map((b) => post(b)));
      const ok = answers.map((a, i) => ({ ...a, target: targets[i]! })).filter((a) => a.status === 200);
      expect(ok).toHaveLength(1);
      const rest = answers.filter((a) => a.status !== 200);
      for (const a of rest) {
        expect(a.status).toBe(409);
        expect(a.type).toBe('text/x.tlog.size');
        expect(a.text).toBe(`${ok[0]!.target}\n`);
      }
      const latest = w.store.latest(ORIGIN)!;
      expect(latest.size).toBe(ok[0]!.target);
      expect(toBase64(latest.root)).toBe(toBase64(await log.root(ok[0]!.target)));
    }
    // One history row per 200.
    expect(w.store.history().map((h) => h.size)).toHaveLength(4);
  });
});
