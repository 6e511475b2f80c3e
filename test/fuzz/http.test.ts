// Whole-product HTTP fuzz (issue 11 item 5). Real servers as child processes:
// `tilelog serve --registry --registry-ca` and `tilelog witness serve`. Every
// route of each one's /openapi.json gets mutated methods, paths, queries,
// headers, bodies and framing over raw sockets, mixed with valid operations
// (adds, registrations, agent writes, certificates, cosignings) so the fuzzer
// reaches deep code. Checked: no 5xx (503 LOG_PUSHBACK with Retry-After only,
// see harness.ts), no hang, no crash, the tree grows only by answered writes,
// and the tiles still audit.
//
// Bounded by default (about 2,600 drafts and requests, with the fixed cases). Longer runs and replays:
//   TILELOG_FUZZ_RUNS=200000 npx vitest run test/fuzz     (drafts in total, 3/4 to the log)
//   TILELOG_FUZZ_SEED=<seed printed on failure> npx vitest run test/fuzz
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as net from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../cli/helpers.js';
import { makeCsr } from '../ca/helpers.js';
import { Fuzzer, HANG_BOUND_MS } from './harness.js';
import { exchange } from './raw-http.js';
import { logValidDraft, mutatedDraft, routesFromOpenApi, witnessValidDraft, type MutatedDraft, type ValidDraft } from './requests.js';
import { startLogServer, startWitnessServer, type LogServer, type WitnessServer } from './servers.js';

const TOTAL_RUNS = Number(process.env.TILELOG_FUZZ_RUNS ?? 0) || 2_600;
const LONG = process.env.TILELOG_FUZZ_RUNS !== undefined;
const SEED = Number(process.env.TILELOG_FUZZ_SEED ?? 0) || Math.floor(Math.random() * 2 ** 31);
const LOG_RUNS = Math.ceil((TOTAL_RUNS * 3) / 4);
const WITNESS_RUNS = TOTAL_RUNS - LOG_RUNS;
// Generous bounds for a loaded 2-core machine; an idle run takes a fraction (see the README).
const PROPERTY_TIMEOUT_MS = LONG ? 24 * 3600_000 : 240_000;

let dir: string;
let log: LogServer;
let witness: WitnessServer;
let fuzzer: Fuzzer;
let initialSize: number;
const idle: Promise<{ what: string; closedAfterMs: number | null }>[] = [];

async function getJson(url: string): Promise<any> {
  const res = await fetch(url);
  expect(res.status, url).toBe(200);
  return res.json();
}

/**
 * Sends about `drafts` drafts in runs of 1..8 sent at once (the server's own
 * waits, e.g. for a checkpoint, overlap), with the shared seed; a failure
 * names the seed to replay.
 */
async function assertWithSeed<T>(arb: fc.Arbitrary<T>, drafts: number, check: (t: T) => Promise<void>): Promise<void> {
  let first: Error | null = null;
  try {
    const batch = fc.array(arb, { minLength: 1, maxLength: 8 });
    const numRuns = Math.max(1, Math.round(drafts / 4.5));
    const remember = async (t: T) => {
      try {
        await check(t);
      } catch (err) {
        first ??= err as Error;
        throw err;
      }
    };
    await fc.assert(fc.asyncProperty(batch, async (ts) => void (await Promise.all(ts.map(remember)))), { numRuns, seed: SEED, endOnFailure: true });
  } catch (err) {
    // Our own message names the request; fast-check's counterexample (whole bodies) is left out.
    const where = (err as Error).message.split('\n').slice(0, 2).join(' ');
    throw new Error(`fuzz failure; replay with TILELOG_FUZZ_SEED=${SEED}${LONG ? ` TILELOG_FUZZ_RUNS=${TOTAL_RUNS}` : ''} (${where})\n${(first as Error | null)?.message ?? (err as Error).message.slice(0, 2000)}`);
  }
}

/** A connection the server must close by its own timeouts; resolves with how long that took (null: still open at the bound). */
function idleConnection(port: number, what: string, send: string, boundMs: number): Promise<{ what: string; closedAfterMs: number | null }> {
  return new Promise((resolve) => {
    const start = Date.now();
    const socket = net.connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => (socket.destroy(), resolve({ what, closedAfterMs: null })), boundMs);
    socket.on('connect', () => socket.write(send));
    socket.on('data', () => {});
    socket.on('error', () => {});
    socket.on('close', () => (clearTimeout(timer), resolve({ what, closedAfterMs: Date.now() - start })));
  });
}

