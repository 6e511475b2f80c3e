// Ed25519 cosignature/v1 (c2sp.org/tlog-cosignature), PROTOCOLS.md 5.1.
//
//   key ID     SHA-256(name || 0x0A || 0x04 || pub32)[0:4]
//   vkey       <name>+<id>+b64(0x04 || pub32)
//   signature  u64be timestamp || Ed25519(cosignatureMessage(text, timestamp))   (72 bytes)
//   message    "cosignature/v1\n" "time <timestamp decimal>\n" <checkpoint text>
//
// The signer key is the ordinary Go Ed25519 skey (type 0x01, ID over 0x01), as
// used by transparency-dev/formats and torchwood; a 0x04-typed skey is also read.
// The cosigner name is not in the message: one key must not serve two names.

import * as ed from '@noble/ed25519';
import { TilelogError } from '../errors.js';
import {
  KEY_TYPE_COSIGNATURE_V1,
  KEY_TYPE_ED25519,
  checkNewKeyName,
  checkKeyName,
  checkSeed,
  ed25519Verifier,
  ed25519Verify,
  formatKeyId,
  keyId,
  noteSigner,
  parseSignerKeyString,
  parseVerifierKeyString,
  prefixed,
  type KeyPair,
  type NoteSigner,
  type NoteVerifier,
} from './keys.js';
import { encodeBase64 } from './base64.js';
import { seedSigner, type Signer } from './signer.js';
import { ed25519PublicKey } from './ed25519.js';
import { utf8Encode } from './utf8.js';

/** Largest cosignature timestamp the spec allows: 2^63 - 1 seconds. */
export const MAX_COSIGNATURE_TIMESTAMP = 2n ** 63n - 1n;

const TIMESTAMP_SIZE = 8;
const COSIGNATURE_SIZE = TIMESTAMP_SIZE + 64; // u64be timestamp || Ed25519 signature

export interface CosignatureSigner extends NoteSigner {
  /** The cosignature/v1 verifier key (type 0x04). */
  readonly verifierKey: string;
  readonly publicKey: Uint8Array;
  /** sign() at the given POSIX time in seconds instead of the clock. */
  signAt(message: Uint8Array, timestamp: number): Uint8Array;
}

export interface CosignatureVerifier extends NoteVerifier {
  readonly publicKey: Uint8Array;
  /** Always KEY_TYPE_COSIGNATURE_V1: the type the key ID is computed with. */
  readonly type: number;
  /** The timestamp of a cosignature's bytes (after the key ID); NOTE_MALFORMED if badly framed. */
  timestamp(signature: Uint8Array): number;
}

export interface CosignerOptions {
  /** Clock in POSIX seconds; default Math.floor(Date.now() / 1000). */
  now?: () => number;
}

/** The bytes a cosigner signs: `cosignature/v1\ntime <t>\n` || text. */
export function cosignatureMessage(text: string, timestamp: number | bigint): Uint8Array {
  const t = checkTimestamp(timestamp);
  if (!text.endsWith('\n')) throw new TilelogError('NOTE_MALFORMED', 'cosignature: checkpoint text must end in LF');
  return utf8Encode(`cosignature/v1\ntime ${t.toString()}\n${text}`);
}

/** Splits a cosignature (the bytes after the key ID) into its timestamp and Ed25519 signature. */
export function parseCosignature(signature: Uint8Array): { timestamp: number; signature: Uint8Array } {
  if (signature.length !== COSIGNATURE_SIZE) {
    throw new TilelogError('NOTE_MALFORMED', `cosignature: ${signature.length} bytes, want ${COSIGNATURE_SIZE}`);
  }
  const t = readU64(signature);
  if (t > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new TilelogError('NOTE_MALFORMED', `cosignature: timestamp ${t} exceeds 2^53-1`);
  }
  return { timestamp: Number(t), signature: signature.slice(TIMESTAMP_SIZE) };
}

export interface CosignerKeyOptions {
  /**
   * Type byte of the signer key string. 0x01 (default): a Go Ed25519 signer
   * key, which Go's note packages read too. 0x04: marks the key as a
   * witness's (its ID then equals the verifier key's), so that a log refuses
   * it (`tilelog witness keygen` writes these; parseCosignerKey reads both).
   */
  signerKeyType?: typeof KEY_TYPE_ED25519 | typeof KEY_TYPE_COSIGNATURE_V1;
}

