// HTTP benchmark: durable adds/s from 64 concurrent keep-alive clients on
// 127.0.0.1 against `tilelog serve`, and against a bare hono handler with the
// same load generator in the same run. Also ack latency (p50/p99) and
// time-to-checkpoint (?wait=checkpoint latency, p50/p99).
//
// Two tilelog servers: the SQLite state in a worker thread (the default) and
// on the request thread (--no-sqlite-worker). Each round loads the bare
// handler and both servers back to back (the order rotates), and the figures
// are medians over BENCH_HTTP_RUNS rounds with [min-max]; the ratio to the
// bare handler is taken within each round. Beside throughput and latency:
// server CPU per 1,000 answers (whole process and its main thread, from
// /proc: the figure other jobs on a shared machine move least), the event
// loop's delay (p99 and max, monitorEventLoopDelay in the server), how many
// of the machine's cores were busy (every process counted) and the load average.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { cpuBetween, cpuSample, loopDelay, LOOP_DELAY_PRELOAD, type LoopDelay } from './proc-stats.js';
import { header, line, median, rate, freePort, runWrk } from './util.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const CONNECTIONS = 64;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const RUNS = Number(process.env.BENCH_HTTP_RUNS ?? 3);
/** Issue 14's target 2: durable adds at least this fraction of the bare handler's, ack p99 at most ACK_P99_MS. */
const TARGET_RATIO = 0.8;
const ACK_P99_MS = 50;


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
  const j = await runWrk(args);
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

interface Server {
  readonly name: string;
  readonly child: ChildProcess;
  readonly url: string;
  /** Where the server's loop-delay preload writes. */
  readonly delayFile: string;
}

interface Run {
  load: Load;
  /** Server CPU per 1,000 2xx answers: whole process, main thread (ms). */
  cpuPer1k: number;
  mainPer1k: number;
  delay: LoopDelay | null;
  /** Busy cores of the machine during the run (all processes), and the 1-minute load average after it. */
  busyCores: number;
  loadAvg: number;
}

async function startServer(name: string, dir: string, argv: string[]): Promise<Server> {
  const port = await freePort();
  const delayFile = path.join(dir, `${name.replace(/\W+/g, '-')}.delay`);
  const child = spawn(process.execPath, ['--import', LOOP_DELAY_PRELOAD, ...argv.map((a) => a.replace('<port>', String(port)))], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, BENCH_LOOP_DELAY_FILE: delayFile },
  });
  const url = `http://127.0.0.1:${port}`;
  await waitReady(url, child);
  await load(`${url}/add`, 2); // warm-up
  return { name, child, url, delayFile };
}

function tilelogArgs(dir: string, extra: string[]): string[] {
  return [
    path.join(root, 'dist/cli/main.js'),
    'serve',
    '--listen', '127.0.0.1:<port>',
    '--state', path.join(dir, 'state'),
    '--tiles', path.join(dir, 'tiles'),
    '--origin', 'bench.tilelog.example/log',
    '--log-level', 'warn',
    ...extra,
  ];
}

// measure: one load run against s, with the server's CPU, loop delay and the machine's business around it.
async function measure(s: Server, target: string): Promise<Run> {
  const pid = s.child.pid!;
  await loopDelay(pid, s.delayFile); // starts the histogram over
  const before = cpuSample(pid);
  const l = await load(`${s.url}${target}`, SECONDS);
  const use = cpuBetween(before, cpuSample(pid));
  const delay = await loopDelay(pid, s.delayFile);
  const answers = l.rps * SECONDS;
  return {
    load: l,
    cpuPer1k: (use.processMs / answers) * 1000,
    mainPer1k: (use.mainMs / answers) * 1000,
    delay,
    busyCores: use.machineCores,
    loadAvg: os.loadavg()[0]!,
  };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const done = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await done;
}

/** `median [min-max]` of xs, with digits decimals. */
function spread(xs: readonly number[], digits = 0, f: (x: number) => string = (x) => x.toFixed(digits)): string {
  return `${f(median(xs))} [${f(Math.min(...xs))}-${f(Math.max(...xs))}]`;
}

