// Helpers of scale.bench.ts: a `tilelog serve` child process on a state and
// tiles directory (start until /readyz answers 200, its RSS from /proc, a
// graceful stop), a keep-alive GET client for proof latency, the bulk fill
// through the engine in process, and the on-disk sizes.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openFileLog } from '../src/log/index.js';
import type { NoteSigner } from '../src/note/index.js';
import { freePort } from './util.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');

export const ORIGIN = 'bench.tilelog.example/scale';
/** Bytes per bench entry: about a short signed statement. */
export const ENTRY_BYTES = 100;


export interface Server {
  child: ChildProcess;
  url: string;
  /** ms from spawn until /readyz answered 200. */
  startMs: number;
  /** CPU ms (user + system) the server used until then: less sensitive than startMs to other load on the machine. */
  startCpuMs: number;
}

/** The CLI the bench runs; BENCH_TILELOG_CLI points at another build (an A/B run against an older commit). */
const CLI = process.env.BENCH_TILELOG_CLI ?? path.join(root, 'dist/cli/main.js');

// startServer: spawns `tilelog serve` (the built CLI, as an operator runs it)
// and polls /readyz every 5 ms; the restart time is spawn -> first 200.
export async function startServer(dir: string, cli = CLI): Promise<Server> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const t0 = performance.now();
  const child = spawn(
    process.execPath,
    [
      cli,
      'serve',
      '--listen', `127.0.0.1:${port}`,
      '--state', path.join(dir, 'state'),
      '--tiles', path.join(dir, 'tiles'),
      '--origin', ORIGIN,
      '--log-level', 'warn',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  for (;;) {
    if (child.exitCode !== null) throw new Error(`tilelog serve exited with ${child.exitCode}`);
    if ((await getStatus(`${url}/readyz`)) === 200) {
      return { child, url, startMs: performance.now() - t0, startCpuMs: processCpuMs(child.pid!) };
    }
    if (performance.now() - t0 > 600_000) throw new Error(`tilelog serve at ${url} was not ready within 10 min`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function getStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
  });
}

export async function stopServer(s: Server): Promise<void> {
  if (s.child.exitCode !== null) return;
  const done = new Promise((r) => s.child.once('exit', r));
  s.child.kill('SIGTERM');
  await done;
}

/** Resident set size now and its peak (VmHWM) of a process, bytes (Linux /proc). */
export function processRss(pid: number): { rss: number; peak: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/** CPU time (user + system, ms) a process has used so far (Linux /proc). */
export function processCpuMs(pid: number): number {
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/** One keep-alive connection; get() resolves with the status, body and ms taken. */
export class Getter {
  readonly #agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  constructor(readonly base: string) {}

  get(pathname: string): Promise<{ status: number; body: string; ms: number }> {
    const t0 = performance.now();
    return new Promise((resolve, reject) => {
      const req = http.get(`${this.base}${pathname}`, { agent: this.#agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), ms: performance.now() - t0 }));
      });
      req.on('error', reject);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}

/** Entry i of the fill: unique (dedup never short-circuits it), ENTRY_BYTES long. */
export function fillEntry(runId: string, i: number): Uint8Array {
  const b = Buffer.alloc(ENTRY_BYTES, 0x2e);
  b.write(`scale ${runId} ${i} `, 'latin1');
  return b;
}

export interface FillResult {
  added: number;
  seconds: number;
}

// fill: grows the log to `target` entries in process through the engine's
// own path (openFileLog: durable SQLite batches, tiles, signed checkpoints),
// with many adds in flight so batches are large; resolves once `target` is
// published, then closes the log (the server is stopped meanwhile: one
// process per state directory).
export async function fill(dir: string, signer: NoteSigner & { verifierKey: string }, target: number, runId: string, onProgress: (size: number) => void): Promise<FillResult> {
  const log = await openFileLog({
    origin: ORIGIN,
    signer,
    stateDir: path.join(dir, 'state'),
    tilesDir: path.join(dir, 'tiles'),
    batchMaxEntries: 16_384,
    maxPendingEntries: 1 << 20,
    logger: { info() {}, warn: console.warn, error: console.error },
  });
  const start = log.stats().sequenced;
  const t0 = performance.now();
  try {
    let next = start;
    let lastReport = start;
    const worker = async (): Promise<void> => {
      while (next < target) {
        const i = next++;
        await log.add(fillEntry(runId, i));
        if (i - lastReport >= 1_000_000) {
          lastReport = i;
          onProgress(i);
        }
      }
    };
    await Promise.all(Array.from({ length: 32_768 }, worker));
    if (target > 0) await log.waitForCheckpoint(target - 1);
  } finally {
    await log.close();
  }
  return { added: Math.max(0, target - start), seconds: (performance.now() - t0) / 1000 };
}

/** Bytes of the SQLite files (database and WAL). */
export function sqliteBytes(stateDir: string): number {
  let total = 0;
  for (const name of ['log.db', 'log.db-wal']) {
    try {
      total += fs.statSync(path.join(stateDir, name)).size;
    } catch {
      // no WAL after a clean close
    }
  }
  return total;
}

/** Bytes of every regular file under dir (the public tree as a static server sees it). */
export function treeBytes(dir: string): number {
  let total = 0;
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) total += fs.statSync(p).size;
    }
  };
  walk(dir);
  return total;
}
