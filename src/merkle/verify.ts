// Proof verification: RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2
// (consistency), with the strictness of PROTOCOLS.md §1.2/§1.3: every hash is
// 32 bytes and the proof length is checked before any hashing.
//
// Failures: a size or index out of range is MERKLE_RANGE; a leaf hash or root
// that is not 32 bytes is MERKLE_BAD_HASH; anything wrong with the proof
// itself (length, element size, result) is MERKLE_PROOF_INVALID.
// The loops halve fn and sn with Math.floor(x / 2): both may exceed 2^32.

import { TilelogError } from '../errors.js';
import type { Hash, Hasher } from './hash.js';
import { assertHash, defaultHasher, hashEqual, HASH_SIZE } from './hash.js';
import { assertSafeIndex, bitLength, isPowerOfTwo, popCount, shiftRight, trailingZeros, xor } from './math.js';

function invalid(why: string): TilelogError {
  return new TilelogError('MERKLE_PROOF_INVALID', `merkle: proof invalid: ${why}`);
}

function assertProofHashes(proof: readonly Hash[]): void {
  if (!Array.isArray(proof)) throw new TypeError('merkle: proof must be an array');
  for (const p of proof) {
    if (!(p instanceof Uint8Array) || p.length !== HASH_SIZE) throw invalid('proof element is not a 32-byte hash');
  }
}

const half = (x: number): number => Math.floor(x / 2);
const isOdd = (x: number): boolean => x % 2 === 1;

// inclusionProofLength(index, size) = inner + border, where
// inner = bitLength(index XOR (size−1)) is the depth at which the paths to
// index and to the last leaf diverge, and border = popcount(index >> inner)
// counts left siblings above that. Requires 0 <= index < size. At most 2·53.
export function inclusionProofLength(index: number, size: number): number {
  const inner = bitLength(xor(index, size - 1));
  return inner + popCount(shiftRight(index, inner));
}

// consistencyProofLength(first, second), 0 < first < second:
// f = bitLength((first−1) XOR (second−1)), inner = f − trailingZeros(first),
// border = popcount((first−1) >> f), length = inner + border + (first is a
// power of two ? 0 : 1) (the seed hash is then the old root, not in the proof).
export function consistencyProofLength(first: number, second: number): number {
  const f = bitLength(xor(first - 1, second - 1));
  const inner = f - trailingZeros(first);
  const border = popCount(shiftRight(first - 1, f));
  return inner + border + (isPowerOfTwo(first) ? 0 : 1);
}

// rootFromInclusionProof(hasher, index, size, leafHash, proof): the root that
// PATH proof implies for leafHash at index in a tree of size (RFC 9162
// §2.1.3.2 steps 2-4 without the root comparison). Checks ranges, hash sizes
// and the exact proof length first.
export function rootFromInclusionProof(
  hasher: Hasher | undefined,
  index: number,
  size: number,
  leafHash: Hash,
  proof: readonly Hash[],
): Hash {
  const h = hasher ?? defaultHasher;
  assertSafeIndex('index', index);
  assertSafeIndex('size', size);
  if (index >= size) throw new TilelogError('MERKLE_RANGE', `merkle: index ${index} not in [0, ${size})`);
  assertHash('leafHash', leafHash);
  assertProofHashes(proof);
  const want = inclusionProofLength(index, size);
  if (proof.length !== want) throw invalid(`inclusion proof has ${proof.length} hashes, want ${want}`);
  let fn = index;
  let sn = size - 1;
  let r = leafHash;
  for (const p of proof) {
    if (sn === 0) throw invalid('inclusion proof too long');
    if (isOdd(fn) || fn === sn) {
      r = h.node(p, r);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = h.node(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) throw invalid('inclusion proof too short');
  return r;
}

// verifyInclusion: throws unless proof shows leafHash is leaf `index` of the
// tree of `size` leaves with hash root. 0 <= index < size (so size 0 has no
// proofs); |proof| = inclusionProofLength(index, size).
export function verifyInclusion(
  hasher: Hasher | undefined,
  index: number,
  size: number,
  leafHash: Hash,
  proof: readonly Hash[],
  root: Hash,
): void {
  assertHash('root', root);
  const r = rootFromInclusionProof(hasher, index, size, leafHash, proof);
  if (!hashEqual(r, root)) throw invalid('inclusion proof does not lead to the root');
}

// verifyConsistency: throws unless proof shows the tree of oldSize leaves with
// root oldRoot is a prefix of the tree of newSize leaves with root newRoot.
// Edge cases: old > new is MERKLE_RANGE; old == 0 needs an empty proof and is
// accepted (nothing to prove; oldRoot is not compared); old == new needs an
// empty proof and byte-equal roots. Otherwise RFC 9162 §2.1.4.2 with
// |proof| = consistencyProofLength(old, new).
export function verifyConsistency(
  hasher: Hasher | undefined,
  oldSize: number,
  newSize: number,
  proof: readonly Hash[],
  oldRoot: Hash,
  newRoot: Hash,
): void {
  const h = hasher ?? defaultHasher;
  assertSafeIndex('oldSize', oldSize);
  assertSafeIndex('newSize', newSize);
  if (oldSize > newSize) throw new TilelogError('MERKLE_RANGE', `merkle: oldSize ${oldSize} > newSize ${newSize}`);
  assertHash('oldRoot', oldRoot);
  assertHash('newRoot', newRoot);
  assertProofHashes(proof);
  if (oldSize === 0 || oldSize === newSize) {
    if (proof.length !== 0) throw invalid(`consistency proof for sizes ${oldSize}, ${newSize} must be empty`);
    if (oldSize !== 0 && !hashEqual(oldRoot, newRoot)) throw invalid('equal sizes with different roots');
    return;
  }
  const want = consistencyProofLength(oldSize, newSize);
  if (proof.length !== want) throw invalid(`consistency proof has ${proof.length} hashes, want ${want}`);
  // Step 2: a power-of-two old tree is itself the seed subtree.
  const path = isPowerOfTwo(oldSize) ? [oldRoot, ...proof] : proof;
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0]!;
  let sr = fr;
  for (let i = 1; i < path.length; i++) {
    const c = path[i]!;
    if (sn === 0) throw invalid('consistency proof too long');
    if (isOdd(fn) || fn === sn) {
      fr = h.node(c, fr);
      sr = h.node(c, sr);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      sr = h.node(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) throw invalid('consistency proof too short');
  if (!hashEqual(fr, oldRoot)) throw invalid('consistency proof does not lead to the old root');
  if (!hashEqual(sr, newRoot)) throw invalid('consistency proof does not lead to the new root');
}
