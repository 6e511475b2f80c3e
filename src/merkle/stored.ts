// Go sumdb/tlog stored-hash numbering (PROTOCOLS.md §1.4).
//
// Every perfect-subtree hash P(L, n) (height L, covering leaves
// [n·2^L, (n+1)·2^L)) gets one position in a linear array, in the order an
// append-only writer produces them: appending leaf m writes P(0, m) and then
// every perfect subtree m completes, one per trailing 1-bit of m.
//
// Range: stored indexes are about twice the leaf count, so they stay safe
// integers only for trees up to about 2^52 leaves. Results beyond 2^53-1 throw
// MERKLE_RANGE instead of losing precision.

import { TilelogError } from '../errors.js';
import { assertSafeIndex, popCount, shiftRight, trailingZeros } from './math.js';

function tooBig(what: string): TilelogError {
  return new TilelogError('MERKLE_RANGE', `merkle: ${what} exceeds 2^53-1`);
}

// storedHashIndex(L, n) = 2m − popcount(m) + L, where m = (n+1)·2^L − 1 is the
// last leaf under P(L, n): the m+1 leaves [0, m] store 2(m+1) − popcount(m+1)
// hashes, and P(L, n) is written L hashes after P(0, m).
// Requires 0 <= L <= 52, n >= 0, and a result <= 2^53-1.
export function storedHashIndex(level: number, n: number): number {
  assertSafeIndex('level', level);
  assertSafeIndex('n', n);
  if (level > 52) throw tooBig(`level ${level}`);
  const m = (n + 1) * 2 ** level - 1;
  if (!Number.isSafeInteger(m)) throw tooBig(`last leaf of (${level}, ${n})`);
  // index = m + rest with both terms safe; add only when the sum stays safe.
  const rest = m - popCount(m) + level;
  if (m > Number.MAX_SAFE_INTEGER - rest) throw tooBig(`stored hash index of (${level}, ${n})`);
  return m + rest;
}

// splitStoredHashIndex(i) = [L, n] with storedHashIndex(L, n) = i.
// Estimate m from i ≈ 2m: the leaf hash P(0, m') at or below index i has
// m' <= i/2; step m' down until its index is <= i, then the hashes written
// after P(0, m') are P(1..t, ·) for the t = trailingZeros(~m') trailing ones.
export function splitStoredHashIndex(index: number): [level: number, n: number] {
  assertSafeIndex('index', index);
  // Largest m with storedHashIndex(0, m) = 2m − popcount(m) <= index.
  let m = Math.floor(index / 2);
  let base = 2 * m - popCount(m);
  // 2m − popcount(m) <= index holds at m = floor(index/2); look a little higher.
  for (;;) {
    const next = m + 1;
    const nb = 2 * next - popCount(next);
    if (nb > index) break;
    m = next;
    base = nb;
  }
  const level = index - base;
  // P(0, m) may be followed by P(1..t) where t = trailing ones of m.
  const t = trailingZeros(m + 1);
  if (level > t) throw new Error(`merkle: bad math in splitStoredHashIndex(${index})`);
  return [level, shiftRight(m, level)];
}

// storedHashCount(size) = 2·size − popcount(size): hashes stored for a tree of
// `size` leaves, so valid stored indexes are [0, storedHashCount(size)).
// Throws MERKLE_RANGE when the count exceeds 2^53-1 (size above about 2^52).
export function storedHashCount(size: number): number {
  assertSafeIndex('size', size);
  const rest = size - popCount(size);
  if (size > Number.MAX_SAFE_INTEGER - rest) throw tooBig(`stored hash count of size ${size}`);
  return size + rest;
}
