// forward.ts and forwarded-for.ts with real servers: a front server that
// forwards everything to an upstream on a unix socket wrapped in
// acceptForwarded, as serve --read-workers wires them.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forwardTo, type Forwarder } from '../../src/http/forward.js';
import { acceptForwarded, clientAddressOf, FORWARDED_FOR_HEADER } from '../../src/http/forwarded-for.js';
import { startListener, type RunningServer } from '../../src/http/server.js';

let dir: string;
let upstream: RunningServer;
let front: RunningServer;
let forward: Forwarder;
/** Resolves when the upstream sees a request end without its answer being sent (the client left). */
let upstreamAborted: Promise<void>;
let markAborted: () => void;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tilelog-forward-'));
  const socketPath = path.join(dir, 'up.sock');
  upstreamAborted = new Promise((r) => (markAborted = r));
  upstream = await startListener(
    acceptForwarded((req, res) => {
      if (req.url === '/hang') {
        res.on('close', () => {
          if (!res.writableFinished) markAborted();
        });
        return;
      }
      const chunks: Buffer[] = [];
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => {
        const seen = req.rawHeaders.filter((_, i) => i % 2 === 0).map((h) => h.toLowerCase());
        res.writeHead(req.url!.startsWith('/teapot') ? 418 : 200, [
          'X-Upstream', 'yes',
          'set-cookie', 'a=1',
          'set-cookie', 'b=2',
          'Content-Type', 'application/json',
        ]);
        res.end(JSON.stringify({ method: req.method, url: req.url, client: clientAddressOf(req), seen, body: Buffer.concat(chunks).toString() }));
      });
    }),
    { socketPath, answerAfterHalfClose: false },
  );
  forward = forwardTo(socketPath, (res) => {
    res.writeHead(503);
    res.end('unreachable');
  });
  front = await startListener(forward, { host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  forward.close();
  await front.close();
  await upstream.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function call(method: string, target: string, headers: Record<string, string>, body?: string): Promise<{ status: number; raw: string[]; json: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: front.port, method, path: target, headers, agent: false }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, raw: res.rawHeaders, json: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('forwardTo + acceptForwarded', () => {
  it('passes method, raw target, headers and body up, and status and headers (repeats included) back', async () => {
    const r = await call('PATCH', '/teapot/../x?q=%zz', { 'Content-Type': 'text/plain', 'X-Mine': 'v' }, 'the body');
    expect(r.status).toBe(418);
    expect(r.json).toMatchObject({ method: 'PATCH', url: '/teapot/../x?q=%zz', body: 'the body' });
    expect(r.json.seen).toEqual(expect.arrayContaining(['content-type', 'x-mine', 'host']));
    const names = r.raw.filter((_, i) => i % 2 === 0);
    expect(names.slice(0, 4)).toEqual(['X-Upstream', 'set-cookie', 'set-cookie', 'Content-Type']);
  });

  it("gives the upstream the client's address and never a client's own forwarded-for header", async () => {
    const r = await call('GET', '/who', { [FORWARDED_FOR_HEADER]: '203.0.113.9' });
    expect(r.json.client).toBe('127.0.0.1');
    expect(r.json.seen).not.toContain(FORWARDED_FOR_HEADER);
  });

  it('drops hop-by-hop headers on the way up', async () => {
    const r = await call('GET', '/hop', { Connection: 'keep-alive, X-Hop', 'X-Hop': '1', 'Keep-Alive': 'timeout=5' });
    expect(r.json.seen).not.toContain('x-hop');
    expect(r.json.seen).not.toContain('keep-alive');
  });

  it('aborts the upstream request when the client resets its connection', async () => {
    const req = http.request({ host: '127.0.0.1', port: front.port, method: 'GET', path: '/hang', agent: false });
    req.on('error', () => {});
    req.end();
    await new Promise((r) => setTimeout(r, 200));
    req.socket!.resetAndDestroy();
    const late = new Promise<string>((r) => setTimeout(() => r('still running upstream after 20 s'), 20_000).unref());
    expect(await Promise.race([upstreamAborted.then(() => 'aborted'), late])).toBe('aborted');
  });
});
