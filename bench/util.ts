// Shared helpers for benchmarks: a header, medians, percentiles, one line
// per case with a baseline measured in the same run.
import { spawn } from 'node:child_process';
import * as os from 'node:os';

export function header(title: string, samples: string): void {
  console.log(`\n# ${title}`);
  console.log(
    `node ${process.version}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}), ${samples}`,
  );
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The q-quantile (0..1) of xs by nearest rank. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const rank = Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1));
  return s[rank]!;
}

export function rate(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return n.toFixed(0);
}

export function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** Prints `name  figure  baseline <label> <figure>  ×ratio`. */
export function line(name: string, figure: string, baselineLabel: string, baseline: string, ratio: number): void {
  console.log(`${name.padEnd(34)} ${figure.padStart(14)}   baseline ${baselineLabel} ${baseline}   ×${ratio.toFixed(2)}`);
}

export function timeIt(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

export async function timeItAsync(fn: () => Promise<void>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}


/** The summary a wrk Lua script of bench/servers prints as one `JSON {...}` line. */
export interface WrkSummary {
  requests: number;
  durationUs: number;
  p50Us: number;
  p99Us: number;
  errors: number;
  non2xx: number;
}

/** Runs wrk (Debian's package) with args and parses the script's JSON summary line. */
export async function runWrk(args: string[]): Promise<WrkSummary> {
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.on('error', reject);
    child.on('exit', () => resolve(text));
  });
  const m = /^JSON (.*)$/m.exec(out);
  if (m === null) throw new Error(`wrk printed no summary:\n${out}`);
  return JSON.parse(m[1]!) as WrkSummary;
}

export { freePort } from '../test/support/free-port.js';
