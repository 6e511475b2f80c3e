// How the CLI writes and reads 32-byte hashes. Output is standard base64 (44
// characters), as in checkpoints (c2sp.org/tlog-checkpoint), proof bundles and
// the JSON API, so a root printed by one command can be compared by eye with
// the checkpoint's. Input takes either form; the two cannot be confused: 64
// hex digits vs 44 base64 characters ending in '='.

import { fromBase64Strict, fromHex, HASH_SIZE, toBase64, type Hash } from '../merkle/index.js';
import { UsageError } from './common.js';

/** The help text line every command that prints hashes shares. */
export const HASH_FORMAT_HELP = 'Hashes are printed in base64, as in checkpoints; hash flags take base64 or 64 hex digits.';

/** A hash for people and --json alike: standard padded base64. */
export function formatHash(h: Hash): string {
  return toBase64(h);
}

/** A hash given to `flag`: 64 hex digits (either case) or 44 base64 characters. UsageError naming both forms otherwise. */
export function parseHashFlag(flag: string, value: string): Hash {
  const v = value.trim();
  try {
    if (/^[0-9a-fA-F]{64}$/.test(v)) return fromHex(v.toLowerCase(), HASH_SIZE);
    if (v.length === 44) return fromBase64Strict(v, HASH_SIZE);
  } catch (err) {
    throw new UsageError(`${flag} is not a ${HASH_SIZE}-byte hash: ${(err as Error).message}`);
  }
  throw new UsageError(
    `${flag} must be a ${HASH_SIZE}-byte hash, as 64 hex digits or 44 base64 characters (e.g. 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=), ` +
      `got ${v.length} characters`,
  );
}
