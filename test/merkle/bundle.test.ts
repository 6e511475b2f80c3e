import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isTilelogError } from '../../src/errors.js';
import { decodeBundle, encodeBundle } from '../../src/merkle/index.js';

function badBundle(f: () => unknown): void {
  try {
    f();
    expect.unreachable();
  } catch (e) {
    expect(isTilelogError(e, 'MERKLE_BAD_BUNDLE'), String(e)).toBe(true);
  }
}

describe('entry bundles', () => {
  it('round-trips', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 256 }), (entries) => {
        const b = encodeBundle(entries);
        expect(decodeBundle(b).map((e) => [...e])).toEqual(entries.map((e) => [...e]));
        expect(decodeBundle(b, entries.length).length).toBe(entries.length);
      }),
      { numRuns: 100 },
    );
  });

  it('encodes u16be length prefixes, including empty and 65535-byte entries', () => {
    expect([...encodeBundle([new Uint8Array([7, 8]), new Uint8Array(0)])]).toEqual([0, 2, 7, 8, 0, 0]);
    const big = new Uint8Array(65535).fill(9);
    const b = encodeBundle([big]);
    expect(b[0]).toBe(0xff);
    expect(b[1]).toBe(0xff);
    expect(decodeBundle(b, 1)[0]!.length).toBe(65535);
    expect(() => encodeBundle([new Uint8Array(65536)])).toThrow(RangeError);
    expect(() => encodeBundle([])).toThrow(RangeError);
    expect(() => encodeBundle(Array.from({ length: 257 }, () => new Uint8Array(1)))).toThrow(RangeError);
  });

  it('rejects trailing bytes, truncation, wrong counts', () => {
    const b = encodeBundle([new Uint8Array([1, 2, 3]), new Uint8Array([4])]);
    badBundle(() => decodeBundle(b, 1));
    badBundle(() => decodeBundle(b, 3));
    badBundle(() => decodeBundle(b.subarray(0, b.length - 1)));
    badBundle(() => decodeBundle(new Uint8Array([...b, 0])));
    badBundle(() => decodeBundle(new Uint8Array(0)));
    badBundle(() => decodeBundle(encodeBundle(Array.from({ length: 256 }, () => new Uint8Array(0))).slice(), 255));
    const tooMany = new Uint8Array(2 * 257); // 257 empty entries
    badBundle(() => decodeBundle(tooMany));
    expect(decodeBundle(tooMany.subarray(0, 512)).length).toBe(256);
    expect(() => decodeBundle(b, 0)).toThrow(RangeError);
  });
});
