// Strict hex and base64 codecs (no node: Buffer, which silently skips junk).
//
// Hex is lowercase only. Base64 is RFC 4648 standard (alphabet A-Z a-z 0-9 + /,
// '=' padding to a multiple of 4 characters). Decoders accept only the one
// canonical encoding of a byte string: the decoded bytes must re-encode to the
// input exactly (this rejects non-zero unused bits such as "QR==").

import { TilelogError } from '../errors.js';

const HEX_DIGITS = '0123456789abcdef';
const B64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

// Reverse lookup: char code -> 6-bit value, or -1 when not in the alphabet.
const B64_VALUE: Int8Array = (() => {
  const t = new Int8Array(128).fill(-1);
  for (let i = 0; i < B64_ALPHABET.length; i++) t[B64_ALPHABET.charCodeAt(i)] = i;
  return t;
})();

function bad(message: string): TilelogError {
  return new TilelogError('MERKLE_BAD_ENCODING', `encoding: ${message}`);
}

function assertString(name: string, s: unknown): asserts s is string {
  if (typeof s !== 'string') throw new TypeError(`encoding: ${name} must be a string`);
}

// Value of one lowercase hex digit, or -1.
function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30; // 0-9
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10; // a-f
  return -1;
}

/** Lowercase hex of bytes: 2·|bytes| characters. */
export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    s += HEX_DIGITS[b >> 4]! + HEX_DIGITS[b & 15]!;
  }
  return s;
}

// fromHex(s, byteLength?): the bytes of lowercase hex s. Throws
// MERKLE_BAD_ENCODING on odd length, an upper-case or non-hex character, or a
// decoded length other than byteLength when given (use 32 for hashes).
export function fromHex(s: string, byteLength?: number): Uint8Array {
  assertString('hex', s);
  if (s.length % 2 !== 0) throw bad('odd-length hex');
  const n = s.length / 2;
  if (byteLength !== undefined && n !== byteLength) {
    throw bad(`hex decodes to ${n} bytes, want ${byteLength}`);
  }
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const h = hexValue(s.charCodeAt(2 * i));
    const l = hexValue(s.charCodeAt(2 * i + 1));
    if (h < 0 || l < 0) throw bad('hex must be lowercase [0-9a-f]');
    out[i] = h * 16 + l;
  }
  return out;
}

/** Standard padded base64 of bytes: 4·ceil(|bytes|/3) characters. */
export function toBase64(bytes: Uint8Array): string {
  let s = '';
  let i = 0;
  for (; i + 3 <= bytes.length; i += 3) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    s += B64_ALPHABET[v >> 18]! + B64_ALPHABET[(v >> 12) & 63]! + B64_ALPHABET[(v >> 6) & 63]! + B64_ALPHABET[v & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const v = bytes[i]! << 16;
    s += B64_ALPHABET[v >> 18]! + B64_ALPHABET[(v >> 12) & 63]! + '==';
  } else if (rest === 2) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    s += B64_ALPHABET[v >> 18]! + B64_ALPHABET[(v >> 12) & 63]! + B64_ALPHABET[(v >> 6) & 63]! + '=';
  }
  return s;
}

// fromBase64Strict(s, byteLength?): the bytes of canonical padded standard
// base64 s. Throws MERKLE_BAD_ENCODING when |s| is not a multiple of 4, a
// character is outside the alphabet, '=' appears other than as 1-2 final
// padding characters, unused bits are non-zero (round-trip check), or the
// decoded length differs from byteLength when given.
export function fromBase64Strict(s: string, byteLength?: number): Uint8Array {
  assertString('base64', s);
  if (s.length % 4 !== 0) throw bad('base64 length is not a multiple of 4');
  let pad = 0;
  if (s.endsWith('==')) pad = 2;
  else if (s.endsWith('=')) pad = 1;
  const n = (s.length / 4) * 3 - pad;
  if (byteLength !== undefined && n !== byteLength) {
    throw bad(`base64 decodes to ${n} bytes, want ${byteLength}`);
  }
  const out = new Uint8Array(n);
  const dataChars = s.length - pad;
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < dataChars; i++) {
    const c = s.charCodeAt(i);
    const v = c < 128 ? (B64_VALUE[c] as number) : -1;
    if (v < 0) throw bad('base64 has a character outside A-Z a-z 0-9 + /');
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  if (o !== n) throw new Error('encoding: bad math in fromBase64Strict');
  // Unused low bits must be zero, so each byte string has one encoding.
  if ((acc & ((1 << bits) - 1)) !== 0) throw bad('base64 has non-zero padding bits');
  return out;
}
