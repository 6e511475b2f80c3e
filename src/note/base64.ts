// Strict RFC 4648 standard base64 (alphabet A-Z a-z 0-9 + /, padded with '=')
// for key strings, checkpoint roots and (minus the unused-bits check) signature lines. Private to src/note so the package
// stays dependency-free; src/merkle/encoding.ts has the public helpers.
//
// "Strict" means: only the 64-letter alphabet, length a multiple of 4, at most
// two '=' and only at the end, and the unused low bits of the last symbol zero
// (checked by re-encoding and comparing). Node's Buffer.from(s, 'base64')
// accepts all of these malformations, so it is not used (PROTOCOLS.md pitfall 3).

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const CANONICAL = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const DECODE: Int8Array = (() => {
  const table = new Int8Array(128).fill(-1);
  for (let i = 0; i < ALPHABET.length; i++) table[ALPHABET.charCodeAt(i)] = i;
  return table;
})();

/** Standard padded base64 of bytes. */
export function encodeBase64(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const b0 = bytes[i] as number;
    const b1 = i + 1 < bytes.length ? (bytes[i + 1] as number) : 0;
    const b2 = i + 2 < bytes.length ? (bytes[i + 2] as number) : 0;
    const n = b0 * 65536 + b1 * 256 + b2; // 24 bits, well below 2^31
    out += ALPHABET[(n >>> 18) & 63];
    out += ALPHABET[(n >>> 12) & 63];
    out += i + 1 < bytes.length ? ALPHABET[(n >>> 6) & 63] : '=';
    out += i + 2 < bytes.length ? ALPHABET[n & 63] : '=';
  }
  return out;
}

/**
 * Decodes strict standard base64; returns null when s is not the canonical
 * encoding of some byte string (callers turn that into their own coded error).
 */
export function decodeBase64Strict(s: string): Uint8Array | null {
  const out = decodeBase64Padded(s);
  // Non-zero unused bits ("AB==" vs "AA==") decode to the same bytes; only the
  // canonical spelling round-trips.
  return out !== null && encodeBase64(out) === s ? out : null;
}

/**
 * Decodes standard padded base64 as Go's base64.StdEncoding does for note
 * signature lines: alphabet and padding are strict, but non-zero unused bits
 * in the last symbol are ignored. Signature lines use this so that tilelog
 * classifies a note exactly like Go (a flipped last character is a bad
 * signature, not a malformed note). Returns null on any other deviation.
 */
export function decodeBase64Padded(s: string): Uint8Array | null {
  if (!CANONICAL.test(s)) return null;
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((s.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    let n = 0;
    for (let j = 0; j < 4; j++) {
      const c = s.charCodeAt(i + j);
      n = n * 64 + (c === 61 /* '=' */ ? 0 : (DECODE[c] as number));
    }
    if (o < out.length) out[o++] = (n >>> 16) & 255;
    if (o < out.length) out[o++] = (n >>> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
  }
  return out;
}
