import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isTilelogError } from '../../src/errors.js';
import {
  assertSafeIndex,
  bitLength,
  isPowerOfTwo,
  largestPowerOfTwoBelow,
  lowBits,
  popCount,
  shiftRight,
  trailingZeros,
  xor,
} from '../../src/merkle/math.js';

const MAX = Number.MAX_SAFE_INTEGER;
const safe = fc.oneof(fc.integer({ min: 0, max: MAX }), fc.integer({ min: 0, max: 2 ** 33 }), fc.constantFrom(0, 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 52, MAX));

describe('math helpers agree with BigInt up to 2^53-1', () => {
  it('bitLength, popCount, trailingZeros, isPowerOfTwo', () => {
    fc.assert(
      fc.property(safe, (x) => {
        const b = BigInt(x);
        expect(bitLength(x)).toBe(b.toString(2).replace(/^0$/, '').length);
        expect(popCount(x)).toBe([...b.toString(2)].filter((c) => c === '1').length);
        if (x > 0) {
          const s = b.toString(2);
          expect(trailingZeros(x)).toBe(s.length - 1 - s.lastIndexOf('1'));
        }
        expect(isPowerOfTwo(x)).toBe(x > 0 && (b & (b - 1n)) === 0n);
      }),
      { numRuns: 2000 },
    );
  });

  it('shiftRight, lowBits, xor', () => {
    fc.assert(
      fc.property(safe, safe, fc.integer({ min: 0, max: 53 }), (a, c, k) => {
        expect(shiftRight(a, k)).toBe(Number(BigInt(a) >> BigInt(k)));
        expect(lowBits(a, k)).toBe(Number(BigInt(a) & ((1n << BigInt(k)) - 1n)));
        expect(xor(a, c)).toBe(Number(BigInt(a) ^ BigInt(c)));
      }),
      { numRuns: 2000 },
    );
  });

  it('largestPowerOfTwoBelow(n) = k with k < n <= 2k', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: MAX }), (n) => {
        const k = largestPowerOfTwoBelow(n);
        expect(isPowerOfTwo(k)).toBe(true);
        expect(k < n && n <= 2 * k).toBe(true);
      }),
    );
    expect(largestPowerOfTwoBelow(8)).toBe(4);
    expect(largestPowerOfTwoBelow(2 ** 53 - 1)).toBe(2 ** 52);
    expect(() => largestPowerOfTwoBelow(1)).toThrow(/bad math/);
  });

  it('trailingZeros above 2^32', () => {
    expect(trailingZeros(2 ** 32)).toBe(32);
    expect(trailingZeros(2 ** 52)).toBe(52);
    expect(trailingZeros(3 * 2 ** 40)).toBe(40);
  });

  it('assertSafeIndex', () => {
    for (const bad of [-1, 1.5, 2 ** 53, Number.NaN, Infinity, -0.5]) {
      try {
        assertSafeIndex('x', bad);
        expect.unreachable();
      } catch (e) {
        expect(isTilelogError(e, 'MERKLE_RANGE')).toBe(true);
      }
    }
    expect(() => assertSafeIndex('x', '1' as unknown as number)).toThrow(TypeError);
    expect(() => assertSafeIndex('x', 1n as unknown as number)).toThrow(TypeError);
    assertSafeIndex('x', 0);
    assertSafeIndex('x', MAX);
  });
});
