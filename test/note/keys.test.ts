import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import {
  formatVerifierKey,
  generateSignerKey,
  isValidKeyName,
  keyId,
  parseSignerKey,
  parseVerifierKey,
} from '../../src/note/index.js';
import { expectCode } from './helpers.js';

// PROTOCOLS.md 9.5 (golang/mod sumdb/note doc and note_test.go).
const PETER_SKEY = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const PETER_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const PETER_PUB = '1a5cd907143c384c41e830c5bce12aa8817ec5649aaabf2c31388b35b2d744d6';

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

describe('key IDs', () => {
  it('hashes name || LF || type || key', () => {
    const pub = Uint8Array.from(Buffer.from(PETER_PUB, 'hex'));
    expect(keyId('PeterNeumann', 0x01, pub)).toBe(0xc74f20a3);
    const buf = new Uint8Array([...new TextEncoder().encode('PeterNeumann'), 0x0a, 0x01, ...pub]);
    expect(keyId('PeterNeumann', 0x01, pub)).toBe(new DataView(sha256(buf).buffer).getUint32(0));
  });

  it('returns IDs with the top bit set as unsigned numbers', () => {
    // 0xc74f20a3 > 2^31: must not come out negative.
    expect(keyId('PeterNeumann', 0x01, Buffer.from(PETER_PUB, 'hex'))).toBeGreaterThan(2 ** 31);
  });

  it('hashes the UTF-8 bytes of the name', () => {
    const pub = new Uint8Array(32);
    const utf8 = new Uint8Array([...new TextEncoder().encode('é—'), 0x0a, 0x01, ...pub]);
    expect(keyId('é—', 0x01, pub)).toBe(new DataView(sha256(utf8).buffer).getUint32(0));
  });
});

