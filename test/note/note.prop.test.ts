// Property tests: random key names and texts sign, parse and verify; random
// single-byte mutations never make a different note verify.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isTilelogError } from '../../src/errors.js';
import {
  formatCheckpoint,
  formatNote,
  generateSignerKey,
  openCheckpoint,
  openNote,
  parseCheckpoint,
  parseNote,
  parseSignerKey,
  parseVerifierKey,
  signCheckpoint,
  signNote,
} from '../../src/note/index.js';

// Characters for names: printable ASCII, Latin-1, CJK, emoji; filtered by Go's rules below.
const nameChar = fc.oneof(
  fc.integer({ min: 0x21, max: 0x7e }),
  fc.integer({ min: 0xa1, max: 0x17f }),
  fc.integer({ min: 0x4e00, max: 0x4e80 }),
  fc.integer({ min: 0x1f600, max: 0x1f64f }),
).map((cp) => String.fromCodePoint(cp)).filter((c) => c !== '+');
const keyName = fc.array(nameChar, { minLength: 1, maxLength: 40 }).map((cs) => cs.join(''));

// Text lines: anything but control characters (spaces, em dashes and blank lines allowed).
const textChar = fc.oneof(
  fc.integer({ min: 0x20, max: 0x7e }),
  fc.constant(0x2014),
  fc.integer({ min: 0x80, max: 0x2ff }),
  fc.integer({ min: 0x1f600, max: 0x1f602 }),
).map((cp) => String.fromCodePoint(cp));
const line = fc.array(textChar, { maxLength: 30 }).map((cs) => cs.join(''));
const noteText = fc.array(line, { minLength: 1, maxLength: 6 }).map((ls) => ls.join('\n') + '\n');
const seed = fc.uint8Array({ minLength: 32, maxLength: 32 });

const enc = new TextEncoder();

describe('note properties', () => {
  it('sign -> parse -> format -> open round-trips for random names, texts and 1-3 signers', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(keyName, seed), { minLength: 1, maxLength: 3, selector: ([n]) => n }), noteText, (keys, text) => {
        const pairs = keys.map(([name, s]) => generateSignerKey(name, s));
        const signers = pairs.map((p) => parseSignerKey(p.signerKey));
        const verifiers = pairs.map((p) => parseVerifierKey(p.verifierKey));
        const msg = signNote(text, signers);
        const parsed = parseNote(msg);
        expect(parsed.text).toBe(text);
        expect(formatNote(parsed)).toBe(msg);
        expect(openNote(msg, verifiers).verified).toHaveLength(signers.length);
        expect(openNote(enc.encode(msg), verifiers.slice(0, 1)).verified).toHaveLength(1);
      }),
      { numRuns: 100 },
    );
  });

  it('a single-byte mutation never makes a different note verify', () => {
    fc.assert(
      fc.property(keyName, seed, noteText, fc.nat(), fc.integer({ min: 1, max: 255 }), (name, s, text, at, xor) => {
        const { signerKey, verifierKey } = generateSignerKey(name, s);
        const verifier = parseVerifierKey(verifierKey);
        const bytes = enc.encode(signNote(text, [parseSignerKey(signerKey)]));
        const i = at % bytes.length;
        const mutated = bytes.slice();
        mutated[i] = (mutated[i] as number) ^ xor;
        let opened;
        try {
          opened = openNote(mutated, [verifier]);
        } catch (err) {
          expect(isTilelogError(err), String(err)).toBe(true);
          return;
        }
        // Only a change to the unused low bits of the last base64 symbol can
        // survive (Go ignores them too): the signed text and signature are unchanged.
        expect(opened.note.text).toBe(text);
        expect(opened.verified[0]!.signature).toEqual(parseNote(bytes).signatures[0]!.signature);
      }),
      { numRuns: 300 },
    );
  });
});

describe('checkpoint properties', () => {
  const checkpoint = fc.record({
    origin: keyName,
    size: fc.oneof(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: 1, max: 1000 })),
    root: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    extensions: fc.array(line.filter((l) => l.length > 0), { maxLength: 3 }),
  });

  it('format -> parse and sign -> open round-trip', () => {
    fc.assert(
      fc.property(checkpoint, seed, (c, s) => {
        expect(parseCheckpoint(formatCheckpoint(c))).toEqual(c);
        const keys = generateSignerKey(c.origin, s);
        const msg = signCheckpoint(c, parseSignerKey(keys.signerKey));
        expect(openCheckpoint(msg, c.origin, [parseVerifierKey(keys.verifierKey)]).checkpoint).toEqual(c);
      }),
      { numRuns: 100 },
    );
  });

  it('any decimal size string parses to exactly its value or is rejected', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 2n ** 64n }), (n) => {
        const text = `o\n${n}\n${Buffer.from(new Uint8Array(32)).toString('base64')}\n`;
        if (n <= BigInt(Number.MAX_SAFE_INTEGER)) {
          expect(BigInt(parseCheckpoint(text).size)).toBe(n);
        } else {
          expect(() => parseCheckpoint(text)).toThrow(/2\^53-1/);
        }
      }),
    );
  });
});
