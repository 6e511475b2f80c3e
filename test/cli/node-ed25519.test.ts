// node:crypto's Ed25519 (installed by the CLI) must give noble's bytes
// exactly: keys and signatures made by a server are then the ones a browser
// would make, and several logs in one process cannot tell which is in use.
import * as ed from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeEd25519 } from '../../src/cli/node-ed25519.js';
import { ed25519Operations, ed25519QuickAccept, nobleEd25519, useEd25519Operations, type VerifyRules } from '../../src/note/ed25519.js';
import { ed25519Verify } from '../../src/note/keys.js';
import { generateSignerKey, parseSignerKey, parseVerifierKey, signNote, openNote } from '../../src/note/index.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const nobleStrict = (sig: Uint8Array, msg: Uint8Array, pub: Uint8Array): boolean => {
  try {
    return ed.verify(sig, msg, pub, { zip215: false });
  } catch {
    return false;
  }
};
const nobleZip215 = (sig: Uint8Array, msg: Uint8Array, pub: Uint8Array): boolean => {
  try {
    return ed.verify(sig, msg, pub);
  } catch {
    return false;
  }
};
const le32 = (n: bigint): Uint8Array => {
  const b = new Uint8Array(32);
  for (let i = 0; i < 32; i++) b[i] = Number((n >> BigInt(8 * i)) & 0xffn);
  return b;
};
const fromLe = (b: Uint8Array): bigint => b.reduceRight((acc, x) => (acc << 8n) | BigInt(x), 0n);
const modL = (n: bigint): bigint => ((n % L) + L) % L;
/**
 * quickAccept under rules says yes to valid signatures and never where
 * noble's verify under the same rules says no (random one-byte corruptions
 * of the signature, the message or the key).
 */
function checkOneSided(rules: VerifyRules, noble: (sig: Uint8Array, msg: Uint8Array, pub: Uint8Array) => boolean): void {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.uint8Array({ maxLength: 100 }),
      fc.constantFrom('none', 'sig', 'msg', 'pub'),
      fc.nat(),
      fc.integer({ min: 1, max: 255 }),
      (seed, message, where, at, xor) => {
        const pub = nobleEd25519.publicKey(seed);
        const sig = nobleEd25519.signer(seed)(message);
        if (where === 'none') {
          expect(nodeEd25519.quickAccept!(sig, message, pub, rules)).toBe(true);
          return;
        }
        const target = where === 'sig' ? sig : where === 'pub' ? pub : message;
        if (target.length === 0) return;
        target[at % target.length]! ^= xor;
        if (nodeEd25519.quickAccept!(sig, message, pub, rules)) expect(noble(sig, message, pub)).toBe(true);
      },
    ),
    { numRuns: 300 },
  );
}

/** A point of order 8 (the torsion subgroup's generator). */
const ORDER_8 = hex('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a');

