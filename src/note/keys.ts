// Ed25519 note keys in the string formats of golang.org/x/mod/sumdb/note
// (PROTOCOLS.md 2.3), interchangeable with Go:
//
//   signer key   PRIVATE+KEY+<name>+<8 hex keyID>+b64(0x01 || 32-byte seed)
//   verifier key <name>+<8 hex keyID>+b64(0x01 || 32-byte public key)
//   key ID       uint32be(SHA-256(name || 0x0A || type || public key)[0:4])
//
// Parsing splits only the first 2 (vkey) or 4 (skey) '+' separators, because
// base64 text contains '+' too, decodes base64 strictly, and recomputes the ID.

import * as ed from '@noble/ed25519';
import { sha256 } from '@noble/hashes/sha2.js';
import { TilelogError } from '../errors.js';
import { decodeBase64Strict, encodeBase64 } from './base64.js';
import { hasControlChar, isWellFormed, utf8Encode } from './utf8.js';
import { seedSigner, type Signer } from './signer.js';
import { ed25519PublicKey, ed25519QuickAccept } from './ed25519.js'; // also gives noble its SHA-512

/** Key type byte: Ed25519 note signature (plain RFC 8032 over the text). */
export const KEY_TYPE_ED25519 = 0x01;
/** Key type byte: Ed25519 cosignature/v1 (c2sp.org/tlog-cosignature). */
export const KEY_TYPE_COSIGNATURE_V1 = 0x04;

/** Longest key name we create, in UTF-8 bytes (transparency-dev/formats cap). */
export const MAX_KEY_NAME_BYTES = 255;

const ED25519_KEY_SIZE = 32;
const ED25519_SIGNATURE_SIZE = 64;

/** Produces signature bytes (without the 4-byte key ID) over a note text. */
export interface NoteSigner {
  readonly name: string;
  readonly keyId: number;
  sign(message: Uint8Array): Uint8Array;
}

/** Checks signature bytes (without the 4-byte key ID) over a note text. */
export interface NoteVerifier {
  readonly name: string;
  readonly keyId: number;
  verify(message: Uint8Array, signature: Uint8Array): boolean;
}

export interface Ed25519Signer extends NoteSigner {
  /** The matching verifier key string. */
  readonly verifierKey: string;
  /** The 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
}

export interface Ed25519Verifier extends NoteVerifier {
  readonly publicKey: Uint8Array;
  /** The key type byte the key ID was computed with. */
  readonly type: number;
}

export interface KeyPair {
  signerKey: string;
  verifierKey: string;
}

// Go unicode.IsSpace (PROTOCOLS.md pitfall 6; JS \s differs), plus '+', the
// key-string separator.
const NAME_FORBIDDEN = /[\t\n\v\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000+]/;

/**
 * Key name rule of Go's note package: non-empty, valid UTF-8, no Unicode white
 * space and no '+'. We also refuse other control characters, since a note
 * carrying them is malformed and such a key could never sign a valid note.
 */
export function isValidKeyName(name: string): boolean {
  return name.length > 0 && isWellFormed(name) && !NAME_FORBIDDEN.test(name) && !hasControlChar(name);
}

/** uint32be(SHA-256(name || 0x0A || type || publicKey)[0:4]). */
export function keyId(name: string, type: number, publicKey: Uint8Array): number {
  if (!Number.isInteger(type) || type < 0 || type > 255) throw new RangeError(`note: key type ${type} is not a byte`);
  const nameBytes = utf8Encode(name);
  const buf = new Uint8Array(nameBytes.length + 2 + publicKey.length);
  buf.set(nameBytes, 0);
  buf[nameBytes.length] = 0x0a;
  buf[nameBytes.length + 1] = type;
  buf.set(publicKey, nameBytes.length + 2);
  const h = sha256(buf);
  return new DataView(h.buffer, h.byteOffset, 4).getUint32(0, false);
}

/** The 8 lowercase hex digits Go writes for a key ID. */
export function formatKeyId(id: number): string {
  return id.toString(16).padStart(8, '0');
}

/** Formats `<name>+<id>+b64(type || publicKey)`. */
export function formatVerifierKey(name: string, type: number, publicKey: Uint8Array): string {
  checkKeyName(name, 'verifier key');
  const id = keyId(name, type, publicKey);
  return `${name}+${formatKeyId(id)}+${encodeBase64(prefixed(type, publicKey))}`;
}

/**
 * Makes a new Ed25519 key pair in Go's string formats. `seed` (32 bytes) makes
 * it deterministic; otherwise it comes from crypto.getRandomValues.
 */
export function generateSignerKey(name: string, seed?: Uint8Array): KeyPair {
  checkNewKeyName(name);
  const s = seed === undefined ? ed.utils.randomSecretKey() : checkSeed(seed);
  const pub = ed25519PublicKey(s);
  const id = keyId(name, KEY_TYPE_ED25519, pub);
  return {
    signerKey: `PRIVATE+KEY+${name}+${formatKeyId(id)}+${encodeBase64(prefixed(KEY_TYPE_ED25519, s))}`,
    verifierKey: `${name}+${formatKeyId(id)}+${encodeBase64(prefixed(KEY_TYPE_ED25519, pub))}`,
  };
}

