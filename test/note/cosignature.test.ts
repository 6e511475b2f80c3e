import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import {
  cosignatureMessage,
  generateCosignerKey,
  openCheckpoint,
  openNote,
  parseCosignature,
  parseCosignatureVerifierKey,
  parseCosignerKey,
  parseNote,
  parseSignerKey,
  parseVerifierKey,
  signerKeyType,
  signNote,
} from '../../src/note/index.js';
import { expectCode } from './helpers.js';

const TEXT = 'example.com/log\n5\nQrtXrQZCCvpIgsSmOsah7HdICzMLLyDfxToMql9WTjY=\n';

describe('PROTOCOLS.md 9.7 cosignature vectors', () => {
  it('decodes the C2SP example line framing: key ID, u64be timestamp, 64-byte signature', () => {
    const line =
      '— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n';
    const [sig] = parseNote(`${TEXT}\n${line}`).signatures;
    expect(sig!.name).toBe('witness.example.com/w1');
    expect(sig!.keyId).toBe(0x8d66cf3f);
    expect(sig!.signature).toHaveLength(72);
    const { timestamp, signature } = parseCosignature(sig!.signature);
    expect(timestamp).toBe(1679315147);
    expect(signature).toHaveLength(64);
    expect(line.trim().split(' ')[2]).toHaveLength(104);
  });

  it('key ID of a type 0x04 vkey (transparency-dev/formats)', () => {
    const v = parseCosignatureVerifierKey('remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2');
    expect(v.keyId).toBe(0xda77ade7);
    expect(v.type).toBe(0x04);
  });

  it('a type 0x01 vkey keeps its own ID as a note key and gets fdd2dbc7 as a cosignature key', () => {
    const vkey = 'TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6';
    expect(parseVerifierKey(vkey).keyId).toBe(0x7997405c);
    expect(parseCosignatureVerifierKey(vkey).keyId).toBe(0xfdd2dbc7);
  });

  it('a 0x04 vkey is not an ordinary note key (Go rejects the type)', () => {
    expectCode(() => parseVerifierKey('remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2'), 'NOTE_BAD_KEY');
  });

  it('witness monitoring path: hex(SHA-256(origin))/checkpoint', () => {
    const path = `${Buffer.from(sha256(new TextEncoder().encode('example.com/behind-the-sofa'))).toString('hex')}/checkpoint`;
    expect(path).toBe('5fd2dc0beb4ce54da5050cf6d5c75248b023abad441c3cecde3976fbe9da4fe4/checkpoint');
  });
});

