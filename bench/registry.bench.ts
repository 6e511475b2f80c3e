// Registry benchmark (issue 14, target 1): registrations/s and latency
// p50/p99 through the agents API (POST /v1/agents, answered once a published
// checkpoint covers the entry) against raw `POST /add?wait=checkpoint` on a
// plain log, at 16 and 64 concurrent clients, with the same load generator
// (closed-loop.ts) in the same run. Runs alternate raw / registry and repeat;
// the lines give medians with the spread (min-max) and the ratio of medians.
// Target: registry >= 0.5x raw at each concurrency.
//
// Servers: `tilelog serve` (raw) and `tilelog serve --registry
// --no-registry-dns-validation` with rate limits lifted and one API key
// (made by `tilelog registry apikey` before the start), each in its own
// temp dir, both built from dist/ (npm run bench builds first).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { closedLoop, type LoadResult, type LoadTarget } from './closed-loop.js';
import { header, line, median, rate, freePort } from './util.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const cli = path.resolve(here, '../dist/cli/main.js');
const SECONDS = Number(process.env.BENCH_REGISTRY_SECONDS ?? process.env.BENCH_SECONDS ?? 5);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const CLIENTS = [16, 64];
const ORIGIN = 'bench.tilelog.example/log';


async function start(dir: string, extra: string[]): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [cli, 'serve', '--listen', `127.0.0.1:${port}`, '--state', path.join(dir, 'state'), '--tiles', path.join(dir, 'tiles'), '--origin', ORIGIN, ...extra],
    // The servers' own logs would interleave with the figures; a failed start is reported below.
    { stdio: ['ignore', 'ignore', 'ignore'] },
  );
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) return { url, child };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server at ${url} did not become ready`);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await done;
}

const run = Math.random().toString(36).slice(2, 8);
const publicKey = Buffer.alloc(32, 7).toString('base64');

function rawTarget(url: string): LoadTarget {
  return { url: `${url}/add?wait=checkpoint`, headers: { 'content-type': 'application/octet-stream' }, body: (n) => Buffer.from(`registry bench raw ${run} ${Date.now()} ${n} padding-padding`) };
}

function registryTarget(url: string, apiKey: string, round: string): LoadTarget {
  return {
    url: `${url}/v1/agents`,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
    body: (n) =>
      Buffer.from(JSON.stringify({ name: `ans://v1.0.0.a${n}.${round}.bench.example`, capabilities: ['bench'], endpoints: [{ protocol: 'A2A', url: 'https://bench.example/a2a' }], publicKey })),
  };
}

const spread = (xs: number[], f: (x: number) => string) => `${f(median(xs))} (${f(Math.min(...xs))}-${f(Math.max(...xs))})`;

export async function main(): Promise<void> {
  header('Registry writes vs raw POST /add?wait=checkpoint', `${REPEATS} alternating repeats of ${SECONDS} s per case, clients ${CLIENTS.join(' and ')}, closed-loop Node generator in the bench process`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tilelog-bench-registry-'));
  const servers: ChildProcess[] = [];
  try {
    const mk = spawnSync(process.execPath, [cli, 'registry', 'apikey', '--state', path.join(dir, 'reg/state'), '--owner', 'bench'], { encoding: 'utf8' });
    if (mk.status !== 0) throw new Error(`tilelog registry apikey failed: ${mk.stderr}`);
    const apiKey = mk.stdout.trim();
    const raw = await start(path.join(dir, 'raw'), []);
    servers.push(raw.child);
    const reg = await start(path.join(dir, 'reg'), ['--registry', '--no-registry-dns-validation', '--registry-rate-per-minute', '100000000', '--registry-burst', '1000000']);
    servers.push(reg.child);
    // Warm-up both (JIT, SQLite caches).
    await closedLoop(rawTarget(raw.url), 16, 1);
    await closedLoop(registryTarget(reg.url, apiKey, 'warm'), 16, 1);
    for (const clients of CLIENTS) {
      const raws: LoadResult[] = [];
      const regs: LoadResult[] = [];
      for (let k = 0; k < REPEATS; k++) {
        raws.push(await closedLoop(rawTarget(raw.url), clients, SECONDS));
        regs.push(await closedLoop(registryTarget(reg.url, apiKey, `c${clients}r${k}`), clients, SECONDS));
      }
      for (const [label, rs] of [['raw /add?wait=checkpoint', raws], ['registry POST /v1/agents', regs]] as const) {
        const bad = rs.reduce((s, r) => s + r.failed, 0);
        console.log(
          `  ${clients} clients, ${label}: ${spread(rs.map((r) => r.rps), rate)} req/s, p50 ${spread(rs.map((r) => r.p50), String)} ms, p99 ${spread(rs.map((r) => r.p99), String)} ms` +
            (bad > 0 ? `, ${bad} failed (first: ${rs.find((r) => r.firstFailure !== null)?.firstFailure})` : ''),
        );
      }
      const ratios = regs.map((r, k) => r.rps / raws[k]!.rps);
      line(`registry writes/s, ${clients} clients`, `${rate(median(regs.map((r) => r.rps)))}/s`, 'raw add?wait=checkpoint', `${rate(median(raws.map((r) => r.rps)))}/s`, median(regs.map((r) => r.rps)) / median(raws.map((r) => r.rps)));
      console.log(`  per-repeat ratios: ${ratios.map((x) => x.toFixed(2)).join(', ')} (target >= 0.5)`);
    }
  } finally {
    for (const s of servers) await stop(s);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
