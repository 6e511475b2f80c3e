// Tree hashes from stored hashes (plan/compute, as in Go sumdb/tlog).
//
// treeHashIndexes lists the stored hashes needed, a HashReader fetches them in
// one batch, and treeHashFromHashes consumes exactly those hashes. A leftover
// or missing hash means the two halves disagree: a bug, thrown as a plain
// Error('merkle: bad math ...').

import type { Hash, Hasher } from './hash.js';
import { EMPTY_ROOT, defaultHasher } from './hash.js';
import { assertSafeIndex, bitLength, trailingZeros } from './math.js';
import { storedHashIndex } from './stored.js';

/** Reads stored hashes (Go sumdb/tlog numbering), one result per index, in order. */
export interface HashReader {
  readHashes(indexes: readonly number[]): Promise<Hash[]>;
}

// subtreeBlock(lo, hi) = the height h of the first block when [lo, hi) is
// split greedily from the left into aligned power-of-two blocks: the largest h
// with 2^h <= hi − lo and 2^h dividing lo. Requires 0 <= lo < hi <= 2^53-1.
function subtreeBlock(lo: number, hi: number): number {
  const h = bitLength(hi - lo) - 1;
  return lo === 0 ? h : Math.min(h, trailingZeros(lo));
}

// subtreeIndexes(lo, hi, out) appends the stored indexes of the aligned
// perfect subtrees covering [lo, hi), left to right: at most 2·log2(hi−lo)
// hashes (at most 53 for lo = 0).
export function subtreeIndexes(lo: number, hi: number, out: number[]): void {
  while (lo < hi) {
    const h = subtreeBlock(lo, hi);
    const k = 2 ** h;
    out.push(storedHashIndex(h, lo / k));
    lo += k;
  }
}

/** Consumes hashes in order; see subtreeHash. */
export class HashCursor {
  #next = 0;
  constructor(readonly hashes: readonly Hash[]) {}
  take(): Hash {
    const h = this.hashes[this.#next];
    if (h === undefined) throw new Error('merkle: bad math: ran out of stored hashes');
    this.#next++;
    return h;
  }
  // Throws unless every hash was used.
  done(): void {
    if (this.#next !== this.hashes.length) {
      throw new Error(`merkle: bad math: ${this.hashes.length - this.#next} stored hashes left over`);
    }
  }
}

// subtreeHash(lo, hi, cursor) = MTH(D[lo:hi]) from the hashes subtreeIndexes
// listed: take one hash per aligned block, then fold right to left,
// node(s0, node(s1, … sm)). This is MTH when lo is a multiple of a power of
// two >= hi − lo (then the blocks are the binary digits of hi − lo, largest
// first), which holds for every range of the RFC 6962 recursion.
export function subtreeHash(lo: number, hi: number, cursor: HashCursor, hasher: Hasher): Hash {
  const parts: Hash[] = [];
  while (lo < hi) {
    parts.push(cursor.take());
    lo += 2 ** subtreeBlock(lo, hi);
  }
  let r = parts[parts.length - 1];
  if (r === undefined) throw new Error('merkle: bad math: empty subtree');
  for (let i = parts.length - 2; i >= 0; i--) r = hasher.node(parts[i]!, r);
  return r;
}

// treeHashIndexes(size): stored indexes of the perfect subtrees of MTH(D[0:size])
// (one per set bit of size, at most 53). Size 0 needs none.
export function treeHashIndexes(size: number): number[] {
  assertSafeIndex('size', size);
  const out: number[] = [];
  subtreeIndexes(0, size, out);
  return out;
}

// treeHashFromHashes(size, hashes) = MTH(D[0:size]) from the hashes of
// treeHashIndexes(size), in that order; EMPTY_ROOT for size 0.
export function treeHashFromHashes(size: number, hashes: readonly Hash[], hasher: Hasher = defaultHasher): Hash {
  assertSafeIndex('size', size);
  const cursor = new HashCursor(hashes);
  const r = size === 0 ? new Uint8Array(EMPTY_ROOT) : subtreeHash(0, size, cursor, hasher);
  cursor.done();
  return r;
}

// readExactly(reader, indexes): one readHashes batch, checked for count.
export async function readExactly(reader: HashReader, indexes: readonly number[]): Promise<Hash[]> {
  if (indexes.length === 0) return [];
  const hashes = await reader.readHashes(indexes);
  if (hashes.length !== indexes.length) {
    throw new Error(`merkle: bad math: reader returned ${hashes.length} hashes for ${indexes.length} indexes`);
  }
  return hashes;
}

// treeHash(size, reader) = MTH(D[0:size]), reading at most 53 stored hashes in one batch.
export async function treeHash(size: number, reader: HashReader, hasher: Hasher = defaultHasher): Promise<Hash> {
  const indexes = treeHashIndexes(size);
  return treeHashFromHashes(size, await readExactly(reader, indexes), hasher);
}
