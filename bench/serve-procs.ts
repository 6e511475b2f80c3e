// Real processes for the HTTP-level PostgreSQL benchmark (pg-http.bench.ts):
// the S3 test server as a child (test/support/s3-server-main.ts, public
// reads), and `tilelog serve` (the built CLI, dist/cli/main.js) as children
// that can be SIGKILLed and restarted on the same port, as a supervisor would.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './util.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
// BENCH_TILELOG_CLI: another build's CLI (an A/B of two builds in one run).
const CLI = process.env.BENCH_TILELOG_CLI ?? path.join(ROOT, 'dist/cli/main.js');
export const S3_ENV = { AWS_ACCESS_KEY_ID: 'bench', AWS_SECRET_ACCESS_KEY: 'bench', AWS_REGION: 'us-east-1' };

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface S3Child {
  url: string;
  /** The server's process id (CPU accounting). */
  pid: number;
  close(): Promise<void>;
}

/** The test S3 server in a child process, one bucket, anonymous reads (to poll `checkpoint`). */
export async function startS3(bucket: string): Promise<S3Child> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/s3-server-main.ts', '--bucket', bucket, '--public-read'], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve((JSON.parse(out.slice(0, nl)) as { url: string }).url);
    });
    child.once('exit', (code) => reject(new Error(`the S3 test server exited (code ${code}) before listening`)));
  });
  return {
    url,
    pid: child.pid!,
    async close() {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.stdin!.end(); // it exits when its stdin closes
      await Promise.race([exited, sleep(3000).then(() => child.kill('SIGKILL'))]);
    },
  };
}

/** `tilelog keygen --origin origin --out file`. */
export function keygen(origin: string, file: string): void {
  const r = spawnSync(process.execPath, [CLI, 'keygen', '--origin', origin, '--out', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`keygen failed: ${r.stderr}`);
}

/** One `tilelog serve` on a fixed port: start(), kill() (SIGKILL), start() again (same args, same port). */
export class Serve {
  readonly url: string;
  #child: ChildProcess | null = null;
  #stderr = '';
  #exited: Promise<void> = Promise.resolve();
  /** The built CLI this process runs (another build's for an A/B). */
  cli = CLI;

  constructor(
    readonly name: string,
    readonly port: number,
    readonly args: readonly string[],
    /** Extra environment variables for the child. */
    readonly env: Readonly<Record<string, string>> = {},
    /** Options for node itself (e.g. --cpu-prof, which NODE_OPTIONS refuses). */
    readonly nodeArgs: readonly string[] = [],
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  get pid(): number | null {
    return this.#child?.pid ?? null;
  }

  /** The last 4 KiB of its stderr (for a failure message). */
  stderrTail(): string {
    return this.#stderr.slice(-4096);
  }

  /** Starts the process and resolves once it printed its --json startup line (the log is open). */
  async start(timeoutMs = 60_000): Promise<void> {
    const child = spawn(process.execPath, [...this.nodeArgs, this.cli, 'serve', '--json', '--listen', `127.0.0.1:${this.port}`, ...this.args], {
      cwd: ROOT,
      env: { ...process.env, ...S3_ENV, TILELOG_LOG_LEVEL: 'warn', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      this.#stderr = (this.#stderr + d).slice(-65536);
    });
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`${this.name} did not start within ${timeoutMs} ms:\n${this.stderrTail()}`)), timeoutMs);
      child.stdout!.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        if (out.includes('\n')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${this.name} exited (code ${code}) before it was ready:\n${this.stderrTail()}`));
      });
    });
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.#child !== null && this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill(signal);
    await this.#exited;
  }
}

/** Common `serve` arguments for a public tree at s3://bucket/prefix on the test server. */
export function s3Args(s3: S3Child, bucket: string, prefix: string): string[] {
  return ['--tiles', `s3://${bucket}/${prefix}`, '--s3-endpoint', s3.url, '--s3-force-path-style'];
}
