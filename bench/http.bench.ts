// HTTP benchmark: durable adds/s from 64 concurrent keep-alive clients on
// 127.0.0.1 against `tilelog serve`, and against a bare hono handler with the
// same load generator in the same run. Also ack latency (p50/p99) and
// time-to-checkpoint (?wait=checkpoint latency, p50/p99).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { header, line, rate } from './util.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const CONNECTIONS = 64;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

async function waitReady(url: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server at ${url} did not become ready`);
}

interface Load {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

const runId = Math.random().toString(36).slice(2);
let seq = 0;

const WRK = spawnSync('wrk', ['--version']).error === undefined;

/** wrk (C, from Debian's package) is the faster generator; autocannon is the portable fallback. */
async function load(url: string, seconds: number, connections = CONNECTIONS): Promise<Load> {
  return WRK ? loadWrk(url, seconds, connections) : loadAutocannon(url, seconds, connections);
}

async function loadWrk(url: string, seconds: number, connections: number): Promise<Load> {
  const args = ['-t', '2', '-c', String(connections), '-d', `${seconds}s`, '--timeout', '10s'];
  args.push('-s', path.join(here, 'servers/unique-post.lua'), url);
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.on('error', reject);
    child.on('exit', () => resolve(text));
  });
  const m = /^JSON (.*)$/m.exec(out);
  if (m === null) throw new Error(`wrk printed no summary:\n${out}`);
  const j = JSON.parse(m[1]!) as { requests: number; durationUs: number; p50Us: number; p99Us: number; errors: number; non2xx: number };
  return {
    rps: j.requests / (j.durationUs / 1e6),
    p50: Math.round(j.p50Us / 100) / 10,
    p99: Math.round(j.p99Us / 100) / 10,
    errors: j.errors,
    non2xx: j.non2xx,
  };
}

async function loadAutocannon(url: string, seconds: number, connections: number): Promise<Load> {
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        // Unique entries, so deduplication never short-circuits the durable path.
        setupRequest: (req) => ({ ...req, body: `bench entry ${runId} ${seq++} padding-padding` }),
      },
    ],
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors,
    non2xx: result.non2xx,
  };
}

function startTilelog(port: number, dir: string): ChildProcess {
  return spawn(
    process.execPath,
    [
      path.join(root, 'dist/cli/main.js'),
      'serve',
      '--listen', `127.0.0.1:${port}`,
      '--state', path.join(dir, 'state'),
      '--tiles', path.join(dir, 'tiles'),
      '--origin', 'bench.tilelog.example/log',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
}

function startBare(port: number): ChildProcess {
  return spawn(process.execPath, [path.join(here, 'servers/bare-hono.mjs'), String(port)], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await done;
}

function report(label: string, l: Load): void {
  const bad = l.errors + l.non2xx;
  console.log(`  ${label}: ${rate(l.rps)} req/s, latency p50 ${l.p50} ms, p99 ${l.p99} ms${bad ? `, ${bad} errors/non-2xx` : ''}`);
}

export async function main(): Promise<void> {
  header('HTTP: durable adds', `${CONNECTIONS} connections, ${SECONDS} s per run, load generator: ${WRK ? 'wrk -t2 (Debian package)' : 'autocannon in the bench process (apt-get install wrk for a faster one)'}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tilelog-bench-http-'));
  try {
    const barePort = await freePort();
    const bare = startBare(barePort);
    await waitReady(`http://127.0.0.1:${barePort}`, bare);
    await load(`http://127.0.0.1:${barePort}/add`, 2); // warm-up
    const baseline = await load(`http://127.0.0.1:${barePort}/add`, SECONDS);
    await stop(bare);

    const port = await freePort();
    const server = startTilelog(port, dir);
    const url = `http://127.0.0.1:${port}`;
    await waitReady(url, server);
    await load(`${url}/add`, 2);
    const adds = await load(`${url}/add`, SECONDS);
    const waits = await load(`${url}/add?wait=checkpoint`, SECONDS);
    const info = (await (await fetch(`${url}/v1/log/info`)).json()) as { treeSize?: number };
    await stop(server);

    report('bare hono   ', baseline);
    report('tilelog /add', adds);
    report('tilelog /add?wait=checkpoint', waits);
    line('durable adds/s', `${rate(adds.rps)}/s`, 'bare hono', `${rate(baseline.rps)}/s`, adds.rps / baseline.rps);
    line('ack latency p50 / p99', `${adds.p50} / ${adds.p99} ms`, 'bare hono p99', `${baseline.p99} ms`, adds.p99 / Math.max(baseline.p99, 1));
    line('time-to-checkpoint p50 / p99', `${waits.p50} / ${waits.p99} ms`, 'ack p99', `${adds.p99} ms`, waits.p99 / Math.max(adds.p99, 1));
    console.log(`  tree size after the runs: ${info.treeSize ?? '?'}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
