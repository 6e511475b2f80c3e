// Strict parsing of path parameters. Anything non-canonical is a 400:
// decimals match /^(0|[1-9][0-9]*)$/ and are at most 2^53-1; hashes are
// exactly 64 lowercase hex characters.

import { httpError } from './errors.js';

const DECIMAL = /^(0|[1-9][0-9]*)$/;
const HEX_HASH = /^[0-9a-f]{64}$/;

/** Parses a canonical decimal in [0, 2^53-1]; names the parameter on failure. */
export function parseDecimal(name: string, s: string): number {
  if (!DECIMAL.test(s) || s.length > 16) throw badDecimal(name, s);
  const n = Number(s);
  if (!Number.isSafeInteger(n)) throw badDecimal(name, s);
  return n;
}

function badDecimal(name: string, s: string) {
  return httpError(
    'HTTP_BAD_REQUEST',
    `${name} must be a decimal integer in [0, 2^53-1] without leading zeros, got ${JSON.stringify(clip(s))}`,
  );
}

/** True when s looks like a hex hash rather than a decimal. */
export function isHexHash(s: string): boolean {
  return HEX_HASH.test(s);
}

/** Parses 64 lowercase hex characters into 32 bytes. */
export function parseHexHash(name: string, s: string): Uint8Array {
  if (!HEX_HASH.test(s)) {
    throw httpError('HTTP_BAD_REQUEST', `${name} must be 64 lowercase hex characters, got ${JSON.stringify(clip(s))}`);
  }
  return new Uint8Array(Buffer.from(s, 'hex'));
}

/**
 * A tree reference: a decimal size, or the hex root of a checkpoint this log
 * published (resolved with sizeForRoot; unknown roots are a 404).
 */
export async function parseTreeRef(name: string, s: string, sizeForRoot: (root: Uint8Array) => Promise<number | null>): Promise<number> {
  const ref = checkTreeRef(name, s);
  if (typeof ref !== 'number') {
    const size = await sizeForRoot(ref);
    if (size === null) throw httpError('LOG_NOT_FOUND', `${name}: this log published no checkpoint with root ${s}`);
    return size;
  }
  return ref;
}

/** A tree reference's syntax alone (the route schema's check): the decimal size, or the root's 32 bytes. */
export function checkTreeRef(name: string, s: string): number | Uint8Array {
  return s.length === 64 && !DECIMAL.test(s) ? parseHexHash(name, s) : parseDecimal(name, s);
}

/** Standard padded base64 of bytes, as every hash in our JSON. */
export function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

function clip(s: string): string {
  return s.length > 80 ? `${s.slice(0, 80)}...` : s;
}
