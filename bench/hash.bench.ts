// Raw SHA-256 rates of the candidate implementations on the two input
// shapes the tree hashes: 65-byte interior nodes and short leaves.
// This picks the hot-path hasher (the engine injects the winner), and, for
// 65-byte nodes only, compares sha256NodeInto (src/merkle/sha256-node.ts: plain
// JS specialised to that message, digest written in place, what proofs use to
// recompute subtrees from tiles) with the same baseline.
import * as crypto from 'node:crypto';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { sha256NodeInto } from '../src/merkle/sha256-node.js';
import { header, line, median, rate, timeIt } from './util.js';

const N = Number(process.env.BENCH_HASHES ?? 1_000_000);
const RUNS = 5;

function inputs(len: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < 1024; i++) out.push(crypto.randomBytes(len));
  return out;
}

type Impl = [name: string, fn: (d: Uint8Array) => Uint8Array];
const out = new Uint8Array(32);
const impls: Impl[] = [
  ['node crypto.hash', (d) => crypto.hash('sha256', d, 'buffer')],
  ['node createHash', (d) => crypto.createHash('sha256').update(d).digest()],
  ['@noble/hashes', (d) => nobleSha256(d)],
];
/** 65-byte inputs only: the 0x01 prefix is the function's own, so it hashes 0x01 || d[1, 65), the same amount of work. */
const nodeOnly: Impl = [
  'sha256NodeInto (JS, in place)',
  (d) => {
    sha256NodeInto(d, 1, out, 0);
    return out;
  },
];

export function hashRate(fn: (d: Uint8Array) => Uint8Array, data: Uint8Array[], n: number): number {
  const secs = timeIt(() => {
    for (let i = 0; i < n; i++) fn(data[i & 1023]!);
  });
  return n / secs;
}

export function main(): void {
  header('SHA-256 implementations', `${N} hashes per run, median of ${RUNS} runs`);
  for (const len of [65, 33]) {
    const data = inputs(len);
    const these = len === 65 ? [...impls, nodeOnly] : impls;
    const rates = these.map(([, fn]) => {
      hashRate(fn, data, 50_000); // warm-up
      return median(Array.from({ length: RUNS }, () => hashRate(fn, data, N)));
    });
    const base = rates[2]!; // @noble/hashes is the portable baseline
    these.forEach(([name], i) => {
      line(`${name} (${len} B)`, `${rate(rates[i]!)} hash/s`, '@noble/hashes', `${rate(base)}/s`, rates[i]! / base);
    });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) main();
