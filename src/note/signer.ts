// Signer: one Ed25519 private key, wherever it lives (a seed in this
// process's memory, read from a key file; or a key inside a PKCS#11 token).
// Every Ed25519 signature tilelog makes goes through one: log checkpoints,
// witness cosignatures, registry entries. The name a note signature carries
// is not part of the key: noteSigner and cosignatureSigner (cosignature.ts)
// bind a Signer to a name and derive the verifier key and key ID from the
// public key alone, so a key in a token gets exactly the key ID and verifier
// key that the same key in a file gets.
//
// sign() is synchronous: the engine signs on synchronous paths (signTreeHead
// inside the checkpointer's commit step, the witness's cosign), and PKCS#11's
// C_Sign is a blocking call anyway. A signer that cannot sign right now (a
// token removed, a session lost) throws SIGNER_UNAVAILABLE and may succeed on
// a later call; it never returns bytes that are not a valid signature.
//
// No I/O here: the implementations that touch files or tokens live in
// src/cli and src/hsm. noteSigner (keys.ts) binds a Signer to a key name.

import { ed25519PublicKey, ed25519Signer } from './ed25519.js';

const SEED_SIZE = 32;

/** A private Ed25519 key that signs raw messages (RFC 8032, pure Ed25519). */
export interface Signer {
  readonly algorithm: 'Ed25519';
  /** The 32-byte public key. */
  readonly publicKey: Uint8Array;
  /** Where the key lives, for messages and logs (never secret: no PIN, no key bytes). */
  readonly description: string;
  /** The 64-byte signature of message; throws SIGNER_UNAVAILABLE when the key cannot be reached now. */
  sign(message: Uint8Array): Uint8Array;
}

/** A Signer over a 32-byte seed held in memory (what a key file holds). */
export function seedSigner(seed: Uint8Array, description = 'an in-memory Ed25519 key'): Signer {
  if (!(seed instanceof Uint8Array)) throw new TypeError('note: seed must be a Uint8Array');
  if (seed.length !== SEED_SIZE) throw new RangeError(`note: seed is ${seed.length} bytes, want ${SEED_SIZE}`);
  const secret = seed.slice();
  const publicKey = ed25519PublicKey(secret);
  const sign = ed25519Signer(secret);
  return {
    algorithm: 'Ed25519',
    publicKey: publicKey.slice(),
    description,
    sign: (message: Uint8Array): Uint8Array => sign(message),
  };
}