describe('node:crypto Ed25519 operations', () => {
  afterEach(() => useEd25519Operations(nobleEd25519));

  it('matches RFC 8032 7.1, test 2', () => {
    const seed = hex('4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb');
    const message = hex('72');
    expect(Buffer.from(nodeEd25519.publicKey(seed)).toString('hex')).toBe('3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c');
    expect(Buffer.from(nodeEd25519.signer(seed)(message)).toString('hex')).toBe(
      '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
    );
  });

  it('gives the same public keys and signatures as noble', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 600 }), (seed, message) => {
        expect(nodeEd25519.publicKey(seed)).toEqual(nobleEd25519.publicKey(seed));
        expect(nodeEd25519.signer(seed)(message)).toEqual(nobleEd25519.signer(seed)(message));
      }),
      { numRuns: 200 },
    );
  });

  it('one signer, many messages: the key is imported once and keeps signing correctly', () => {
    const seed = new Uint8Array(32).fill(9);
    const sign = nodeEd25519.signer(seed);
    const reference = nobleEd25519.signer(seed);
    seed.fill(0); // the signer must not depend on the caller's buffer afterwards
    for (let i = 0; i < 20; i++) {
      const m = new TextEncoder().encode(`message ${i}`);
      expect(sign(m)).toEqual(reference(m));
    }
  });

  it('refuses a seed of the wrong length', () => {
    expect(() => nodeEd25519.publicKey(new Uint8Array(31))).toThrow(/seed is 31 bytes, want 32/);
    expect(() => nodeEd25519.signer(new Uint8Array(33))).toThrow(/seed is 33 bytes, want 32/);
  });

  it('once installed, signs notes that verify as before, with the same bytes', () => {
    const { signerKey, verifierKey } = generateSignerKey('example.com/log');
    const before = signNote('hello\n', [parseSignerKey(signerKey)]);
    useEd25519Operations(nodeEd25519);
    expect(ed25519Operations().name).toBe('node:crypto');
    const after = signNote('hello\n', [parseSignerKey(signerKey)]);
    expect(after).toBe(before);
    expect(openNote(after, [parseVerifierKey(verifierKey)]).note.text).toBe('hello\n');
  });

  describe('quickAccept says yes only where noble strict does', () => {
    it('accepts valid signatures', () => {
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 300 }), (seed, message) => {
          const sig = nobleEd25519.signer(seed)(message);
          expect(nodeEd25519.quickAccept!(sig, message, nobleEd25519.publicKey(seed), 'strict')).toBe(true);
        }),
        { numRuns: 50 },
      );
    });

    it('never accepts what noble strict rejects (random corruptions)', () => {
      checkOneSided('strict', nobleStrict);
    });

    it('leaves to noble: S >= L, a small-order key, R with a small-order component', () => {
      useEd25519Operations(nodeEd25519);
      const seed = hex('4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb');
      const message = new TextEncoder().encode('edge cases');
      const pub = nobleEd25519.publicKey(seed);
      const sig = nobleEd25519.signer(seed)(message);

      // S + L: the same point equation, rejected by the strict range check.
      const unreduced = Uint8Array.from([...sig.subarray(0, 32), ...le32(fromLe(sig.subarray(32)) + L)]);
      expect(nodeEd25519.quickAccept!(unreduced, message, pub, 'strict')).toBe(false);
      expect(ed25519Verify(unreduced, message, pub)).toBe(nobleStrict(unreduced, message, pub));

      // A of small order (the identity) with R = [S]B: the cofactorless equation holds for any message.
      const identity = hex('0100000000000000000000000000000000000000000000000000000000000000');
      const s = 12345n;
      const weak = Uint8Array.from([...ed.Point.BASE.multiply(s).toBytes(), ...le32(s)]);
      expect(nodeEd25519.quickAccept!(weak, message, identity, 'strict')).toBe(false);
      expect(nobleStrict(weak, message, identity)).toBe(false);
      expect(ed25519Verify(weak, message, identity)).toBe(false);

      // R + T (T of order 8), S computed for it: only the cofactored equation holds.
      expect(ed.Point.fromBytes(ORDER_8).isSmallOrder()).toBe(true);
      const { scalar } = ed.utils.getExtendedPublicKey(seed);
      const r = 987654321n;
      const mixedR = ed.Point.BASE.multiply(r).add(ed.Point.fromBytes(ORDER_8)).toBytes();
      const k = modL(fromLe(sha512(Uint8Array.from([...mixedR, ...pub, ...message]))));
      const mixed = Uint8Array.from([...mixedR, ...le32(modL(r + k * scalar))]);
      expect(nobleStrict(mixed, message, pub)).toBe(true);
      expect(nodeEd25519.quickAccept!(mixed, message, pub, 'strict')).toBe(false);
      expect(ed25519Verify(mixed, message, pub)).toBe(true);
    });
  });

  describe("quickAccept under noble's ZIP-215 rules (registry entries) says yes only where noble does", () => {
    it('accepts valid signatures; never accepts what noble rejects (random corruptions)', () => {
      checkOneSided('zip215', nobleZip215);
    });

    it("leaves to noble: a non-canonical key; a small-order key stays noble's verdict either way", () => {
      const message = new TextEncoder().encode('zip215 edge cases');
      const s = 4242n;
      const sig = Uint8Array.from([...ed.Point.BASE.multiply(s).toBytes(), ...le32(s)]);
      // The identity, canonically and as y = p + 1 (non-canonical): with R = [S]B both verify under ZIP-215.
      const identity = hex('0100000000000000000000000000000000000000000000000000000000000000');
      const identityNonCanonical = hex('eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f');
      expect(nobleZip215(sig, message, identityNonCanonical)).toBe(true);
      expect(nodeEd25519.quickAccept!(sig, message, identityNonCanonical, 'zip215')).toBe(false);
      expect(nodeEd25519.quickAccept!(sig, message, identityNonCanonical, 'strict')).toBe(false);
      expect(nobleZip215(sig, message, identity)).toBe(true);
      // Whatever OpenSSL says of the small-order key, the combined verdict is noble's.
      expect(nodeEd25519.quickAccept!(sig, message, identity, 'zip215') || nobleZip215(sig, message, identity)).toBe(true);
      expect(nodeEd25519.quickAccept!(sig, message, identity, 'strict')).toBe(false);
    });

    it('registry entries: verifyEntrySignature gives the same verdicts with node:crypto installed', () => {
      const seed = new Uint8Array(32).fill(5);
      const pub = nobleEd25519.publicKey(seed);
      const message = new TextEncoder().encode('an entry');
      const good = nobleEd25519.signer(seed)(message);
      const bad = good.slice();
      bad[5]! ^= 1;
      useEd25519Operations(nodeEd25519);
      expect(ed25519QuickAccept(good, message, pub, 'zip215')).toBe(true);
      expect(ed25519QuickAccept(bad, message, pub, 'zip215')).toBe(false);
    });
  });
});
