import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isTilelogError } from '../../src/errors.js';
import {
  EMPTY_ROOT,
  defaultHasher,
  fromBase64Strict,
  fromHex,
  hashEqual,
  leafHash,
  nodeHash,
  toBase64,
  toHex,
} from '../../src/merkle/index.js';
import { nodeCryptoHasher } from './helpers.js';
import { makeHasher, nobleSha256, nodeInto } from '../../src/merkle/hash.js';
import { sha256NodeInto } from '../../src/merkle/sha256-node.js';
import { nodeSha256 } from '../../src/log/options.js';

const utf8 = (s: string) => new TextEncoder().encode(s);

describe('RFC 6962 hashes (PROTOCOLS.md §9.1)', () => {
  it('vectors', () => {
    expect(toHex(EMPTY_ROOT)).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(toHex(leafHash(new Uint8Array(0)))).toBe('6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d');
    expect(toHex(leafHash(utf8('L123456')))).toBe('395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56');
    // The node vector hashes raw 4-byte strings as children.
    const raw = createHash('sha256').update(Buffer.from([1])).update('N123').update('N456').digest('hex');
    expect(raw).toBe('aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb');
  });

  it('noble and node:crypto hashers agree, also with a reused scratch buffer', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1000 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (e, r) => {
        const a = defaultHasher.leaf(e);
        expect(toHex(nodeCryptoHasher.leaf(e))).toBe(toHex(a));
        expect(toHex(a)).toBe(createHash('sha256').update(Buffer.from([0])).update(e).digest('hex'));
        const n = nodeHash(a, r);
        expect(toHex(nodeCryptoHasher.node(a, r))).toBe(toHex(n));
        expect(toHex(n)).toBe(createHash('sha256').update(Buffer.from([1])).update(a).update(r).digest('hex'));
      }),
      { numRuns: 200 },
    );
  });

  it('node rejects non-32-byte children', () => {
    expect(() => nodeHash(new Uint8Array(31), new Uint8Array(32))).toThrow(/32-byte/);
  });

  it('hashEqual', () => {
    expect(hashEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBe(true);
    expect(hashEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBe(false);
    expect(hashEqual(new Uint8Array([1]), new Uint8Array([1, 0]))).toBe(false);
  });
});

function badEncoding(f: () => unknown): void {
  try {
    f();
    expect.unreachable();
  } catch (e) {
    expect(isTilelogError(e, 'MERKLE_BAD_ENCODING'), String(e)).toBe(true);
  }
}

describe('encoding', () => {
  it('hex and base64 round-trip and match Buffer', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (b) => {
        const hex = toHex(b);
        const b64 = toBase64(b);
        expect(hex).toBe(Buffer.from(b).toString('hex'));
        expect(b64).toBe(Buffer.from(b).toString('base64'));
        expect(fromHex(hex)).toEqual(b);
        expect(fromBase64Strict(b64)).toEqual(b);
        expect(fromBase64Strict(b64, b.length)).toEqual(b);
      }),
      { numRuns: 300 },
    );
  });

  it('fromHex is strict', () => {
    badEncoding(() => fromHex('ABCD'));
    badEncoding(() => fromHex('abc'));
    badEncoding(() => fromHex('zz'));
    badEncoding(() => fromHex(' ab'));
    badEncoding(() => fromHex('ab', 32));
    expect(fromHex('', 0)).toEqual(new Uint8Array(0));
    expect(() => fromHex(1 as unknown as string)).toThrow(TypeError);
  });

  it('fromBase64Strict is strict', () => {
    for (const s of ['QQ', 'QQ=', 'QR==', 'QUI', 'QUJ=', 'Q===', '=QQ=', 'QQ==QQ==', 'Q-==', 'Q_==', 'QQ==\n', ' QQ==', 'QU I=', 'QUI=\u00e9']) {
      badEncoding(() => fromBase64Strict(s));
    }
    badEncoding(() => fromBase64Strict('QUJD', 2));
    expect(toHex(fromBase64Strict('47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=', 32))).toBe(toHex(EMPTY_ROOT));
    expect(fromBase64Strict('')).toEqual(new Uint8Array(0));
  });
});

describe('adjacent children written in place (hashFromTile)', () => {
  const want = (span: Uint8Array, at: number) => createHash('sha256').update(Uint8Array.of(1)).update(span.subarray(at, at + 64)).digest();

  it('sha256NodeInto(src, at, dst, dstAt) = SHA-256(0x01 || src[at, at + 64)), in place too', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 64, maxLength: 300 }), fc.nat(), fc.nat(), (span, a, b) => {
        const at = a % (span.length - 63);
        const dst = new Uint8Array(40);
        sha256NodeInto(span, at, dst, 8);
        expect(Buffer.from(dst.subarray(8))).toEqual(want(span, at));
        // Into its own input, at or before the children (hashFromTile's pattern).
        const expected = want(span, at);
        const dstAt = b % (at + 1);
        sha256NodeInto(span, at, span, dstAt);
        expect(Buffer.from(span.subarray(dstAt, dstAt + 32))).toEqual(expected);
      }),
      { numRuns: 300 },
    );
    expect(() => sha256NodeInto(new Uint8Array(64), 1, new Uint8Array(32), 0)).toThrow(/bad math/);
    expect(() => sha256NodeInto(new Uint8Array(64), 0, new Uint8Array(32), 1)).toThrow(/bad math/);
    expect(() => sha256NodeInto(new Uint8Array(64), -1, new Uint8Array(32), 0)).toThrow(/bad math/);
  });

  const hashers = {
    'noble, the default': defaultHasher,
    'noble without nodeInto (through sha256)': makeHasher(nobleSha256),
    'node:crypto with sha256NodeInto (the engine)': makeHasher(nodeSha256, sha256NodeInto),
  };
  for (const [name, h] of Object.entries(hashers)) {
    it(`${name}: nodeInto(hasher, src, at, dst, dstAt) = node(src[at, +32), src[at + 32, +32))`, () => {
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 64, maxLength: 200 }), fc.nat(), (span, n) => {
          const at = n % (span.length - 63);
          const node = h.node(span.slice(at, at + 32), span.slice(at + 32, at + 64));
          for (const hasher of [h, { leaf: h.leaf, node: h.node }]) {
            const dst = new Uint8Array(32);
            nodeInto(hasher, span, at, dst, 0);
            expect(Buffer.from(dst)).toEqual(Buffer.from(node));
          }
        }),
        { numRuns: 100 },
      );
      expect(() => h.adjacentInto!(new Uint8Array(64), 1, new Uint8Array(32), 0)).toThrow(/bad math/);
    });
  }
});
