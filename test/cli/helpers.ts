// Runs the real CLI as a child process: node <the CLI bundled from src/ by
// test/global-setup.ts>.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { UsageError } from '../../src/cli/common.js';
import { CLI_BUNDLE } from '../cli-bundle.js';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const SHARED_VECTORS = fileURLToPath(new URL('../golden/', import.meta.url));

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  input?: string | Uint8Array;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

export function spawnCli(args: string[], opts: RunOptions = {}): ChildProcess {
  return spawn(process.execPath, [CLI_BUNDLE, ...args], {
    cwd: opts.cwd ?? REPO,
    env: { ...process.env, ...opts.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Runs the CLI to completion. */
export function runCli(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const child = spawnCli(args, opts);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin!.end(opts.input ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface ServeHandle {
  child: ChildProcess;
  url: string;
  verifierKey: string;
  origin: string;
  stderr: () => string;
  stop(signal?: NodeJS.Signals): Promise<RunResult>;
}

export interface JsonChild<T> {
  child: ChildProcess;
  /** The parsed first line the child printed on stdout (its --json startup summary). */
  summary: T;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code once the child has closed its streams. */
  exited: Promise<number | null>;
}

/** Starts the CLI with args (a server run with --json) and waits for its first stdout line. */
export async function startJsonCli<T>(args: string[], opts: RunOptions = {}, startMs = 60_000): Promise<JsonChild<T>> {
  const child = spawnCli(args, opts);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const what = args.slice(0, args[0] === 'witness' ? 2 : 1).join(' ');
  const summary = await new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start: ${stderr}`)), startMs);
    child.stdout!.on('data', (d: string) => {
      stdout += d;
      const nl = stdout.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(JSON.parse(stdout.slice(0, nl)) as T);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code}: ${stderr}`));
    });
  });
  return { child, summary, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Starts `tilelog serve --json ...` and waits (up to startMs) for its startup line. */
export async function startServe(args: string[], opts: RunOptions = {}, startMs = 30_000): Promise<ServeHandle> {
  const { child, summary, stdout, stderr, exited } = await startJsonCli<{ url: string; verifierKey: string; origin: string }>(
    ['serve', '--json', ...args],
    opts,
    startMs,
  );
  return {
    child,
    ...summary,
    stderr,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal);
      const code = await exited;
      return { code, stdout: stdout(), stderr: stderr() };
    },
  };
}

export function tempDir(prefix = 'tilelog-cli-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** The message of the UsageError that f throws (fails the test if f throws anything else or nothing). */
export function usageMessage(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error('expected a UsageError');
}

/** A JSON call to a served API with a bearer key: the status and the parsed answer. */
export async function callApi(baseUrl: string, apiKey: string, method: string, p: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${baseUrl}${p}`, {
    method,
    headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: await res.json() };
}