/** Parses a Go Ed25519 signer key (type 0x01) into a note signer. */
export function parseSignerKey(skey: string): Ed25519Signer {
  const parsed = parseSignerKeyString(skey);
  if (parsed.type !== KEY_TYPE_ED25519) {
    throw badKey(`signer key: unknown key type 0x${hexByte(parsed.type)} (want 0x01 Ed25519)`);
  }
  return ed25519Signer(parsed.name, parsed.seed, KEY_TYPE_ED25519, parsed.id);
}

/**
 * The key type byte of a signer key string, which is also its role: 0x01, a
 * plain note key (a log's, from `tilelog keygen`; also the witness keys other
 * software writes), or 0x04, a cosignature/v1 witness key (from `tilelog
 * witness keygen`). Throws NOTE_BAD_KEY as parseSignerKey does for a malformed key.
 */
export function signerKeyType(skey: string): number {
  return parseSignerKeyString(skey).type;
}

/** Parses a Go verifier key; only Ed25519 (type 0x01) is accepted. */
export function parseVerifierKey(vkey: string): Ed25519Verifier {
  const parsed = parseVerifierKeyString(vkey);
  if (parsed.type !== KEY_TYPE_ED25519) {
    throw badKey(`verifier key: unknown key type 0x${hexByte(parsed.type)} (want 0x01 Ed25519)`);
  }
  return ed25519Verifier(parsed.name, parsed.publicKey, KEY_TYPE_ED25519);
}

// ---- shared with cosignature.ts (not re-exported from index.ts) ----

export interface ParsedSignerKey {
  name: string;
  id: number;
  type: number;
  seed: Uint8Array;
}

export interface ParsedVerifierKey {
  name: string;
  id: number;
  type: number;
  publicKey: Uint8Array;
}

/**
 * Splits and decodes `PRIVATE+KEY+name+id+b64(type || seed)` and checks the ID
 * against the public key derived from the seed, under the key's own type byte.
 * Error messages never echo the key string.
 */
export function parseSignerKeyString(skey: string): ParsedSignerKey {
  if (typeof skey !== 'string') throw new TypeError('note: signer key must be a string');
  const parts = splitPlus(skey, 4);
  if (parts === null || parts[0] !== 'PRIVATE' || parts[1] !== 'KEY') {
    throw badKey('signer key: want PRIVATE+KEY+<name>+<8 hex key ID>+<base64 key>');
  }
  const [, , name, idHex, b64] = parts as [string, string, string, string, string];
  checkKeyName(name, 'signer key');
  const id = parseKeyIdHex(idHex, 'signer key');
  const raw = decodeBase64Strict(b64);
  if (raw === null || raw.length === 0) throw badKey('signer key: key is not valid standard base64');
  const type = raw[0] as number;
  if (type !== KEY_TYPE_ED25519 && type !== KEY_TYPE_COSIGNATURE_V1) {
    throw badKey(`signer key: unknown key type 0x${hexByte(type)}`);
  }
  if (raw.length !== 1 + ED25519_KEY_SIZE) {
    throw badKey(`signer key: Ed25519 seed is ${raw.length - 1} bytes, want ${ED25519_KEY_SIZE}`);
  }
  const seed = raw.slice(1);
  const want = keyId(name, type, ed25519PublicKey(seed));
  if (want !== id) {
    throw badKey(`signer key: key ID ${formatKeyId(id)} does not match ${formatKeyId(want)} computed from the name and key`);
  }
  return { name, id, type, seed };
}

/** Splits and decodes `name+id+b64(type || publicKey)` and checks the ID. */
export function parseVerifierKeyString(vkey: string): ParsedVerifierKey {
  if (typeof vkey !== 'string') throw new TypeError('note: verifier key must be a string');
  const parts = splitPlus(vkey, 2);
  if (parts === null) throw badKey(`verifier key ${JSON.stringify(vkey)}: want <name>+<8 hex key ID>+<base64 key>`);
  const [name, idHex, b64] = parts as [string, string, string];
  checkKeyName(name, 'verifier key');
  const id = parseKeyIdHex(idHex, `verifier key ${JSON.stringify(name)}`);
  const raw = decodeBase64Strict(b64);
  if (raw === null || raw.length === 0) {
    throw badKey(`verifier key ${JSON.stringify(name)}: key is not valid standard base64`);
  }
  const type = raw[0] as number;
  const want = keyId(name, type, raw.subarray(1));
  if (want !== id) {
    throw badKey(
      `verifier key ${JSON.stringify(name)}: key ID ${formatKeyId(id)} does not match ${formatKeyId(want)} computed from the name and key`,
    );
  }
  if ((type === KEY_TYPE_ED25519 || type === KEY_TYPE_COSIGNATURE_V1) && raw.length !== 1 + ED25519_KEY_SIZE) {
    throw badKey(`verifier key ${JSON.stringify(name)}: Ed25519 key is ${raw.length - 1} bytes, want ${ED25519_KEY_SIZE}`);
  }
  return { name, id, type, publicKey: raw.slice(1) };
}

