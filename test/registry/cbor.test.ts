import { Decoder, Encoder } from 'cbor-x';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CborError, decodeCanonical, encodeCanonical, type CborValue } from '../../src/registry/entries/cbor.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));

const value: fc.Arbitrary<CborValue> = fc.letrec<{ v: CborValue }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.maxSafeNat(),
    fc.nat(300),
    fc.uint8Array({ maxLength: 40 }),
    fc.string({ maxLength: 20, unit: 'grapheme' }),
    fc.constantFrom(true, false, null),
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 6 }), tie('v'), { maxKeys: 4 }),
  ),
})).v;

describe('canonical CBOR', () => {
  it('round-trips and re-encodes identically (property)', () => {
    fc.assert(
      fc.property(value, (v) => {
        const bytes = encodeCanonical(v);
        expect(hex(encodeCanonical(decodeCanonical(bytes)))).toBe(hex(bytes));
      }),
    );
  });

  it('cbor-x decodes what we encode to the same value (property)', () => {
    const dec = new Decoder({ mapsAsObjects: true, useRecords: false });
    fc.assert(
      fc.property(value, (v) => {
        const back = dec.decode(encodeCanonical(v));
        expect(encodeCanonical(normalize(back))).toEqual(encodeCanonical(v));
      }),
    );
  });

  it('sorts map keys by encoded bytes: shorter first, then bytewise (RFC 8949 §4.2.1)', () => {
    expect(hex(encodeCanonical({ bb: 1, a: 2, c: 3, aa: 4 }))).toBe('a46161026163036261610462626201');
  });

  it('why not cbor-x: it keeps insertion order for object keys', () => {
    const enc = new Encoder({ useRecords: false, mapsAsObjects: true });
    expect(hex(enc.encode({ b: 1, a: 2 }))).not.toBe(hex(encodeCanonical({ b: 1, a: 2 })));
  });

  it('uses the shortest heads', () => {
    for (const [n, h] of [
      [23, '17'],
      [24, '1818'],
      [255, '18ff'],
      [256, '190100'],
      [65536, '1a00010000'],
      [2 ** 32, '1b0000000100000000'],
    ] as const) {
      expect(hex(encodeCanonical(n))).toBe(h);
    }
  });

  it.each([
    ['a non-shortest integer', '1817'],
    ['a non-shortest length', '5801ff'],
    ['an indefinite-length array', '9f01ff'],
    ['unsorted map keys', 'a2616202616101'],
    ['a duplicate map key', 'a2616101616102'],
    ['a float', 'f93c00'],
    ['a negative integer', '20'],
    ['a tag', 'c11a514b67b0'],
    ['an integer map key', 'a10102'],
    ['invalid UTF-8 text', '62c328'],
    ['undefined', 'f7'],
    ['trailing bytes', '0101'],
    ['a truncated string', '6461'],
    ['an integer above 2^53-1', '1b0020000000000000'],
  ])('refuses %s', (_what, h) => {
    expect(() => decodeCanonical(unhex(h))).toThrow(CborError);
  });

  it('refuses to encode what it cannot represent', () => {
    expect(() => encodeCanonical(-1)).toThrow(RangeError);
    expect(() => encodeCanonical(1.5)).toThrow(RangeError);
    expect(() => encodeCanonical('\ud800')).toThrow(TypeError);
    expect(() => encodeCanonical(new Map() as unknown as CborValue)).toThrow(TypeError);
  });
});

// cbor-x gives Buffers for byte strings; our model has Uint8Array.
function normalize(v: unknown): CborValue {
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Uint8Array) return new Uint8Array(v);
  if (Array.isArray(v)) return v.map(normalize);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalize(x)]));
  return v as CborValue;
}
