// Signed notes (c2sp.org/signed-note; Go golang.org/x/mod/sumdb/note), PROTOCOLS.md 2:
//
//   <text: lines, each ending in LF>         signed bytes = exactly the text
//   LF
//   — <key name> SP b64(keyID4 || sig) LF    one or more signature lines
//
// The whole note is valid UTF-8 with no byte below 0x20 except LF, and text
// and signatures split at the LAST "\n\n". openNote follows Go's Open: lines
// from unknown (name, key ID) pairs are ignored, a known key whose signature
// fails rejects the whole note, and at least one known key must verify.

import { TilelogError } from '../errors.js';
import { decodeBase64Padded, encodeBase64 } from './base64.js';
import { isValidKeyName, type NoteSigner, type NoteVerifier } from './keys.js';
import { hasControlChar, isWellFormed, utf8DecodeStrict, utf8Encode } from './utf8.js';

/** Largest note we parse, in bytes (Go's sumdb client and torchwood use the same cap). */
export const MAX_NOTE_SIZE = 1_000_000;
/** Most signature lines a note may carry (Go rejects more than 100). */
export const MAX_NOTE_SIGNATURES = 100;

const SIG_PREFIX = '— '; // U+2014 EM DASH, SPACE: bytes E2 80 94 20

export interface NoteSignature {
  /** Key name, as written on the line. */
  name: string;
  /** Key ID: the first 4 bytes of the decoded base64, big-endian. */
  keyId: number;
  /** The signature bytes after the 4-byte key ID. */
  signature: Uint8Array;
  /** The whole line as it appears in the note, `— <name> <b64>`, without its LF. */
  line: string;
}

export interface Note {
  /** The signed text; ends in LF. */
  text: string;
  /** Signature lines in note order, as parsed (no deduplication). */
  signatures: NoteSignature[];
}

export interface OpenedNote {
  note: Note;
  /** Signatures by known keys that verified, one per (name, key ID), in note order. */
  verified: NoteSignature[];
  /** Lines from unknown keys, byte-identical repeats dropped (Go's UnverifiedSigs). */
  unverified: NoteSignature[];
}

/** Parses a note without verifying anything. Throws NOTE_MALFORMED. */
export function parseNote(message: string | Uint8Array): Note {
  const msg = noteString(message);
  const split = msg.lastIndexOf('\n\n');
  if (split < 0) throw malformed('no blank line before the signature block');
  const text = msg.slice(0, split + 1);
  const block = msg.slice(split + 2);
  if (block.length === 0) throw malformed('no signature lines after the blank line');
  if (!block.endsWith('\n')) throw malformed('the last signature line does not end in LF');

  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_NOTE_SIGNATURES) {
    throw malformed(`${lines.length} signature lines; at most ${MAX_NOTE_SIGNATURES} are allowed`);
  }
  return { text, signatures: lines.map((line, i) => parseSignatureLine(line, i + 1)) };
}

/** Formats a note from its text and signatures (built from name, keyId and signature). */
export function formatNote(note: Note): string {
  checkText(note.text);
  if (note.signatures.length === 0) throw malformed('a note needs at least one signature');
  if (note.signatures.length > MAX_NOTE_SIGNATURES) throw malformed(`more than ${MAX_NOTE_SIGNATURES} signatures`);
  let out = note.text + '\n';
  for (const sig of note.signatures) out += formatSignatureLine(sig.name, sig.keyId, sig.signature) + '\n';
  return out;
}

/**
 * Signs text (which must end in LF) with each signer, as Go's Sign does:
 * `existing` signatures come first, except those from the same (name, key ID)
 * as a new signer, which are replaced; the new signatures follow in order.
 */
export function signNote(text: string, signers: readonly NoteSigner[], existing: readonly NoteSignature[] = []): string {
  checkText(text);
  const textBytes = utf8Encode(text);
  const fresh: string[] = [];
  const replaced = new Set<string>();
  for (const signer of signers) {
    if (!isValidKeyName(signer.name)) throw new TilelogError('NOTE_BAD_KEY', `note: invalid signer name ${JSON.stringify(signer.name)}`);
    checkKeyIdValue(signer.keyId);
    replaced.add(pairKey(signer.name, signer.keyId));
    fresh.push(formatSignatureLine(signer.name, signer.keyId, signer.sign(textBytes)));
  }
  if (fresh.length + existing.length === 0) throw malformed('signNote needs at least one signer or signature');
  let out = text + '\n';
  let kept = 0;
  for (const sig of existing) {
    if (replaced.has(pairKey(sig.name, sig.keyId))) continue;
    out += formatSignatureLine(sig.name, sig.keyId, sig.signature) + '\n';
    kept++;
  }
  for (const line of fresh) out += line + '\n';
  // Refuse to produce a note that openNote (and Go's Open) would reject.
  if (kept + fresh.length > MAX_NOTE_SIGNATURES) throw malformed(`more than ${MAX_NOTE_SIGNATURES} signatures`);
  if (utf8Encode(out).length > MAX_NOTE_SIZE) throw malformed(`signed note is larger than ${MAX_NOTE_SIZE} bytes`);
  return out;
}

/**
 * Parses and verifies a note with Go's Open semantics. Throws NOTE_MALFORMED,
 * NOTE_AMBIGUOUS_KEY (two verifiers share a name and key ID), NOTE_BAD_SIGNATURE
 * (a known key's signature fails) or NOTE_UNVERIFIED (no known key signed).
 */
export function openNote(message: string | Uint8Array, verifiers: readonly NoteVerifier[]): OpenedNote {
  verifierMap(verifiers); // a configuration error comes before any parse error
  return verifyNote(parseNote(message), verifiers);
}

