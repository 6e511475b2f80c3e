// Real servers on 127.0.0.1 via startServer: what only a socket shows
// (oversized bodies refused before upload ends, raw dot segments, no hangs).
import * as http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogApp, startServer, type RunningServer } from '../../src/http/index.js';
import { fromBase64Strict, leafHash, verifyInclusion } from '../../src/merkle/index.js';
import { openCheckpoint, parseVerifierKey } from '../../src/note/index.js';
import { ENTRIES, openTestLog, ORIGIN, VKEY, type TestLog } from './helpers.js';

let t: TestLog;
let server: RunningServer;

beforeAll(async () => {
  t = await openTestLog();
  server = await startServer(createLogApp(t.log), { port: 0 });
});
afterAll(async () => {
  await server.close();
  await t.close();
});

interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A request with full control of the path and body framing. */
function raw(
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; write?: (req: http.ClientRequest) => void } = {},
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: server.port, method, path, headers: opts.headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('request hung')));
    if (opts.write) opts.write(req);
    else req.end();
  });
}

describe('startServer', () => {
  it('binds to 127.0.0.1 on a free port and reports its URL', () => {
    expect(server.host).toBe('127.0.0.1');
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
  });

  it('adds concurrently: distinct indexes, all covered by a checkpoint', async () => {
    const entries = ENTRIES.slice(0, 200);
    const answers = await Promise.all(
      entries.map(async (e) => {
        const res = await fetch(`${server.url}/add`, { method: 'POST', body: e as Uint8Array<ArrayBuffer> });
        expect(res.status).toBe(200);
        return (await res.json()) as { index: number };
      }),
    );
    expect(new Set(answers.map((a) => a.index)).size).toBe(200);
    await t.log.waitForCheckpoint(Math.max(...answers.map((a) => a.index)));
    expect(t.log.checkpoint().size).toBe(200);
  });

  it('POST /add?wait=checkpoint answers with a proof that verifies offline', async () => {
    const entry = new TextEncoder().encode(`over the wire ${Date.now()}`);
    const res = await fetch(`${server.url}/add?wait=checkpoint`, { method: 'POST', body: entry });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { index: number; entry: string; checkpoint: string; inclusionProof: string[] };
    const { checkpoint } = openCheckpoint(body.checkpoint, ORIGIN, [parseVerifierKey(VKEY)]);
    expect(fromBase64Strict(body.entry)).toEqual(entry);
    const proof = body.inclusionProof.map((h) => fromBase64Strict(h, 32));
    verifyInclusion(undefined, body.index, checkpoint.size, leafHash(entry), proof, checkpoint.root);
  });

  it('refuses a declared oversized body at once, without waiting for it', async () => {
    const started = Date.now();
    const answer = await raw('POST', '/add', {
      headers: { 'content-length': String(10 * 1024 * 1024) },
      // Send a few bytes and then nothing: the answer must not wait for the rest.
      write: (req) => req.write('x'.repeat(100)),
    });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body).error.code).toBe('HTTP_TOO_LARGE');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('stops reading a chunked body as soon as it passes 65535 bytes', async () => {
    const answer = await raw('POST', '/add', {
      headers: { 'transfer-encoding': 'chunked' },
      write: (req) => {
        // 1 MiB in 16 KiB chunks; the server answers long before the end.
        const chunk = Buffer.alloc(16 * 1024, 1);
        let sent = 0;
        const pump = () => {
          while (sent < 64) {
            sent++;
            if (!req.write(chunk)) return void req.once('drain', pump);
          }
          req.end();
        };
        req.on('error', () => {}); // the server may close the socket on us
        pump();
      },
    });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body).error.code).toBe('HTTP_TOO_LARGE');
  });

  it('refuses raw dot segments instead of normalising them', async () => {
    for (const p of ['/tile/0/../000', '/tile/./0/000', '/tile/0/%2e%2e/000', '/tile/../checkpoint']) {
      const answer = await raw('GET', p);
      expect(answer.status, p).toBe(400);
      expect(JSON.parse(answer.body).error.code).toBe('LAYOUT_BAD_PATH');
    }
  });

  it('refuses malformed percent-escapes in the path or query with a 400 on every route', async () => {
    for (const p of ['/v1/log/entry/%', '/tile/0/%zz', '/checkpoint?x=%E0%A4%A', '/add?wait=%', '/healthz?%FF', '/no/such/%']) {
      const answer = await raw(p.startsWith('/add') ? 'POST' : 'GET', p);
      expect(answer.status, p).toBe(400);
      expect(JSON.parse(answer.body).error, p).toMatchObject({ code: 'HTTP_BAD_REQUEST', message: expect.stringMatching(/percent-escape/) });
    }
    expect((await raw('GET', '/checkpoint?x=%25%C3%A9')).status).toBe(200);
  });

  it('answers every bad request with JSON, never a 500 or a hang', async () => {
    const cases: [string, string][] = [
      ['GET', '/tile/0/x000/001'],
      ['GET', '/tile/0/000.p/0'],
      ['GET', '/tile/0/000.p/256'],
      ['GET', '/v1/log/entry/18446744073709551616'],
      ['GET', '/v1/log/consistency/0/1'],
      ['GET', '/v1/log/inclusion/1/1'],
      ['GET', '/v1/log/lookup/zz'],
      ['DELETE', '/checkpoint'],
      ['GET', '/no/such/route'],
      ['POST', '/add'],
    ];
    for (const [method, p] of cases) {
      const answer = await raw(method, p);
      expect(answer.status, `${method} ${p}`).toBeGreaterThanOrEqual(400);
      expect(answer.status, `${method} ${p}`).toBeLessThan(500);
      expect(answer.headers['content-type']).toMatch(/^application\/json/);
      expect(JSON.parse(answer.body).error.code).toMatch(/^[A-Z_]+$/);
    }
  });

  it('a client that disconnects mid-body is not an internal error, and the server carries on', async () => {
    const internal: unknown[] = [];
    const other = await startServer(createLogApp(t.log, { logError: (_m, err) => internal.push(err) }), { port: 0 });
    try {
      const net = await import('node:net');
      await new Promise<void>((resolve, reject) => {
        const sock = net.connect(other.port, '127.0.0.1', () => {
          sock.write('POST /add HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\npartial body');
          setTimeout(() => {
            sock.destroy();
            resolve();
          }, 100);
        });
        sock.on('error', reject);
      });
      await new Promise((r) => setTimeout(r, 200));
      const ok = await fetch(`${other.url}/add`, { method: 'POST', body: 'after a dropped client' });
      expect(ok.status).toBe(200);
      expect(internal).toEqual([]);
    } finally {
      await other.close();
    }
  });

  it('close() resolves even with an idle keep-alive connection open', async () => {
    const other = await startServer(createLogApp(t.log), { port: 0, closeGraceMs: 200 });
    const agent = new http.Agent({ keepAlive: true });
    await new Promise<void>((resolve, reject) => {
      http.get(`${other.url}/healthz`, { agent }, (res) => {
        res.resume();
        res.on('end', () => resolve());
      }).on('error', reject);
    });
    await other.close();
    agent.destroy();
  });
});
