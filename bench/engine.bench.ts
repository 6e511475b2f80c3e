// Engine benchmark: integrating 1M entries into the tiled tree (leaf
// hashing, tile building, bundle encoding), against the raw rate of the
// same SHA-256 implementation doing the same number of hashes one-shot.
import * as crypto from 'node:crypto';
import { TreeEdge, makeHasher, encodeBundle, type Hash } from '../src/merkle/index.js';
import { header, line, median, rate, timeIt } from './util.js';

const N = Number(process.env.BENCH_ENTRIES ?? 1_000_000);
const BATCH = 4096;
const RUNS = 3;

const nodeSha256 = (d: Uint8Array): Uint8Array => crypto.hash('sha256', d, 'buffer');

/** Deterministic entries of 16..64 bytes, like small log records. */
export function makeEntries(n: number): Uint8Array[] {
  const out: Uint8Array[] = new Array(n);
  const seed = crypto.randomBytes(64);
  for (let i = 0; i < n; i++) {
    const len = 16 + (i % 49);
    const e = new Uint8Array(len);
    e.set(seed.subarray(0, len));
    new DataView(e.buffer).setUint32(0, i);
    out[i] = e;
  }
  return out;
}

function integrate(entries: Uint8Array[]): number {
  const hasher = makeHasher(nodeSha256);
  const edge = TreeEdge.empty();
  return timeIt(() => {
    for (let lo = 0; lo < entries.length; lo += BATCH) {
      const batch = entries.slice(lo, lo + BATCH);
      const leaves: Hash[] = batch.map((e) => hasher.leaf(e));
      edge.append(leaves, hasher);
      for (let b = 0; b < batch.length; b += 256) encodeBundle(batch.slice(b, b + 256));
      edge.root(hasher);
    }
  });
}

/** The same hashes done raw: one leaf hash per entry and one 65-byte node hash per entry. */
function rawHashes(entries: Uint8Array[]): number {
  const nodeInput = crypto.randomBytes(65);
  const prefixed = entries.map((e) => {
    const p = new Uint8Array(e.length + 1);
    p.set(e, 1);
    return p;
  });
  return timeIt(() => {
    for (let i = 0; i < prefixed.length; i++) {
      nodeSha256(prefixed[i]!);
      nodeSha256(nodeInput);
    }
  });
}

export function main(): void {
  header('engine: integrate entries into tiles', `${N} entries, batches of ${BATCH}, median of ${RUNS} runs`);
  const entries = makeEntries(N);
  integrate(entries.slice(0, 100_000)); // warm-up
  rawHashes(entries.slice(0, 100_000));
  const engine = median(Array.from({ length: RUNS }, () => N / integrate(entries)));
  const raw = median(Array.from({ length: RUNS }, () => N / rawHashes(entries)));
  line('integrate (node crypto.hash)', `${rate(engine)} entries/s`, 'raw crypto.hash, 2 hashes/entry', `${rate(raw)} entries/s`, engine / raw);
}

if (import.meta.url === `file://${process.argv[1]}`) main();
