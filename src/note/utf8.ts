// UTF-8 helpers shared by the note modules. Notes are signed and hashed as
// UTF-8 bytes (PROTOCOLS.md pitfall 4): '—' is three bytes, and key IDs hash
// the UTF-8 bytes of the key name.

const encoder = new TextEncoder();
const fatalDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

// A UTF-16 surrogate without its partner cannot be encoded as UTF-8;
// TextEncoder would silently replace it with U+FFFD.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function utf8Encode(s: string): Uint8Array {
  return encoder.encode(s);
}

/** Decodes UTF-8, or returns null for any invalid sequence (overlong, surrogate, truncated). */
export function utf8DecodeStrict(bytes: Uint8Array): string | null {
  try {
    return fatalDecoder.decode(bytes);
  } catch {
    return null;
  }
}

/** True when the JS string is well-formed UTF-16, i.e. it has a UTF-8 encoding. */
export function isWellFormed(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}

/** True when s holds a character below U+0020 other than LF (Go note rule). */
export function hasControlChar(s: string): boolean {
  return /[\u0000-\u0009\u000b-\u001f]/.test(s);
}