beforeAll(async () => {
  dir = tempDir('tilelog-fuzz-');
  [log, witness] = await Promise.all([startLogServer(dir), startWitnessServer(dir)]);
  const csrs = ['c1', 'c2', 'c3'].map((n) => makeCsr(dir, n).csr);
  fuzzer = new Fuzzer({ logPort: log.port, witnessPort: witness.port, apiKey: log.apiKey, witnessed: witness.log, csrs });
  initialSize = (await getJson(`${log.serve.url}/v1/log/info`)).treeSize as number;
  fuzzer.books.knownSize = initialSize;
  await fuzzer.refreshWitnessBody();
  // Idle and slow connections, left open while the fuzz runs: the server's
  // header, request and keep-alive timeouts must close each one. The bound
  // covers Node's headersTimeout (10 s) plus its 30 s check interval.
  const bound = 90_000;
  for (const [port, name] of [[log.port, 'log'], [witness.port, 'witness']] as const) {
    idle.push(idleConnection(port, `${name}: no bytes`, '', bound));
    idle.push(idleConnection(port, `${name}: half a request line`, 'GET /checkpo', bound));
    idle.push(idleConnection(port, `${name}: headers never end`, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1\r\n', bound));
    idle.push(idleConnection(port, `${name}: body never comes`, 'POST /add HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\nabc', bound));
    idle.push(idleConnection(port, `${name}: idle keep-alive after an answer`, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', bound));
  }
  console.log(`tilelog fuzz: seed ${SEED}, ${LOG_RUNS} log drafts, ${WITNESS_RUNS} witness drafts (replay: TILELOG_FUZZ_SEED=${SEED})`);
}, 120_000);

afterAll(async () => {
  await log?.serve.stop();
  await witness?.stop();
  if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
});

describe('whole-product HTTP fuzz', () => {
  it('the log (with registry and CA): every route of /openapi.json, mutated and valid, never a 5xx or a hang', async () => {
    const routes = routesFromOpenApi(await getJson(`${log.serve.url}/openapi.json`), 'log');
    expect(routes.length).toBeGreaterThan(30);
    const draft: fc.Arbitrary<ValidDraft | MutatedDraft> = fc.oneof(
      { weight: 2, arbitrary: logValidDraft },
      { weight: 5, arbitrary: mutatedDraft(routes, (r) => fuzzer.validBody(r)) },
    );
    await assertWithSeed(draft, LOG_RUNS, async (d) => {
      await fuzzer.send(d.op === 'mutated' ? fuzzer.resolveMutated(d) : await fuzzer.resolveValid(d));
    });
    // The valid part reached deep: entries were added, agents registered, certificates issued.
    expect(fuzzer.books.indexes.size).toBeGreaterThan(LOG_RUNS / 20);
    expect(fuzzer.books.names.length).toBeGreaterThan(0);
    if (!LONG) expect(fuzzer.books.serials.length).toBeGreaterThan(0);
  }, PROPERTY_TIMEOUT_MS);

  it('the witness: every route of its /openapi.json, malformed signed notes and honest cosignings, never a 5xx or a hang', async () => {
    const routes = routesFromOpenApi(await getJson(`${witness.url}/openapi.json`), 'witness');
    expect(routes.map((r) => r.template)).toContain('/add-checkpoint');
    const before = fuzzer.books.witnessSize;
    const draft: fc.Arbitrary<ValidDraft | MutatedDraft> = fc.oneof(
      { weight: 1, arbitrary: witnessValidDraft },
      { weight: 2, arbitrary: mutatedDraft(routes, (r) => fuzzer.validBody(r)) },
    );
    await assertWithSeed(draft, WITNESS_RUNS, async (d) => {
      if (d.op === 'mutated') await fuzzer.refreshWitnessBody();
      await fuzzer.send(d.op === 'mutated' ? fuzzer.resolveMutated(d) : await fuzzer.resolveValid(d));
    });
    expect(fuzzer.books.witnessSize).toBeGreaterThan(before);
  }, PROPERTY_TIMEOUT_MS);

  it('raw framing errors and smuggling shapes on both servers: a 4xx or a close, never a 5xx or a hang', async () => {
    const shapes: [string, string | Buffer, boolean][] = [
      ['bare LF everywhere', 'GET /checkpoint HTTP/1.1\nHost: 127.0.0.1\nConnection: close\n\n', false],
      ['CL.TE', 'POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nG', true],
      ['TE.CL', 'POST /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n', true],
      ['TE with obs-fold', 'POST /add HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:\r\n chunked\r\n\r\n5\r\nhello\r\n', true],
      ['TE: xchunked', 'POST /add HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n5\r\nhello\r\n', true],
      ['duplicate Content-Length', 'POST /add HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!', true],
      ['Content-Length list', 'POST /add HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\nhello', true],
      ['chunk size overflow', 'POST /add HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\nx', true],
      ['chunk without CRLF', 'POST /add HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n', true],
      ['NUL in the request line', 'GET /check\0point HTTP/1.1\r\nHost: x\r\n\r\n', true],
      ['HTTP/0.9', 'GET /checkpoint\r\n\r\n', true],
      ['HTTP/9.9', 'GET /checkpoint HTTP/9.9\r\nHost: x\r\n\r\n', true],
      ['a 70 KB header', `GET /checkpoint HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(70_000)}\r\n\r\n`, true],
      ['5,000 headers', `GET /checkpoint HTTP/1.1\r\nHost: x\r\n${'X-A: b\r\n'.repeat(5000)}\r\n`, true],
      ['10 KB request line', `GET /${'a'.repeat(10_240)} HTTP/1.1\r\nHost: x\r\n\r\n`, true],
      ['binary garbage', Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03]), true],
      ['HTTP/2 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', true],
      ['truncated request line', 'GET /chec', true],
    ];
    for (const port of [log.port, witness.port]) {
      for (const [what, bytes, halfClose] of shapes) {
        const x = await exchange(port, { send: Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes, 'utf8'), halfClose, expect: 2, boundMs: HANG_BOUND_MS });
        expect(x.hung, what).toBe(false);
        for (const a of x.responses) expect(a.status, `${what}: ${a.body.toString('utf8').slice(0, 200)}`).toBeLessThan(500);
        fuzzer.books.sent++;
      }
    }
  }, 120_000);

  it('idle and slow connections are closed by the server', async () => {
    for (const r of await Promise.all(idle)) expect(r.closedAfterMs, r.what).not.toBeNull();
  }, 240_000);

  it('afterwards: both servers alive and healthy, the tree grew only by answered writes, and the tiles audit', async () => {
    expect(log.serve.child.exitCode).toBeNull();
    expect(witness.child.exitCode).toBeNull();
    expect((await fetch(`${log.serve.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${witness.url}/metrics`)).status).toBe(200);

    // Let pending writes settle into a published checkpoint.
    const b = fuzzer.books;
    const answered = [...b.indexes];
    const published = async () => Number((await (await fetch(`${log.serve.url}/checkpoint`)).text()).split('\n')[1]);
    const highest = answered.reduce((m, i) => Math.max(m, i), -1);
    let size = await published();
    for (let i = 0; i < 300 && size < highest + 1; i++) {
      await new Promise((r) => setTimeout(r, 100));
      size = await published();
    }
    // Every answered index is in the tree; every entry past the start is an answered write or a reported revocation.
    expect(answered.filter((i) => i >= size)).toEqual([]);
    const added = answered.filter((i) => i >= initialSize).length;
    expect(size - initialSize, `entries added: ${size - initialSize}; answered indexes: ${added}; revocations reported: ${b.revokedSerials.size}`).toBe(added + b.revokedSerials.size);

    const audit = await runCli(['audit', log.tiles, '--log-key', log.serve.verifierKey], { timeoutMs: 120_000 });
    expect(audit.code, audit.stdout + audit.stderr).toBe(0);

    const statuses = [...b.statuses].sort((x, y) => x[0] - y[0]).map(([s, n]) => `${s}:${n}`).join(' ');
    console.log(`tilelog fuzz: ${b.sent} requests (seed ${SEED}); tree ${initialSize} -> ${size}; statuses ${statuses}; ` +
      `closed without an answer ${b.closedUnanswered} (${b.closedExamples.join('; ')}); pushbacks ${b.pushbacks}`);
    expect(path.isAbsolute(dir)).toBe(true);
  }, 180_000);
});