describe('parseSignerKey / parseVerifierKey (Go vectors)', () => {
  it('parses the PeterNeumann signer key and derives its verifier key', () => {
    const s = parseSignerKey(PETER_SKEY);
    expect(s.name).toBe('PeterNeumann');
    expect(s.keyId).toBe(0xc74f20a3);
    expect(hex(s.publicKey)).toBe(PETER_PUB);
    expect(s.verifierKey).toBe(PETER_VKEY);
  });

  it('parses the PeterNeumann verifier key', () => {
    const v = parseVerifierKey(PETER_VKEY);
    expect(v.name).toBe('PeterNeumann');
    expect(v.keyId).toBe(0xc74f20a3);
    expect(v.type).toBe(0x01);
    expect(hex(v.publicKey)).toBe(PETER_PUB);
  });

  it('rejects the wrong key length and an unknown type', () => {
    expectCode(() => parseVerifierKey('PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=='), 'NOTE_BAD_KEY');
    expectCode(() => parseVerifierKey('PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'), 'NOTE_BAD_KEY');
  });

  it('splits only the first separators: base64 may contain +', () => {
    // The seed's base64 holds a '+'; a naive split('+') would break it.
    expect(PETER_SKEY.split('+').length).toBeGreaterThan(5);
    expect(() => parseSignerKey(PETER_SKEY)).not.toThrow();
  });

  it('accepts an upper-case key ID like Go (strconv.ParseUint base 16)', () => {
    expect(parseVerifierKey(PETER_VKEY.replace('c74f20a3', 'C74F20A3')).keyId).toBe(0xc74f20a3);
  });

  const badVkeys: Array<[string, string]> = [
    ['mismatched key ID', PETER_VKEY.replace('c74f20a3', 'c74f20a4')],
    ['7-digit key ID', PETER_VKEY.replace('c74f20a3', 'c74f20a')],
    ['9-digit key ID', PETER_VKEY.replace('c74f20a3', '0c74f20a3')],
    ['non-hex key ID', PETER_VKEY.replace('c74f20a3', 'c74f20ag')],
    ['missing padding', 'example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k'.slice(0, -1)],
    ['URL-safe alphabet', PETER_VKEY.replace('/', '_')],
    ['junk in base64', PETER_VKEY.replace('ARpc', 'AR pc')],
    ['other key bytes (ID mismatch)', 'example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2l'],
    ['empty key', 'PeterNeumann+c74f20a3+'],
    ['no key field', 'PeterNeumann+c74f20a3'],
    ['empty name', '+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'],
    ['name with space', 'Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'],
    ['trailing newline', PETER_VKEY + '\n'],
  ];
  it.each(badVkeys)('rejects a verifier key with %s', (_, vkey) => {
    expectCode(() => parseVerifierKey(vkey), 'NOTE_BAD_KEY');
  });

  const badSkeys: Array<[string, string]> = [
    ['no PRIVATE+KEY prefix', PETER_SKEY.slice('PRIVATE+KEY+'.length)],
    ['lower-case prefix', PETER_SKEY.replace('PRIVATE+KEY', 'private+key')],
    ['mismatched key ID', PETER_SKEY.replace('c74f20a3', '00000000')],
    ['short seed', 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXH'],
    ['cosignature type byte', PETER_SKEY.replace('+AYEK', '+BIEK')],
    ['name with U+0085', PETER_SKEY.replace('PeterNeumann', 'Peter\u0085Neumann')],
  ];
  it.each(badSkeys)('rejects a signer key with %s', (_, skey) => {
    expectCode(() => parseSignerKey(skey), 'NOTE_BAD_KEY');
  });

  it('does not echo a signer key in its error message', () => {
    const bad = PETER_SKEY.replace('c74f20a3', '00000000');
    try {
      parseSignerKey(bad);
    } catch (err) {
      expect(String(err)).not.toContain('AYEKFALVFGyNhPJEMzD1QIDr');
    }
  });
});

describe('key names (PROTOCOLS.md 2.1, pitfall 6)', () => {
  // Go unicode.IsSpace, which JS \s does not match exactly.
  const spaces = ['\t', '\n', '\v', '\f', '\r', ' ', '\u0085', '\u00a0', '\u1680', '\u2000', '\u200a', '\u2028', '\u2029', '\u202f', '\u205f', '\u3000'];
  it.each(spaces.map((c) => [c.codePointAt(0)!.toString(16), c]))('rejects white space U+%s', (_, c) => {
    expect(isValidKeyName(`a${c}b`)).toBe(false);
  });
  it('accepts U+FEFF and U+200B, which Go does not count as space', () => {
    expect(isValidKeyName('a\ufeffb')).toBe(true);
    expect(isValidKeyName('a\u200bb')).toBe(true);
  });
  it('rejects empty, +, control characters and lone surrogates', () => {
    for (const name of ['', 'a+b', 'a\u0001b', '\ud800x']) expect(isValidKeyName(name)).toBe(false);
  });
  it('accepts URLs and non-ASCII names', () => {
    for (const name of ['example.com/log', 'sum.golang.org', 'ünïcødé—名前', 'a'.repeat(300)]) {
      expect(isValidKeyName(name)).toBe(true);
    }
  });
});

describe('generateSignerKey', () => {
  it('round-trips through the parsers', () => {
    const { signerKey, verifierKey } = generateSignerKey('example.com/log');
    expect(signerKey).toMatch(/^PRIVATE\+KEY\+example\.com\/log\+[0-9a-f]{8}\+A[A-Za-z0-9+/]{43}$/);
    const s = parseSignerKey(signerKey);
    const v = parseVerifierKey(verifierKey);
    expect(s.verifierKey).toBe(verifierKey);
    expect(v.keyId).toBe(s.keyId);
    const msg = new TextEncoder().encode('hello\n');
    expect(v.verify(msg, s.sign(msg))).toBe(true);
  });

  it('is deterministic given a seed and reproduces the Go PeterNeumann key', () => {
    const seed = Buffer.from('AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz', 'base64').subarray(1);
    expect(generateSignerKey('PeterNeumann', Uint8Array.from(seed))).toEqual({ signerKey: PETER_SKEY, verifierKey: PETER_VKEY });
  });

  it('refuses invalid or over-long names and wrong seed sizes', () => {
    expectCode(() => generateSignerKey('bad name'), 'NOTE_BAD_KEY');
    expectCode(() => generateSignerKey('a'.repeat(256)), 'NOTE_BAD_KEY');
    expect(() => generateSignerKey('ok', new Uint8Array(31))).toThrow(RangeError);
  });

  it('formatVerifierKey matches the derived key', () => {
    const v = parseVerifierKey(PETER_VKEY);
    expect(formatVerifierKey('PeterNeumann', 0x01, v.publicKey)).toBe(PETER_VKEY);
  });

  it('verify returns false, not an exception, for junk signatures', () => {
    const v = parseVerifierKey(PETER_VKEY);
    const msg = new Uint8Array([1]);
    expect(v.verify(msg, new Uint8Array(63))).toBe(false);
    expect(v.verify(msg, new Uint8Array(64).fill(0xff))).toBe(false);
    expect(v.verify(msg, new Uint8Array(64))).toBe(false);
  });
});
