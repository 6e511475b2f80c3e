// Inclusion and consistency proofs from stored hashes (RFC 6962 §2.1.1,
// §2.1.2), as plan/compute pairs: `...Indexes` lists the stored hashes, one
// readHashes batch fetches them, `...FromHashes` consumes exactly those.
//
// With k the largest power of two < n (k < n <= 2k):
//   PATH(m, D[0:n]) = PATH(m, D[0:k]) ++ [MTH(D[k:n])]       if m < k
//                   = PATH(m−k, D[k:n]) ++ [MTH(D[0:k])]     if m >= k
//   SUB(m, D[0:n], b) = SUB(m, D[0:k], b) ++ [MTH(D[k:n])]   if m <= k
//                     = SUB(m−k, D[k:n], false) ++ [MTH(D[0:k])] if m > k
//   SUB(m, D[0:m], true) = [], SUB(m, D[0:m], false) = [MTH(D[0:m])].
// Index order follows the recursion, so the FromHashes halves walk it the same way.

import { TilelogError } from '../errors.js';
import type { Hash, Hasher } from './hash.js';
import { defaultHasher } from './hash.js';
import { assertSafeIndex, largestPowerOfTwoBelow } from './math.js';
import type { HashReader } from './tree.js';
import { HashCursor, readExactly, subtreeHash, subtreeIndexes } from './tree.js';

function checkInclusionArgs(size: number, index: number): void {
  assertSafeIndex('size', size);
  assertSafeIndex('index', index);
  if (index >= size) throw new TilelogError('MERKLE_RANGE', `merkle: index ${index} not in [0, ${size})`);
}

function checkConsistencyArgs(oldSize: number, newSize: number): void {
  assertSafeIndex('oldSize', oldSize);
  assertSafeIndex('newSize', newSize);
  if (oldSize === 0 || oldSize > newSize) {
    throw new TilelogError('MERKLE_RANGE', `merkle: consistency needs 0 < oldSize <= newSize, got ${oldSize}, ${newSize}`);
  }
}

// Indexes for PATH(m − lo, D[lo:hi]), lo <= m < hi. Depth <= 53.
function pathIndexes(lo: number, hi: number, m: number, out: number[]): void {
  if (hi - lo === 1) return;
  const k = largestPowerOfTwoBelow(hi - lo);
  if (m < lo + k) {
    pathIndexes(lo, lo + k, m, out);
    subtreeIndexes(lo + k, hi, out);
  } else {
    subtreeIndexes(lo, lo + k, out);
    pathIndexes(lo + k, hi, m, out);
  }
}

function pathFromHashes(lo: number, hi: number, m: number, c: HashCursor, h: Hasher): Hash[] {
  if (hi - lo === 1) return [];
  const k = largestPowerOfTwoBelow(hi - lo);
  if (m < lo + k) {
    const p = pathFromHashes(lo, lo + k, m, c, h);
    p.push(subtreeHash(lo + k, hi, c, h));
    return p;
  }
  const left = subtreeHash(lo, lo + k, c, h);
  const p = pathFromHashes(lo + k, hi, m, c, h);
  p.push(left);
  return p;
}

// inclusionProofIndexes(size, index): stored indexes for PATH(index, D[0:size]),
// 0 <= index < size: at most 2·log2(size) hashes. MERKLE_RANGE otherwise, or
// when a stored index would exceed 2^53-1 (trees beyond about 2^52 leaves).
export function inclusionProofIndexes(size: number, index: number): number[] {
  checkInclusionArgs(size, index);
  const out: number[] = [];
  pathIndexes(0, size, index, out);
  return out;
}

// inclusionProofFromHashes(size, index, hashes) = PATH(index, D[0:size]), leaf
// to root, from the hashes listed by inclusionProofIndexes, in that order.
export function inclusionProofFromHashes(
  size: number,
  index: number,
  hashes: readonly Hash[],
  hasher: Hasher = defaultHasher,
): Hash[] {
  checkInclusionArgs(size, index);
  const c = new HashCursor(hashes);
  const p = pathFromHashes(0, size, index, c, hasher);
  c.done();
  return p;
}

// inclusionProof(size, index, reader): PATH(index, D[0:size]) with one read.
export async function inclusionProof(
  size: number,
  index: number,
  reader: HashReader,
  hasher: Hasher = defaultHasher,
): Promise<Hash[]> {
  const indexes = inclusionProofIndexes(size, index);
  return inclusionProofFromHashes(size, index, await readExactly(reader, indexes), hasher);
}

// Indexes for SUB(m − lo, D[lo:hi], lo == 0), lo < m <= hi. Depth <= 53.
function subIndexes(lo: number, hi: number, m: number, out: number[]): void {
  if (m === hi) {
    if (lo !== 0) subtreeIndexes(lo, hi, out);
    return;
  }
  const k = largestPowerOfTwoBelow(hi - lo);
  if (m <= lo + k) {
    subIndexes(lo, lo + k, m, out);
    subtreeIndexes(lo + k, hi, out);
  } else {
    subtreeIndexes(lo, lo + k, out);
    subIndexes(lo + k, hi, m, out);
  }
}

function subFromHashes(lo: number, hi: number, m: number, c: HashCursor, h: Hasher): Hash[] {
  if (m === hi) return lo === 0 ? [] : [subtreeHash(lo, hi, c, h)];
  const k = largestPowerOfTwoBelow(hi - lo);
  if (m <= lo + k) {
    const p = subFromHashes(lo, lo + k, m, c, h);
    p.push(subtreeHash(lo + k, hi, c, h));
    return p;
  }
  const left = subtreeHash(lo, lo + k, c, h);
  const p = subFromHashes(lo + k, hi, m, c, h);
  p.push(left);
  return p;
}

// consistencyProofIndexes(old, new): stored indexes for PROOF(old, D[0:new]),
// 0 < old <= new (old == new gives []); at most 2·log2(new) hashes.
export function consistencyProofIndexes(oldSize: number, newSize: number): number[] {
  checkConsistencyArgs(oldSize, newSize);
  const out: number[] = [];
  subIndexes(0, newSize, oldSize, out);
  return out;
}

// consistencyProofFromHashes(old, new, hashes) = PROOF(old, D[0:new]) from the
// hashes listed by consistencyProofIndexes, in that order.
export function consistencyProofFromHashes(
  oldSize: number,
  newSize: number,
  hashes: readonly Hash[],
  hasher: Hasher = defaultHasher,
): Hash[] {
  checkConsistencyArgs(oldSize, newSize);
  const c = new HashCursor(hashes);
  const p = subFromHashes(0, newSize, oldSize, c, hasher);
  c.done();
  return p;
}

// consistencyProof(old, new, reader): PROOF(old, D[0:new]) with one read.
export async function consistencyProof(
  oldSize: number,
  newSize: number,
  reader: HashReader,
  hasher: Hasher = defaultHasher,
): Promise<Hash[]> {
  const indexes = consistencyProofIndexes(oldSize, newSize);
  return consistencyProofFromHashes(oldSize, newSize, await readExactly(reader, indexes), hasher);
}