/** The verification half of openNote, for a note already parsed with parseNote. */
export function verifyNote(note: Note, verifiers: readonly NoteVerifier[]): OpenedNote {
  const known = verifierMap(verifiers);
  const textBytes = utf8Encode(note.text);
  const verified: NoteSignature[] = [];
  const unverified: NoteSignature[] = [];
  const seenKnown = new Set<string>();
  const seenUnknownLines = new Set<string>();
  for (const sig of note.signatures) {
    const key = pairKey(sig.name, sig.keyId);
    const verifier = known.get(key);
    if (verifier === undefined) {
      // Unknown algorithm, untracked witness or an old key: ignored.
      if (!seenUnknownLines.has(sig.line)) unverified.push(sig);
      seenUnknownLines.add(sig.line);
      continue;
    }
    // Go skips a repeated (name, ID) without verifying it.
    if (seenKnown.has(key)) continue;
    seenKnown.add(key);
    if (!verifier.verify(textBytes, sig.signature)) {
      throw new TilelogError(
        'NOTE_BAD_SIGNATURE',
        `note: invalid signature by known key ${JSON.stringify(sig.name)}+${sig.keyId.toString(16).padStart(8, '0')}`,
      );
    }
    verified.push(sig);
  }
  if (verified.length === 0) {
    const names = verifiers.map((v) => JSON.stringify(v.name)).join(', ');
    throw new TilelogError('NOTE_UNVERIFIED', `note: no signature by a known key (known: ${names || 'none'})`);
  }
  return { note, verified, unverified };
}

/** Formats one signature line `— <name> b64(keyID || sig)`, without LF. */
export function formatSignatureLine(name: string, keyId: number, signature: Uint8Array): string {
  if (!isValidKeyName(name)) throw malformed(`invalid key name ${JSON.stringify(name)} in a signature`);
  checkKeyIdValue(keyId);
  const raw = new Uint8Array(4 + signature.length);
  new DataView(raw.buffer).setUint32(0, keyId, false);
  raw.set(signature, 4);
  return `${SIG_PREFIX}${name} ${encodeBase64(raw)}`;
}

function parseSignatureLine(line: string, n: number): NoteSignature {
  if (!line.startsWith(SIG_PREFIX)) {
    throw malformed(`signature block line ${n} does not start with "— " (U+2014, space)`);
  }
  const body = line.slice(SIG_PREFIX.length);
  const space = body.indexOf(' ');
  const name = space < 0 ? body : body.slice(0, space);
  const b64 = space < 0 ? '' : body.slice(space + 1);
  if (!isValidKeyName(name)) throw malformed(`signature line ${n}: invalid key name ${JSON.stringify(name)}`);
  // Go's base64.StdEncoding: strict alphabet and padding, unused bits ignored.
  const raw = decodeBase64Padded(b64);
  if (raw === null || b64 === '') throw malformed(`signature line ${n}: signature is not valid standard base64`);
  if (raw.length < 5) throw malformed(`signature line ${n}: ${raw.length} bytes, want a 4-byte key ID and a signature`);
  const keyId = new DataView(raw.buffer, raw.byteOffset, 4).getUint32(0, false);
  return { name, keyId, signature: raw.slice(4), line };
}

/** The note as a string, after the size, UTF-8 and control-character checks. */
function noteString(message: string | Uint8Array): string {
  if (typeof message === 'string') {
    // A UTF-16 string is at most 3 UTF-8 bytes per code unit; measure only when it might be too big.
    if (message.length * 3 > MAX_NOTE_SIZE && utf8Encode(message).length > MAX_NOTE_SIZE) throw tooBig();
    if (!isWellFormed(message)) throw malformed('note is not valid UTF-8 (unpaired surrogate)');
    if (hasControlChar(message)) throw malformed('note contains a control character other than LF (CR and TAB are not allowed)');
    return message;
  }
  if (!(message instanceof Uint8Array)) throw new TypeError('note: message must be a string or Uint8Array');
  if (message.length > MAX_NOTE_SIZE) throw tooBig();
  const s = utf8DecodeStrict(message);
  if (s === null) throw malformed('note is not valid UTF-8');
  if (hasControlChar(s)) throw malformed('note contains a control character other than LF (CR and TAB are not allowed)');
  return s;
}

function checkText(text: string): void {
  if (typeof text !== 'string') throw new TypeError('note: text must be a string');
  if (!text.endsWith('\n')) throw malformed('note text must end in LF');
  if (!isWellFormed(text)) throw malformed('note text is not valid UTF-8 (unpaired surrogate)');
  if (hasControlChar(text)) throw malformed('note text contains a control character other than LF');
}

function checkKeyIdValue(id: number): void {
  if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) throw new RangeError(`note: key ID ${id} is not a uint32`);
}

function verifierMap(verifiers: readonly NoteVerifier[]): Map<string, NoteVerifier> {
  const map = new Map<string, NoteVerifier>();
  for (const v of verifiers) {
    const key = pairKey(v.name, v.keyId);
    if (map.has(key)) {
      throw new TilelogError(
        'NOTE_AMBIGUOUS_KEY',
        `note: two verifiers for key ${JSON.stringify(v.name)}+${v.keyId.toString(16).padStart(8, '0')}`,
      );
    }
    map.set(key, v);
  }
  return map;
}

// Names contain no white space, so "name id" is an unambiguous map key.
function pairKey(name: string, keyId: number): string {
  return `${name} ${keyId}`;
}

function malformed(message: string): TilelogError {
  return new TilelogError('NOTE_MALFORMED', `note: ${message}`);
}

function tooBig(): TilelogError {
  return malformed(`note is larger than ${MAX_NOTE_SIZE} bytes`);
}
