import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBase64Padded, decodeBase64Strict, encodeBase64 } from '../../src/note/base64.js';

describe('strict base64', () => {
  it('round-trips and agrees with node:buffer on valid input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        const s = encodeBase64(bytes);
        expect(s).toBe(Buffer.from(bytes).toString('base64'));
        expect(decodeBase64Strict(s)).toEqual(bytes);
      }),
    );
  });

  it.each([
    ['AB==', 'non-zero unused bits'],
    ['AAB=', 'non-zero unused bits'],
    ['AA', 'missing padding'],
    ['AA=', 'short padding'],
    ['A===', 'too much padding'],
    ['AA==AA==', 'padding in the middle'],
    ['-_8=', 'URL-safe alphabet'],
    ['AA AA', 'a space'],
    ['AAAA\n', 'a newline'],
    ['AAA', 'length not a multiple of 4'],
  ])('rejects %s (%s)', (s) => {
    expect(decodeBase64Strict(s)).toBeNull();
  });

  it('the Go-compatible decoder ignores only the unused bits', () => {
    expect(decodeBase64Padded('AB==')).toEqual(Uint8Array.of(0));
    expect(decodeBase64Padded('AAB=')).toEqual(Uint8Array.of(0, 0));
    for (const s of ['AA', 'AA=', '-_8=', 'AAAA\n']) expect(decodeBase64Padded(s)).toBeNull();
  });

  it('accepts the empty string as zero bytes', () => {
    expect(decodeBase64Strict('')).toEqual(new Uint8Array(0));
  });
});