describe('cosignature/v1', () => {
  it('builds the signed message', () => {
    expect(new TextDecoder().decode(cosignatureMessage(TEXT, 1679315147))).toBe(`cosignature/v1\ntime 1679315147\n${TEXT}`);
    expect(new TextDecoder().decode(cosignatureMessage(TEXT, 2n ** 63n - 1n))).toContain('time 9223372036854775807\n');
    expect(() => cosignatureMessage(TEXT, 2n ** 63n)).toThrow(RangeError);
    expect(() => cosignatureMessage(TEXT, -1)).toThrow(RangeError);
    expectCode(() => cosignatureMessage('no newline', 1), 'NOTE_MALFORMED');
  });

  it('generates keys whose skey is a Go Ed25519 key and whose vkey is type 0x04', () => {
    const { signerKey, verifierKey } = generateCosignerKey('witness.example/w');
    const plain = parseSignerKey(signerKey); // a valid Go type 0x01 signer key
    const cosigner = parseCosignerKey(signerKey);
    const v = parseCosignatureVerifierKey(verifierKey);
    expect(cosigner.verifierKey).toBe(verifierKey);
    expect(v.keyId).toBe(cosigner.keyId);
    expect(v.keyId).not.toBe(plain.keyId);
    expect(verifierKey).toMatch(/\+B[A-Za-z0-9+/]{43}$/);
  });

  it('signs with the clock, verifies inside a note and exposes the timestamp', () => {
    const { signerKey, verifierKey } = generateCosignerKey('witness.example/w');
    const cosigner = parseCosignerKey(signerKey, { now: () => 1700000000 });
    const v = parseCosignatureVerifierKey(verifierKey);
    const msg = signNote(TEXT, [cosigner]);
    const line = msg.split('\n').at(-2)!;
    expect(line.split(' ')[2]).toHaveLength(104);
    const { verified } = openNote(msg, [v]);
    expect(v.timestamp(verified[0]!.signature)).toBe(1700000000);
  });

  it('rejects a changed timestamp, text or length', () => {
    const { signerKey, verifierKey } = generateCosignerKey('w');
    const cosigner = parseCosignerKey(signerKey);
    const v = parseCosignatureVerifierKey(verifierKey);
    const text = new TextEncoder().encode(TEXT);
    const sig = cosigner.signAt(text, 1234);
    expect(v.verify(text, sig)).toBe(true);
    const later = sig.slice();
    later[7] = 0xd3; // 1234 = 0x04d2
    expect(v.verify(text, later)).toBe(false);
    expect(v.verify(new TextEncoder().encode(TEXT + 'ext\n'), sig)).toBe(false);
    expect(v.verify(text, sig.subarray(8))).toBe(false);
    expect(v.verify(text, new Uint8Array(72).fill(0xff))).toBe(false); // timestamp > 2^63-1
    expect(() => v.timestamp(sig.subarray(1))).toThrow();
    expectCode(() => parseCosignature(new Uint8Array(72).fill(0xff)), 'NOTE_MALFORMED');
  });

  it('an ordinary Ed25519 verifier for the same key does not accept a cosignature, nor vice versa', () => {
    const { signerKey } = generateCosignerKey('w');
    const plain = parseSignerKey(signerKey);
    const cos = parseCosignatureVerifierKey(parseCosignerKey(signerKey).verifierKey);
    const msg = signNote(TEXT, [plain]);
    expectCode(() => openNote(msg, [cos]), 'NOTE_UNVERIFIED'); // different key ID: ignored
  });

  it('a type 0x04 signer key (witness keygen): same cosigner and verifier key as the 0x01 form, refused as a log key', () => {
    const seed = new Uint8Array(32).fill(3);
    const plain = generateCosignerKey('witness.example/w', seed);
    const marked = generateCosignerKey('witness.example/w', seed, { signerKeyType: 0x04 });
    expect([signerKeyType(plain.signerKey), signerKeyType(marked.signerKey)]).toEqual([0x01, 0x04]);
    expect(marked.verifierKey).toBe(plain.verifierKey);
    expect(marked.signerKey.split('+')[3]).toBe(marked.verifierKey.split('+')[1]);
    const text = new TextEncoder().encode(TEXT);
    expect(parseCosignerKey(marked.signerKey).signAt(text, 5)).toEqual(parseCosignerKey(plain.signerKey).signAt(text, 5));
    expectCode(() => parseSignerKey(marked.signerKey), 'NOTE_BAD_KEY');
    expect(() => generateCosignerKey('w', seed, { signerKeyType: 0x02 as 0x01 })).toThrow(RangeError);
  });

  it('is deterministic for a fixed seed and timestamp', () => {
    const seed = new Uint8Array(32).fill(9);
    const a = parseCosignerKey(generateCosignerKey('w', seed).signerKey);
    const b = parseCosignerKey(generateCosignerKey('w', seed).signerKey);
    const text = new TextEncoder().encode(TEXT);
    expect(a.signAt(text, 5)).toEqual(b.signAt(text, 5));
  });

  it('cosigns a checkpoint next to the log signature', () => {
    const log = parseSignerKey(generateCosignerKey('example.com/log').signerKey);
    const logV = parseVerifierKey(log.verifierKey);
    const { signerKey, verifierKey } = generateCosignerKey('witness.example/w');
    const signed = signNote(TEXT, [log]);
    const cosigned = signNote(TEXT, [parseCosignerKey(signerKey)], parseNote(signed).signatures);
    const opened = openCheckpoint(cosigned, 'example.com/log', [logV, parseCosignatureVerifierKey(verifierKey)]);
    expect(opened.verified.map((s) => s.name)).toEqual(['example.com/log', 'witness.example/w']);
  });
});