function describeRuns(name: string, runs: readonly Run[]): void {
  const bad = runs.reduce((a, r) => a + r.load.errors + r.load.non2xx, 0);
  console.log(`  ${name}:`);
  console.log(`    answers/s ${spread(runs.map((r) => r.load.rps), 0, rate)}, latency p50 ${spread(runs.map((r) => r.load.p50), 1)} ms, p99 ${spread(runs.map((r) => r.load.p99), 1)} ms${bad ? `, ${bad} errors/non-2xx` : ''}`);
  console.log(`    server CPU per 1,000 answers ${spread(runs.map((r) => r.cpuPer1k))} ms (main thread ${spread(runs.map((r) => r.mainPer1k))} ms)`);
  const delays = runs.map((r) => r.delay).filter((d): d is LoopDelay => d !== null);
  if (delays.length > 0) {
    console.log(`    event-loop delay p99 ${spread(delays.map((d) => d.p99), 1)} ms, max ${spread(delays.map((d) => d.max), 1)} ms`);
  }
  console.log(`    machine: ${spread(runs.map((r) => r.busyCores), 2)} of ${os.cpus().length} cores busy, load average ${spread(runs.map((r) => r.loadAvg), 1)}`);
}

export async function main(): Promise<void> {
  header(
    'HTTP: durable adds',
    `${CONNECTIONS} connections, ${SECONDS} s per run, ${RUNS} rounds, load generator: ${WRK ? 'wrk -t2 (Debian package)' : 'autocannon in the bench process (apt-get install wrk for a faster one)'}, load average at start ${os.loadavg()[0]!.toFixed(1)}`,
  );
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tilelog-bench-http-'));
  const servers: Server[] = [];
  try {
    const workerDir = path.join(dir, 'worker');
    const inlineDir = path.join(dir, 'inline');
    servers.push(await startServer('bare hono', dir, [path.join(here, 'servers/bare-hono.mjs'), '<port>']));
    servers.push(await startServer('tilelog /add (SQLite in a worker thread, the default)', dir, tilelogArgs(workerDir, [])));
    servers.push(await startServer('tilelog /add --no-sqlite-worker (SQLite on the request thread)', dir, tilelogArgs(inlineDir, ['--no-sqlite-worker'])));
    const runs: Run[][] = servers.map(() => []);
    for (let round = 0; round < RUNS; round++) {
      // Rotate the order, so a drift of the machine's load does not always favour the same server.
      for (let k = 0; k < servers.length; k++) {
        const i = (k + round) % servers.length;
        runs[i]!.push(await measure(servers[i]!, '/add'));
      }
    }
    const waits = [];
    for (const s of servers.slice(1)) waits.push(await measure(s, '/add?wait=checkpoint'));
    const sizes = [];
    for (const s of servers.slice(1)) sizes.push(((await (await fetch(`${s.url}/v1/log/info`)).json()) as { treeSize?: number }).treeSize);

    servers.forEach((s, i) => describeRuns(s.name, runs[i]!));
    const bare = runs[0]!;
    for (let i = 1; i < servers.length; i++) {
      const ours = runs[i]!;
      const ratios = ours.map((r, k) => r.load.rps / bare[k]!.load.rps);
      const short = i === 1 ? 'worker' : 'request thread';
      line(`durable adds/s (${short})`, `${rate(median(ours.map((r) => r.load.rps)))}/s`, 'bare hono', `${rate(median(bare.map((r) => r.load.rps)))}/s`, median(ratios));
      console.log(`    ratio per round ${ratios.map((x) => x.toFixed(2)).join(', ')}; target >= ${TARGET_RATIO}: ${median(ratios) >= TARGET_RATIO ? 'PASS' : 'MISS'}`);
      const p99 = median(ours.map((r) => r.load.p99));
      line(`ack latency p50 / p99 (${short})`, `${median(ours.map((r) => r.load.p50))} / ${p99} ms`, 'bare hono p99', `${median(bare.map((r) => r.load.p99))} ms`, p99 / Math.max(median(bare.map((r) => r.load.p99)), 1));
      console.log(`    ack p99 target <= ${ACK_P99_MS} ms: ${p99 <= ACK_P99_MS ? 'PASS' : 'MISS'}`);
      const cpu = median(ours.map((r) => r.cpuPer1k));
      line(`server CPU per 1,000 adds (${short})`, `${cpu.toFixed(0)} ms`, 'bare hono', `${median(bare.map((r) => r.cpuPer1k)).toFixed(0)} ms`, cpu / median(bare.map((r) => r.cpuPer1k)));
      const w = waits[i - 1]!;
      line(`time-to-checkpoint p50 / p99 (${short})`, `${w.load.p50} / ${w.load.p99} ms`, 'ack p99', `${p99} ms`, w.load.p99 / Math.max(p99, 1));
    }
    console.log(`  tree sizes after the runs: ${sizes.map((x) => x ?? '?').join(', ')}`);
  } finally {
    for (const s of servers) await stop(s.child);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
