// Small helpers shared inside src/log.
export { EMPTY_ROOT, hashEqual } from '../merkle/hash.js';

/** Lowercase hex of a hash, for messages. */
export function toHexSafe(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}
