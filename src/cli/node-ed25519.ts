// node:crypto's (OpenSSL's) Ed25519 for src/note/ed25519.ts, installed by the
// CLI for every command: the same public keys and signatures as noble's, and
// a quickAccept that spares most verifications noble's pure-JS arithmetic
// (about 6 ms each, and a base-point table of about 100 ms on first use).
//
// Why quickAccept agrees with noble's strict verify (zip215: false), which
// decodes A and R canonically, rejects small-order A, requires 0 <= S < L and
// checks the cofactored equation [8][S]B = [8]R + [8][k]A:
//   - OpenSSL checks the cofactorless equation: it recomputes R from S, k and
//     A and compares its canonical encoding with the signature's R bytes. So
//     when it accepts, R is canonically encoded and [S]B = R + [k]A, which
//     multiplied by 8 is noble's equation (k is the same hash of the same bytes);
//   - A must decode canonically and not be of small order: checked here with
//     noble's own point decoding (no base-point table needed);
//   - 0 < S < L: checked here, whatever OpenSSL's version checks.
// noble's ZIP-215 verify (its default, the registry's) is the same equation
// with laxer decoding (non-canonical A and R, small-order A allowed): a
// canonical A and OpenSSL's yes imply its yes too, small order or not.
// Anything else answers false, and noble decides (the signatures only noble
// accepts, with a small-order component in R, are rare and still accepted).

import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { Point } from '@noble/ed25519';
import type { Ed25519Operations } from '../note/ed25519.js';

// Fixed DER prefixes (RFC 8410 7): an Ed25519 PKCS#8 private key before its 32-byte
// seed, and an Ed25519 SubjectPublicKeyInfo before its 32-byte key.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const KEY_SIZE = 32;
const SIGNATURE_SIZE = 64;
/** The order L of the prime subgroup (RFC 8032 5.1). */
const L = 2n ** 252n + 27742317777372353535851937790883648493n;

function privateKey(seed: Uint8Array): KeyObject {
  if (seed.length !== KEY_SIZE) throw new RangeError(`ed25519: seed is ${seed.length} bytes, want ${KEY_SIZE}`);
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

// Public keys seen before, by their bytes: imported, and judged by
// judgeKey. A verifier sees the same few keys (a log's, its witnesses')
// again and again, and the import and the point decoding each cost more
// than the verification. Bounded: emptied when it reaches PUBLIC_KEYS.
const publicKeys = new Map<string, KnownKey>();
const PUBLIC_KEYS = 256;

interface KnownKey {
  key: KeyObject;
  /** A decodes canonically (what both rules need here). */
  canonical: boolean;
  /** A is of small order (refused by the strict rules). */
  smallOrder: boolean;
}

function knownKey(publicKey: Uint8Array): KnownKey {
  const id = Buffer.from(publicKey).toString('base64');
  let known = publicKeys.get(id);
  if (known === undefined) {
    known = { key: createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' }), ...judgeKey(publicKey) };
    if (publicKeys.size >= PUBLIC_KEYS) publicKeys.clear();
    publicKeys.set(id, known);
  }
  return known;
}

/** S of a signature as an integer (little-endian, RFC 8032 5.1.7). */
function scalarS(signature: Uint8Array): bigint {
  let s = 0n;
  for (let i = SIGNATURE_SIZE - 1; i >= KEY_SIZE; i--) s = (s << 8n) | BigInt(signature[i]!);
  return s;
}

/** Whether A decodes canonically (noble's strict decoding) and, if so, whether it is of small order. */
function judgeKey(publicKey: Uint8Array): { canonical: boolean; smallOrder: boolean } {
  try {
    return { canonical: true, smallOrder: Point.fromBytes(publicKey, false).isSmallOrder() };
  } catch {
    return { canonical: false, smallOrder: false };
  }
}

export const nodeEd25519: Ed25519Operations = {
  name: 'node:crypto',
  publicKey(seed) {
    const spki = createPublicKey(privateKey(seed)).export({ format: 'der', type: 'spki' });
    return new Uint8Array(spki.subarray(SPKI_PREFIX.length));
  },
  signer(seed) {
    // Imported once per Signer (OpenSSL 3's key import costs more than a signature), kept in its closure.
    const key = privateKey(seed);
    return (message) => new Uint8Array(sign(null, message, key));
  },
  quickAccept(signature, message, publicKey, rules) {
    if (signature.length !== SIGNATURE_SIZE || publicKey.length !== KEY_SIZE) return false;
    const s = scalarS(signature);
    if (s === 0n || s >= L) return false;
    try {
      const { key, canonical, smallOrder } = knownKey(publicKey);
      return canonical && (rules === 'zip215' || !smallOrder) && verify(null, message, key, signature);
    } catch {
      return false;
    }
  },
};
