// SIGKILL of a real `tilelog serve` under concurrent HTTP adds, with the
// SQLite state in its worker thread (the default) and on the request thread
// (--no-sqlite-worker): every add answered 200 {"index": i} before the kill
// is, after a restart, entry i with the same bytes, inside the published
// tree; and the restarted server signs the same root for every size it had
// published before (no fork).
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { startServe, tempDir } from '../cli/helpers.js';

const CLIENTS = 16;
const ROUNDS = 2;

interface Acked {
  index: number;
  entry: string;
}

// post: one add on a keep-alive agent; the parsed index, or null for anything but a 200 (the kill cuts answers off).
function post(agent: http.Agent, url: URL, body: string): Promise<number | null> {
  return new Promise((resolve) => {
    const req = http.request({ agent, host: url.hostname, port: url.port, path: '/add', method: 'POST' }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => resolve(res.statusCode === 200 ? (JSON.parse(text) as { index: number }).index : null));
      res.on('error', () => resolve(null));
    });
    req.on('error', () => resolve(null));
    req.end(body);
  });
}

// addUntilKilled: CLIENTS closed loops of adds; once `killAfter` adds were answered, SIGKILL the server.
async function addUntilKilled(baseUrl: string, tag: string, killAfter: number, kill: () => void): Promise<Acked[]> {
  const url = new URL(baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
  const acked: Acked[] = [];
  let n = 0;
  let killed = false;
  const client = async (): Promise<void> => {
    for (;;) {
      const entry = `${tag}-${n++}`;
      const index = await post(agent, url, entry);
      if (index === null) return; // the server is gone
      acked.push({ index, entry });
      if (!killed && acked.length >= killAfter) {
        killed = true;
        kill();
      }
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, client));
  agent.destroy();
  return acked;
}

/** Entry index as the server's proof bundle gives it (only for an index inside the published tree), or the status. */
async function publishedEntry(baseUrl: string, index: number): Promise<string> {
  const r = await fetch(`${baseUrl}/v1/log/entry/${index}`);
  if (r.status !== 200) return `status ${r.status}`;
  const bundle = (await r.json()) as { entry: string };
  return Buffer.from(bundle.entry, 'base64').toString('utf8');
}

/** Every acknowledged entry is published at its index (16 requests at a time). */
async function expectPublished(baseUrl: string, acked: readonly Acked[]): Promise<void> {
  for (let k = 0; k < acked.length; k += 16) {
    const slice = acked.slice(k, k + 16);
    const got = await Promise.all(slice.map((a) => publishedEntry(baseUrl, a.index)));
    slice.forEach((a, i) => expect(got[i], `entry ${a.index}`).toBe(a.entry));
  }
}

async function text(url: string): Promise<{ status: number; body: string }> {
  const r = await fetch(url);
  return { status: r.status, body: await r.text() };
}

describe.each([
  ['in a worker thread', []],
  ['on the request thread', ['--no-sqlite-worker']],
])('serve with the SQLite state %s, SIGKILLed under load', (_name, flags) => {
  const dir = tempDir('tilelog-serve-kill-');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const args = ['--listen', '127.0.0.1:0', '--state', path.join(dir, 'state'), '--tiles', path.join(dir, 'tiles'), '--origin', 'kill.tilelog.example/log', ...flags];

  test(`${ROUNDS} kills: every acknowledged add is durable at its index; no size gets a second root`, async () => {
    const acked: Acked[] = [];
    const roots = new Map<number, string>();
    let checked = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const srv = await startServe(args);
      // What the restarted server publishes must agree with everything published before.
      const cp = (await text(`${srv.url}/checkpoint`)).body.split('\n');
      const [size, root] = [Number(cp[1]), cp[2]!];
      if (roots.has(size)) expect(root, `size ${size} after restart ${round}`).toBe(roots.get(size));
      roots.set(size, root);
      // Everything acknowledged before the last kill is there (earlier rounds' are checked again at the end).
      expect(size).toBeGreaterThanOrEqual(acked.length === 0 ? 0 : Math.max(...acked.map((a) => a.index)) + 1);
      await expectPublished(srv.url, acked.slice(checked));
      checked = acked.length;
      const killAfter = 50 + Math.floor(Math.random() * 400);
      acked.push(...(await addUntilKilled(srv.url, `r${round}`, killAfter, () => srv.child.kill('SIGKILL'))));
      const { code } = await srv.stop();
      expect(code).toBe(null); // killed, not exited
    }
    // The last round's acknowledgements, checked after one more restart.
    const srv = await startServe(args);
    try {
      await expectPublished(srv.url, acked);
      expect(new Set(acked.map((a) => a.index)).size).toBe(acked.length); // no index handed out twice
      expect(acked.length).toBeGreaterThan(ROUNDS * 50);
    } finally {
      await srv.stop();
    }
  });
});