/** A new cosigner key pair: a signer key (type 0x01 unless asked) and the cosignature/v1 (0x04) verifier key. */
export function generateCosignerKey(name: string, seed?: Uint8Array, options: CosignerKeyOptions = {}): KeyPair {
  const { signerKeyType = KEY_TYPE_ED25519 } = options;
  if (signerKeyType !== KEY_TYPE_ED25519 && signerKeyType !== KEY_TYPE_COSIGNATURE_V1) {
    throw new RangeError(`note: cosigner signer key type must be 0x01 or 0x04, got ${String(signerKeyType)}`);
  }
  checkNewKeyName(name);
  const s = seed === undefined ? ed.utils.randomSecretKey() : checkSeed(seed);
  const pub = ed25519PublicKey(s);
  const skeyId = keyId(name, signerKeyType, pub);
  const vkeyId = keyId(name, KEY_TYPE_COSIGNATURE_V1, pub);
  return {
    signerKey: `PRIVATE+KEY+${name}+${formatKeyId(skeyId)}+${encodeBase64(prefixed(signerKeyType, s))}`,
    verifierKey: `${name}+${formatKeyId(vkeyId)}+${encodeBase64(prefixed(KEY_TYPE_COSIGNATURE_V1, pub))}`,
  };
}

/** A cosignature/v1 signer from a signer key (type 0x01, or 0x04). Its keyId is the 0x04 ID. */
export function parseCosignerKey(skey: string, options: CosignerOptions = {}): CosignatureSigner {
  const parsed = parseSignerKeyString(skey);
  return cosignatureSigner(parsed.name, seedSigner(parsed.seed), options);
}

/**
 * A cosignature/v1 signer for signer's key under the witness name `name`
 * (a key in a file or in a token alike); its keyId and verifier key are the
 * type 0x04 ones.
 */
export function cosignatureSigner(name: string, signer: Signer, options: CosignerOptions = {}): CosignatureSigner {
  const { now = () => Math.floor(Date.now() / 1000) } = options;
  checkKeyName(name, 'cosigner key');
  const inner = noteSigner(name, signer, KEY_TYPE_COSIGNATURE_V1);
  const signAt = (message: Uint8Array, timestamp: number): Uint8Array => {
    const t = checkTimestamp(timestamp);
    const text = new TextDecoder('utf-8', { fatal: true }).decode(message);
    const out = new Uint8Array(COSIGNATURE_SIZE);
    new DataView(out.buffer).setBigUint64(0, t, false);
    out.set(inner.sign(cosignatureMessage(text, t)), TIMESTAMP_SIZE);
    return out;
  };
  return {
    name: inner.name,
    keyId: inner.keyId,
    verifierKey: inner.verifierKey,
    publicKey: inner.publicKey,
    signAt,
    sign: (message: Uint8Array): Uint8Array => signAt(message, now()),
  };
}

/**
 * A cosignature/v1 verifier from a type 0x04 vkey. Like transparency-dev/formats
 * it also takes a type 0x01 vkey (checking that key's own ID) and re-derives the
 * key ID under 0x04, so `keyId` then differs from the ID written in the string.
 */
export function parseCosignatureVerifierKey(vkey: string): CosignatureVerifier {
  const parsed = parseVerifierKeyString(vkey);
  if (parsed.type !== KEY_TYPE_COSIGNATURE_V1 && parsed.type !== KEY_TYPE_ED25519) {
    throw new TilelogError(
      'NOTE_BAD_KEY',
      `note: verifier key ${JSON.stringify(parsed.name)}: key type 0x${parsed.type.toString(16).padStart(2, '0')} is not a cosignature/v1 (0x04) key`,
    );
  }
  const base = ed25519Verifier(parsed.name, parsed.publicKey, KEY_TYPE_COSIGNATURE_V1);
  const pub = base.publicKey.slice();
  return {
    name: base.name,
    keyId: base.keyId,
    publicKey: base.publicKey,
    type: KEY_TYPE_COSIGNATURE_V1,
    timestamp: (signature: Uint8Array): number => parseCosignature(signature).timestamp,
    verify(message: Uint8Array, signature: Uint8Array): boolean {
      if (signature.length !== COSIGNATURE_SIZE) return false;
      const t = readU64(signature);
      if (t > MAX_COSIGNATURE_TIMESTAMP) return false;
      let text: string;
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(message);
      } catch {
        return false;
      }
      if (!text.endsWith('\n')) return false;
      return ed25519Verify(signature.subarray(TIMESTAMP_SIZE), cosignatureMessage(text, t), pub);
    },
  };
}

function readU64(bytes: Uint8Array): bigint {
  return new DataView(bytes.buffer, bytes.byteOffset, TIMESTAMP_SIZE).getBigUint64(0, false);
}

function checkTimestamp(timestamp: number | bigint): bigint {
  if (typeof timestamp === 'number') {
    if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
      throw new RangeError(`cosignature: timestamp ${timestamp} is not an integer in [0, 2^53-1]`);
    }
    return BigInt(timestamp);
  }
  if (typeof timestamp !== 'bigint') throw new TypeError('cosignature: timestamp must be a number or bigint');
  if (timestamp < 0n || timestamp > MAX_COSIGNATURE_TIMESTAMP) {
    throw new RangeError(`cosignature: timestamp ${timestamp} is not in [0, 2^63-1]`);
  }
  return timestamp;
}