/** A signer for an Ed25519 seed whose key ID is computed under `type`. */
export function ed25519Signer(name: string, seed: Uint8Array, type: number, id?: number): Ed25519Signer {
  return noteSigner(name, seedSigner(seed), type, id);
}

/**
 * A note signer: signer's key under the name `name`, its key ID computed
 * from the public key with key type `type` (0x01: a log's note key), the same
 * for a key in a file or in a token. `id`, when given (as read from a key
 * string), must be the computed one.
 */
export function noteSigner(name: string, signer: Signer, type: number, id?: number): Ed25519Signer {
  const publicKey = signer.publicKey.slice();
  if (publicKey.length !== ED25519_KEY_SIZE) throw new RangeError(`note: public key is ${publicKey.length} bytes, want ${ED25519_KEY_SIZE}`);
  const computed = keyId(name, type, publicKey);
  if (id !== undefined && id !== computed) {
    throw new Error(`note: bad math: key ID ${formatKeyId(id)} given for a key whose ID is ${formatKeyId(computed)}`);
  }
  return {
    name,
    keyId: computed,
    verifierKey: `${name}+${formatKeyId(computed)}+${encodeBase64(prefixed(type, publicKey))}`,
    publicKey: publicKey.slice(),
    sign: (message: Uint8Array): Uint8Array => signer.sign(message),
  };
}

/** A verifier for an Ed25519 public key whose key ID is computed under `type`. */
export function ed25519Verifier(name: string, publicKey: Uint8Array, type: number): Ed25519Verifier {
  const pub = publicKey.slice();
  return {
    name,
    keyId: keyId(name, type, pub),
    type,
    publicKey: pub.slice(),
    verify: (message: Uint8Array, signature: Uint8Array): boolean => ed25519Verify(signature, message, pub),
  };
}

/**
 * RFC 8032 verification (noble's strict branch, closest to Go's crypto/ed25519);
 * false, never an exception, for wrong lengths or undecodable points.
 */
export function ed25519Verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== ED25519_SIGNATURE_SIZE || publicKey.length !== ED25519_KEY_SIZE) return false;
  try {
    // A shortcut only ever says yes where noble would (ed25519.ts); the verdict is noble's.
    if (ed25519QuickAccept(signature, message, publicKey)) return true;
    return ed.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

export function checkKeyName(name: string, what: string): void {
  if (typeof name !== 'string') throw new TypeError(`note: ${what}: name must be a string`);
  if (!isValidKeyName(name)) {
    throw badKey(`${what}: invalid key name ${JSON.stringify(name)} (must be non-empty UTF-8 without white space, control characters or '+')`);
  }
}

/** Rules for names of keys we create: the parse rules plus the 255-byte cap. */
export function checkNewKeyName(name: string): void {
  checkKeyName(name, 'new key');
  if (utf8Encode(name).length > MAX_KEY_NAME_BYTES) {
    throw badKey(`new key: name is longer than ${MAX_KEY_NAME_BYTES} UTF-8 bytes`);
  }
}

export function checkSeed(seed: Uint8Array): Uint8Array {
  if (!(seed instanceof Uint8Array)) throw new TypeError('note: seed must be a Uint8Array');
  if (seed.length !== ED25519_KEY_SIZE) throw new RangeError(`note: seed is ${seed.length} bytes, want ${ED25519_KEY_SIZE}`);
  return seed.slice();
}

export function prefixed(type: number, key: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + key.length);
  out[0] = type;
  out.set(key, 1);
  return out;
}

function badKey(message: string): TilelogError {
  return new TilelogError('NOTE_BAD_KEY', `note: ${message}`);
}

/** The first n '+'-separated fields and the rest (n + 1 parts), or null if there are fewer. */
function splitPlus(s: string, n: number): string[] | null {
  const parts: string[] = [];
  let rest = s;
  for (let i = 0; i < n; i++) {
    const at = rest.indexOf('+');
    if (at < 0) return null;
    parts.push(rest.slice(0, at));
    rest = rest.slice(at + 1);
  }
  parts.push(rest);
  return parts;
}

// Go parses the ID with strconv.ParseUint(s, 16, 32) after requiring 8
// characters, so both letter cases are accepted; we always write lowercase.
function parseKeyIdHex(s: string, what: string): number {
  if (!/^[0-9a-fA-F]{8}$/.test(s)) throw badKey(`${what}: key ID ${JSON.stringify(s)} is not 8 hex digits`);
  return Number.parseInt(s, 16);
}

function hexByte(b: number): string {
  return b.toString(16).padStart(2, '0');
}
