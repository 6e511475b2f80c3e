// The servers under fuzz, as real child processes on 127.0.0.1 (port 0):
//   - `tilelog serve --registry --registry-ca` with an API key made by
//     `tilelog registry apikey`, rate limits lifted so valid writes get deep;
//   - `tilelog witness serve`, trusting a test log whose honest
//     add-checkpoint requests the fuzzer can make (TestLog).
import type { ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { runCli, startJsonCli, startServe, type ServeHandle } from '../cli/helpers.js';
import { TestLog } from '../witness/helpers.js';

export interface LogServer {
  serve: ServeHandle;
  port: number;
  apiKey: string;
  tiles: string;
}

export async function startLogServer(dir: string): Promise<LogServer> {
  const state = path.join(dir, 'log-state');
  const tiles = path.join(dir, 'log-tiles');
  const made = await runCli(['registry', 'apikey', '--state', state, '--owner', 'acme']);
  if (made.code !== 0) throw new Error(`registry apikey failed: ${made.stderr}`);
  const serve = await startServe([
    '--state', state, '--tiles', tiles, '--listen', '127.0.0.1:0', '--origin', 'fuzz.test/log', '--log-level', 'fatal',
    '--registry', '--no-registry-dns-validation', '--registry-ca',
    '--registry-rate-per-minute', '1000000', '--registry-burst', '1000000',
  ]);
  return { serve, port: Number(new URL(serve.url).port), apiKey: made.stdout.trim(), tiles };
}

export interface WitnessServer {
  child: ChildProcess;
  url: string;
  port: number;
  /** The log the witness trusts; its checkpoints are ours to sign. */
  log: TestLog;
  stderr: () => string;
  stop(): Promise<number | null>;
}

export const WITNESSED_ORIGIN = 'fuzz.test/witnessed';

export async function startWitnessServer(dir: string): Promise<WitnessServer> {
  const state = path.join(dir, 'witness-state');
  const keyFile = path.join(dir, 'witness.key');
  const log = new TestLog(WITNESSED_ORIGIN, 4096);
  for (const args of [
    ['witness', 'keygen', '--name', 'fuzz.test/witness', '--out', keyFile],
    ['witness', 'add-log', '--state', state, '--origin', WITNESSED_ORIGIN, '--key', log.vkey],
  ]) {
    const r = await runCli(args);
    if (r.code !== 0) throw new Error(`${args.slice(0, 2).join(' ')} failed: ${r.stderr}`);
  }
  const { child, summary, stderr, exited } = await startJsonCli<{ url: string }>(['witness', 'serve', '--state', state, '--key', keyFile, '--listen', '127.0.0.1:0', '--json']);
  const url = summary.url;
  return {
    child,
    url,
    port: Number(new URL(url).port),
    log,
    stderr,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
