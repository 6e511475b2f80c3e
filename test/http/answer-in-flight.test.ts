// Every request the server acted on gets its answer (src/http/answer-in-flight.ts),
// over raw sockets against a real server from startServer (the log's and the
// witness's): a complete POST /add followed by a half-close, or by pipelined
// garbage, is answered with its index, and that index holds the entry; a
// request whose body never arrived whole adds nothing.
import * as net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogApp, startServer, type RunningServer } from '../../src/http/index.js';
import { leafHash } from '../../src/merkle/index.js';
import { body, openTestWitness, SIGSUM_ORIGIN, SIGSUM_VKEY, sigsumNote } from '../witness/helpers.js';
import { openTestLog, type TestLog } from './helpers.js';

let t: TestLog;
let server: RunningServer;

beforeAll(async () => {
  t = await openTestLog();
  server = await startServer(createLogApp(t.log, { logError: () => {} }), { port: 0 });
});
afterAll(async () => {
  await server.close();
  await t.close();
});

interface Answer {
  status: number;
  body: string;
}

/**
 * Connects, writes the chunks, half-closes when asked, and collects every
 * byte until the server closes; resolves with the answers parsed in order.
 */
function exchange(chunks: (string | Uint8Array)[], halfClose: boolean, port = server.port): Promise<Answer[]> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const got: Buffer[] = [];
    socket.on('data', (d: Buffer) => got.push(d));
    socket.on('error', reject);
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer and no close: the connection hung')));
    socket.on('close', () => resolve(parseAnswers(Buffer.concat(got).toString('latin1'))));
    socket.on('connect', () => {
      for (const c of chunks) socket.write(c);
      if (halfClose) socket.end();
    });
  });
}

/** Sequential HTTP/1.1 answers with Content-Length bodies (what the app sends). */
function parseAnswers(text: string): Answer[] {
  const out: Answer[] = [];
  let rest = text;
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) throw new Error(`truncated answer: ${JSON.stringify(rest)}`);
    const head = rest.slice(0, end);
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
    // latin1 keeps one character per byte, so Content-Length counts right; the body is UTF-8.
    out.push({ status, body: Buffer.from(rest.slice(end + 4, end + 4 + length), 'latin1').toString('utf8') });
    rest = rest.slice(end + 4 + length);
  }
  return out;
}

function postAdd(entry: string, declaredLength = Buffer.byteLength(entry), path = '/add'): string {
  return `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\nContent-Length: ${declaredLength}\r\n\r\n${entry}`;
}

/** The entry at the answered index, once published. */
async function entryAt(index: number): Promise<string> {
  await t.log.waitForCheckpoint(index);
  return new TextDecoder().decode(await t.log.entry(index));
}

describe('a request acted on is answered', () => {
  it('a complete POST /add, then a half-close (FIN): the 200 with the index arrives, and the entry is there', async () => {
    const entry = `half-closed ${Math.random()}`;
    const answers = await exchange([postAdd(entry)], true);
    expect(answers.map((a) => a.status)).toEqual([200]);
    const { index } = JSON.parse(answers[0]!.body) as { index: number };
    expect(await entryAt(index)).toBe(entry);
  });

  it('a complete POST /add, then pipelined garbage: the first 200 with the index arrives, then the 400', async () => {
    const entry = `before garbage ${Math.random()}`;
    const answers = await exchange([postAdd(entry) + 'NOT HTTP AT ALL\r\n\r\n'], false);
    expect(answers[0]!.status).toBe(200);
    expect(answers.slice(1).map((a) => a.status)).toEqual([400]);
    const { index } = JSON.parse(answers[0]!.body) as { index: number };
    expect(await entryAt(index)).toBe(entry);
  });

  it('the same with garbage and a half-close, and with two adds before the garbage: every add answered in order', async () => {
    const a = `first ${Math.random()}`;
    const b = `second ${Math.random()}`;
    const answers = await exchange([postAdd(a) + postAdd(b) + '\x00\x01garbage'], true);
    expect(answers.slice(0, 2).map((x) => x.status)).toEqual([200, 200]);
    const [ia, ib] = answers.slice(0, 2).map((x) => (JSON.parse(x.body) as { index: number }).index) as [number, number];
    expect(await entryAt(ia)).toBe(a);
    expect(await entryAt(ib)).toBe(b);
  });
});

describe('the witness server (startServer too)', () => {
  it('a complete POST /add-checkpoint, then a half-close: the cosignature arrives, and the witness stored that checkpoint', async () => {
    const w = openTestWitness({ logs: [[SIGSUM_ORIGIN, SIGSUM_VKEY]] });
    const ws = await startServer(w.app, { port: 0 });
    try {
      const req = body(0, [], sigsumNote(1));
      const answers = await exchange([postAdd(req, Buffer.byteLength(req), '/add-checkpoint') + 'garbage\r\n\r\n'], true, ws.port);
      expect(answers[0]!.status).toBe(200);
      expect(answers[0]!.body).toMatch(/^— witness\.tilelog\.example\/w1 /);
      expect(w.store.latest(SIGSUM_ORIGIN)?.size).toBe(1);
    } finally {
      await ws.close();
      w.close();
    }
  });
});

describe('a request not acted on adds nothing', () => {
  it('a truncated body then a half-close: no 200, and neither the partial nor the declared entry is in the log', async () => {
    const publishedAdd = async () => {
      const res = await fetch(`${server.url}/add?wait=checkpoint`, { method: 'POST', body: `published ${Math.random()}` });
      expect(res.status).toBe(200);
      return t.log.checkpoint().size;
    };
    const before = await publishedAdd();
    const partial = `truncated ${Math.random()}`;
    const answers = await exchange([postAdd(partial, partial.length + 100)], true);
    expect(answers.map((a) => a.status)).not.toContain(200);
    // A later add, answered and published: the truncated one would have come first.
    expect(await publishedAdd()).toBe(before + 1);
    expect(await t.log.lookup(leafHash(new TextEncoder().encode(partial)))).toBeNull();
  });
});
