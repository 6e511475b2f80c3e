// The monitoring path segment of c2sp.org/tlog-witness: lowercase hex
// SHA-256 of the origin's UTF-8 bytes (PROTOCOLS.md 6.2, 9.7).

import { sha256 } from '@noble/hashes/sha2.js';
import { toHex } from '../merkle/index.js';

/** Lowercase hex SHA-256(origin). */
export function originHash(origin: string): string {
  return toHex(sha256(new TextEncoder().encode(origin)));
}
