// Integer helpers for tree sizes and indexes held in JS numbers.
//
// Every value here is a safe integer, 0 <= x <= 2^53-1. JS bitwise operators
// truncate to 32 bits (2 ** 32 >> 1 === 0), so values that may reach 2^53 are
// split into a high and a low 32-bit half, and shifts are done with division.

import { TilelogError } from '../errors.js';

const TWO_32 = 2 ** 32;

/** Largest tree size or index tilelog accepts: 2^53-1. */
export const MAX_INDEX = Number.MAX_SAFE_INTEGER;

// Throws unless x is an integer in [0, 2^53-1]; name labels the argument.
// A non-number is a TypeError (a programming mistake); a number out of range
// is TilelogError MERKLE_RANGE (it may come from the network).
export function assertSafeIndex(name: string, x: number): void {
  if (typeof x !== 'number') {
    throw new TypeError(`merkle: ${name} must be a number, got ${typeof x}`);
  }
  if (!Number.isSafeInteger(x) || x < 0) {
    throw new TilelogError('MERKLE_RANGE', `merkle: ${name} = ${x} is not an integer in [0, 2^53-1]`);
  }
}

// The high 32 bits of a safe integer: floor(x / 2^32), in [0, 2^21).
function hi32(x: number): number {
  return Math.floor(x / TWO_32);
}

// The low 32 bits of a safe integer: x mod 2^32, in [0, 2^32).
function lo32(x: number): number {
  return x % TWO_32;
}

// Set bits of a 32-bit unsigned value v in [0, 2^32).
function popCount32(v: number): number {
  let c = 0;
  let u = v >>> 0;
  while (u !== 0) {
    u = (u & (u - 1)) >>> 0; // clears the lowest set bit
    c++;
  }
  return c;
}

// bitLength(x) = number of binary digits of x: 0 for 0, floor(log2 x) + 1 otherwise.
// Result in [0, 53] for safe x.
export function bitLength(x: number): number {
  const hi = hi32(x);
  if (hi !== 0) return 64 - Math.clz32(hi);
  return 32 - Math.clz32(lo32(x));
}

// popCount(x) = number of 1 bits of x, in [0, 53].
export function popCount(x: number): number {
  return popCount32(hi32(x)) + popCount32(lo32(x));
}

// trailingZeros(x) = largest t with 2^t dividing x, for x >= 1; t in [0, 52].
// trailingZeros(0) is defined as 53 (no bit of a safe integer is set).
export function trailingZeros(x: number): number {
  if (x === 0) return 53;
  const lo = lo32(x);
  if (lo !== 0) return 31 - Math.clz32(lo & -lo);
  const hi = hi32(x);
  return 63 - Math.clz32(hi & -hi);
}

// isPowerOfTwo(x) is true iff x = 2^t for some t >= 0 (so 1 is, 0 is not).
export function isPowerOfTwo(x: number): boolean {
  return x > 0 && popCount(x) === 1;
}

// largestPowerOfTwoBelow(n) = k = 2^(bitLength(n-1) - 1), the split point of
// RFC 6962 MTH: k < n <= 2k. Requires n >= 2.
export function largestPowerOfTwoBelow(n: number): number {
  if (!(n >= 2)) throw new Error(`merkle: bad math: largestPowerOfTwoBelow(${n})`);
  return 2 ** (bitLength(n - 1) - 1);
}

// shiftRight(x, k) = floor(x / 2^k), the 53-bit-safe x >> k, for k >= 0.
export function shiftRight(x: number, k: number): number {
  return Math.floor(x / 2 ** k);
}

// lowBits(x, k) = x mod 2^k, the 53-bit-safe x & (2^k - 1), for k >= 0.
export function lowBits(x: number, k: number): number {
  return x % 2 ** k;
}

// xor(a, b) = a XOR b for safe integers a, b; result is a safe integer.
export function xor(a: number, b: number): number {
  return ((hi32(a) ^ hi32(b)) >>> 0) * TWO_32 + ((lo32(a) ^ lo32(b)) >>> 0);
}
