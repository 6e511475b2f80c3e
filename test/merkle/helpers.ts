// Shared test helpers for test/merkle: vector paths, hashers, a naive
// recursive RFC 6962 reference, and an in-memory stored-hash reader.
import { createHash, hash as nodeHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Hash, HashReader, Hasher } from '../../src/merkle/index.js';
import { EMPTY_ROOT, defaultHasher, makeHasher, storedHashIndex, fromBase64Strict } from '../../src/merkle/index.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const vectorsDir = path.resolve(repoRoot, 'test/golden');

// SHA-256 from node:crypto, as the engine injects it (crypto.hash when present).
const hashFn = nodeHash as unknown as ((alg: string, data: Uint8Array, enc: 'buffer') => Uint8Array) | undefined;
export const nodeCryptoHasher: Hasher = makeHasher(
  typeof hashFn === 'function'
    ? (data) => hashFn('sha256', data, 'buffer')
    : (data) => createHash('sha256').update(data).digest(),
);

export const hashers: [string, Hasher][] = [
  ['noble', defaultHasher],
  ['node:crypto', nodeCryptoHasher],
];

/** The 70,000 golden entries. */
export function loadEntries(): Uint8Array[] {
  const text = readFileSync(path.join(vectorsDir, 'entries.b64'), 'utf8');
  return text.split('\n').filter((l) => l !== '').map((l) => fromBase64Strict(l));
}

/** Root hash from a checkpoint file: its third line, standard base64. */
export function checkpointRoot(size: number): { size: number; root: Uint8Array } {
  const lines = readFileSync(path.join(vectorsDir, 'checkpoints', String(size)), 'utf8').split('\n');
  return { size: Number(lines[1]), root: fromBase64Strict(lines[2]!, 32) };
}

/** Every file under dir, as paths relative to base with '/' separators. */
export function listFiles(dir: string, base = dir): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listFiles(p, base));
    else out.push(path.relative(base, p).split(path.sep).join('/'));
  }
  return out.sort();
}

// --- naive recursive RFC 6962 reference (independent of src/merkle's algorithms) ---
// MTH(D[lo:hi]) is memoized per (lo, hi) so that checking every size stays cheap.

export class RefTree {
  readonly #memo = new Map<string, Hash>();
  constructor(
    readonly leaves: readonly Hash[],
    readonly h: Hasher = nodeCryptoHasher,
  ) {}

  static split(n: number): number {
    let k = 1;
    while (k * 2 < n) k *= 2;
    return k;
  }

  mth(lo: number, hi: number): Hash {
    const n = hi - lo;
    if (n <= 0) throw new Error('ref: empty range');
    if (n === 1) return this.leaves[lo]!;
    const key = `${lo},${hi}`;
    let r = this.#memo.get(key);
    if (r === undefined) {
      const k = RefTree.split(n);
      r = this.h.node(this.mth(lo, lo + k), this.mth(lo + k, hi));
      this.#memo.set(key, r);
    }
    return r;
  }

  root(size: number): Hash {
    return size === 0 ? EMPTY_ROOT : this.mth(0, size);
  }

  // PATH(m, D[lo:hi]), leaf to root.
  path(m: number, lo: number, hi: number): Hash[] {
    const n = hi - lo;
    if (n === 1) return [];
    const k = RefTree.split(n);
    if (m < k) return [...this.path(m, lo, lo + k), this.mth(lo + k, hi)];
    return [...this.path(m - k, lo + k, hi), this.mth(lo, lo + k)];
  }

  // SUBPROOF(m, D[lo:hi], b).
  subproof(m: number, lo: number, hi: number, b: boolean): Hash[] {
    const n = hi - lo;
    if (m === n) return b ? [] : [this.mth(lo, hi)];
    const k = RefTree.split(n);
    if (m <= k) return [...this.subproof(m, lo, lo + k, b), this.mth(lo + k, hi)];
    return [...this.subproof(m - k, lo + k, hi, false), this.mth(lo, lo + k)];
  }
}

/** Leaf hashes of n deterministic entries. */
export function makeLeaves(n: number, seed = 0): Hash[] {
  const out: Hash[] = [];
  for (let i = 0; i < n; i++) {
    out.push(nodeCryptoHasher.leaf(new TextEncoder().encode(`leaf ${seed} ${i}`)));
  }
  return out;
}

/** All stored hashes of a tree, by direct Go-style numbering, in a Map. */
export class MemoryHashStore implements HashReader {
  readonly hashes = new Map<number, Hash>();
  reads = 0;
  constructor(leaves: readonly Hash[], h: Hasher = nodeCryptoHasher) {
    // P(L, n) for every complete perfect subtree.
    let level: Hash[] = [...leaves];
    for (let L = 0; level.length > 0; L++) {
      level.forEach((x, n) => this.hashes.set(storedHashIndex(L, n), x));
      const up: Hash[] = [];
      for (let i = 0; i + 1 < level.length; i += 2) up.push(h.node(level[i]!, level[i + 1]!));
      level = up;
    }
  }
  async readHashes(indexes: readonly number[]): Promise<Hash[]> {
    this.reads++;
    return indexes.map((i) => {
      const x = this.hashes.get(i);
      if (x === undefined) throw new Error(`store: no hash ${i}`);
      return x;
    });
  }
}
