// Checkpoints (c2sp.org/tlog-checkpoint), PROTOCOLS.md 3: the text of a signed note,
//
//   <origin> LF
//   <tree size, canonical decimal> LF
//   <b64 of the 32-byte root> LF
//   [<extension line> LF]*
//
// Sizes are JS numbers: 0 <= size <= 2^53-1. A canonical size above that is a
// MERKLE_RANGE error, never a silently rounded number.

import { sha256 } from '@noble/hashes/sha2.js';
import { TilelogError } from '../errors.js';
import { decodeBase64Strict, encodeBase64 } from './base64.js';
import type { NoteSigner, NoteVerifier } from './keys.js';
import { parseNote, signNote, verifyNote, type Note, type NoteSignature } from './note.js';
import { hasControlChar, isWellFormed } from './utf8.js';

export interface Checkpoint {
  /** The log's origin line, unique per log; non-empty, no control characters. */
  origin: string;
  /** Tree size: number of leaves, 0 <= size <= 2^53-1. */
  size: number;
  /** The 32-byte RFC 6962 root hash MTH(D[0:size]). */
  root: Uint8Array;
  /** Optional opaque, non-empty extension lines (without LF). */
  extensions: string[];
}

export interface OpenedCheckpoint {
  checkpoint: Checkpoint;
  note: Note;
  /** Verified signatures, one per known (name, key ID). */
  verified: NoteSignature[];
  /** Lines from unknown keys (cosignatures one did not ask about, etc.). */
  unverified: NoteSignature[];
}

const ROOT_SIZE = 32;
const DECIMAL = /^(0|[1-9][0-9]*)$/;
// SHA-256 of the empty string: the root of the empty tree (RFC 6962 2.1).
const EMPTY_TREE_ROOT = sha256(new Uint8Array(0));

/** The checkpoint note text, ending in LF. Validates every field. */
export function formatCheckpoint(c: Checkpoint): string {
  checkLine(c.origin, 'origin');
  if (!Number.isSafeInteger(c.size) || c.size < 0) {
    throw new TilelogError('MERKLE_RANGE', `checkpoint: size ${c.size} is not an integer in [0, 2^53-1]`);
  }
  if (!(c.root instanceof Uint8Array) || c.root.length !== ROOT_SIZE) {
    throw malformed(`root must be ${ROOT_SIZE} bytes`);
  }
  if (c.size === 0 && !bytesEqual(c.root, EMPTY_TREE_ROOT)) {
    throw malformed('size 0 requires the empty-tree root SHA-256("")');
  }
  for (const ext of c.extensions) checkLine(ext, 'extension line');
  let text = `${c.origin}\n${c.size}\n${encodeBase64(c.root)}\n`;
  for (const ext of c.extensions) text += `${ext}\n`;
  return text;
}

/** Parses checkpoint note text strictly. Throws NOTE_MALFORMED, or MERKLE_RANGE for sizes above 2^53-1. */
export function parseCheckpoint(text: string): Checkpoint {
  if (typeof text !== 'string') throw new TypeError('checkpoint: text must be a string');
  if (!text.endsWith('\n')) throw malformed('text must end in LF');
  if (!isWellFormed(text) || hasControlChar(text)) throw malformed('text has invalid UTF-8 or a control character');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw malformed(`want at least 3 lines (origin, size, root), got ${lines.length}`);
  const [origin, sizeText, rootText, ...extensions] = lines as [string, string, string, ...string[]];
  lines.forEach((line, i) => {
    if (line.length === 0) throw malformed(`line ${i + 1} is empty`);
  });

  if (!DECIMAL.test(sizeText)) throw malformed(`size ${JSON.stringify(sizeText)} is not canonical decimal`);
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) {
    throw new TilelogError('MERKLE_RANGE', `checkpoint: size ${sizeText} exceeds 2^53-1, which tilelog does not support`);
  }

  const root = decodeBase64Strict(rootText);
  if (root === null) throw malformed(`root ${JSON.stringify(rootText)} is not canonical standard base64`);
  if (root.length !== ROOT_SIZE) throw malformed(`root is ${root.length} bytes, want ${ROOT_SIZE}`);
  if (size === 0 && !bytesEqual(root, EMPTY_TREE_ROOT)) throw malformed('size 0 requires the empty-tree root');

  return { origin, size, root, extensions };
}

/** Formats and signs a checkpoint with one signer (e.g. the log key). */
export function signCheckpoint(c: Checkpoint, signer: NoteSigner): string {
  return signNote(formatCheckpoint(c), [signer]);
}

/**
 * Opens a signed checkpoint: the note parses, the checkpoint text parses, the
 * origin matches `origin` byte for byte, and the note verifies (Go Open rules)
 * under `verifiers`. Origin mismatch is NOTE_WRONG_ORIGIN, checked before the
 * signatures so a witness can tell "not my log" from "bad signature".
 */
export function openCheckpoint(
  message: string | Uint8Array,
  origin: string,
  verifiers: readonly NoteVerifier[],
): OpenedCheckpoint {
  const parsed = parseNote(message);
  const checkpoint = parseCheckpoint(parsed.text);
  if (checkpoint.origin !== origin) {
    throw new TilelogError(
      'NOTE_WRONG_ORIGIN',
      `checkpoint: origin ${JSON.stringify(checkpoint.origin)} is not the expected ${JSON.stringify(origin)}`,
    );
  }
  const { note, verified, unverified } = verifyNote(parsed, verifiers);
  return { checkpoint, note, verified, unverified };
}

function checkLine(s: string, what: string): void {
  if (typeof s !== 'string') throw new TypeError(`checkpoint: ${what} must be a string`);
  if (s.length === 0) throw malformed(`${what} must not be empty`);
  if (s.includes('\n') || hasControlChar(s) || !isWellFormed(s)) {
    throw malformed(`${what} ${JSON.stringify(s)} contains LF, a control character or invalid UTF-8`);
  }
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

function malformed(message: string): TilelogError {
  return new TilelogError('NOTE_MALFORMED', `checkpoint: ${message}`);
}
