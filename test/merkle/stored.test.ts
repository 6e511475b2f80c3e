import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isTilelogError } from '../../src/errors.js';
import { splitStoredHashIndex, storedHashCount, storedHashIndex } from '../../src/merkle/index.js';

describe('Go sumdb stored-hash numbering (PROTOCOLS.md §1.4)', () => {
  it('first indexes', () => {
    const table: [number, number, number][] = [
      [0, 0, 0], [0, 1, 1], [1, 0, 2], [0, 2, 3], [0, 3, 4], [1, 1, 5], [2, 0, 6], [0, 4, 7],
      [0, 5, 8], [1, 2, 9], [0, 6, 10], [0, 7, 11], [1, 3, 12], [2, 1, 13], [3, 0, 14], [0, 8, 15],
    ];
    for (const [l, n, idx] of table) {
      expect(storedHashIndex(l, n)).toBe(idx);
      expect(splitStoredHashIndex(idx)).toEqual([l, n]);
    }
  });

  it('append order: indexes are dense and storedHashCount counts them', () => {
    let next = 0;
    for (let m = 0; m < 5000; m++) {
      // leaf m writes P(0, m) then one hash per trailing 1-bit of m
      expect(storedHashIndex(0, m)).toBe(next++);
      for (let l = 1; m % 2 ** l === 2 ** l - 1; l++) {
        expect(storedHashIndex(l, Math.floor(m / 2 ** l))).toBe(next++);
      }
      expect(storedHashCount(m + 1)).toBe(next);
    }
  });

  it('split inverts index up to 2^53-1', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: 0, max: 1e6 })), (i) => {
        const [l, n] = splitStoredHashIndex(i);
        expect(storedHashIndex(l, n)).toBe(i);
      }),
      { numRuns: 3000 },
    );
  });

  it('matches a BigInt formula near 2^52 and throws MERKLE_RANGE past 2^53-1', () => {
    const big = (l: bigint, n: bigint) => {
      const m = (n + 1n) * (1n << l) - 1n;
      return 2n * m - BigInt([...m.toString(2)].filter((c) => c === '1').length) + l;
    };
    for (const [l, n] of [[0, 2 ** 52 - 1], [0, 2 ** 52 - 12345], [20, 2 ** 32 - 1], [52, 0], [13, 2 ** 39 - 2]] as const) {
      const want = big(BigInt(l), BigInt(n));
      expect(BigInt(storedHashIndex(l, n))).toBe(want);
    }
    expect(storedHashCount(2 ** 52)).toBe(2 ** 53 - 1);
    expect(storedHashIndex(0, 2 ** 52)).toBe(2 ** 53 - 1);
    expect(splitStoredHashIndex(2 ** 53 - 1)).toEqual([0, 2 ** 52]);
    for (const f of [() => storedHashIndex(0, 2 ** 52 + 1), () => storedHashIndex(0, 2 ** 52 + 12345), () => storedHashIndex(53, 0), () => storedHashCount(2 ** 52 + 2), () => storedHashCount(2 ** 53 - 1), () => storedHashIndex(-1, 0), () => splitStoredHashIndex(2 ** 53)]) {
      try {
        f();
        expect.unreachable();
      } catch (e) {
        expect(isTilelogError(e, 'MERKLE_RANGE'), String(e)).toBe(true);
      }
    }
  });
});
