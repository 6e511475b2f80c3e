// The two deterministic Ed25519 operations, public key from seed and signing
// (RFC 8032 5.1.5 and 5.1.6), behind one seam. Each has exactly one right
// answer for its inputs, so every correct implementation returns the same
// bytes. The default is noble's (pure JS, browser-safe). A server may install
// node:crypto's (src/cli/node-ed25519.ts): a checkpoint signature takes about
// 56 µs against noble's 467 (bench/signer.bench.ts), and it skips the
// base-point table noble builds on first use (about 100 ms of CPU, a sixth
// of a server's start).
//
// Verification is not simply swapped: implementations disagree on edge
// cases (cofactored or cofactorless equation, small-order keys, non-canonical
// points), and a verdict must be the same in a browser and in the server.
// The verdict stays noble's strict one (keys.ts, ed25519Verify); an
// implementation may only offer quickAccept, a one-sided shortcut that
// answers true for signatures noble's strict check certainly accepts and
// false for "ask noble".

import * as ed from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';

// Synchronous Ed25519 needs a synchronous SHA-512 (noble v3 ships without one):
// set here once for every module that uses noble's Ed25519 through this one.
ed.hashes.sha512 = sha512;

/** An implementation of the deterministic Ed25519 operations. */
export interface Ed25519Operations {
  /** Names the implementation, for diagnostics. */
  readonly name: string;
  /** The 32-byte public key of a 32-byte seed. */
  publicKey(seed: Uint8Array): Uint8Array;
  /**
   * A function that signs with a 32-byte seed (64-byte signatures), its
   * per-key setup done once here (OpenSSL's key import costs more than a
   * signature). The key stays in the returned closure, as the seed does in a Signer.
   */
  signer(seed: Uint8Array): (message: Uint8Array) => Uint8Array;
  /**
   * True only if noble's verification under rules would accept this
   * signature; false when unsure. Never throws.
   */
  quickAccept?(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array, rules: VerifyRules): boolean;
}

/**
 * Which of noble's verifications a verdict is: 'strict' (zip215: false, RFC
 * 8032 with canonical encodings and no small-order keys: notes, checkpoints,
 * cosignatures) or 'zip215' (noble's default: registry entries).
 */
export type VerifyRules = 'strict' | 'zip215';

export const nobleEd25519: Ed25519Operations = {
  name: 'noble',
  publicKey: (seed) => ed.getPublicKey(seed),
  signer: (seed) => {
    const secret = seed.slice();
    return (message) => ed.sign(message, secret);
  },
};

let current: Ed25519Operations = nobleEd25519;

/**
 * Installs ops for every later public key and signature in this process.
 * Safe with several logs in one process: the outputs are the same bytes
 * whichever implementation computes them (test/cli/node-ed25519.test.ts).
 */
export function useEd25519Operations(ops: Ed25519Operations): void {
  current = ops;
}

/** The implementation in use. */
export function ed25519Operations(): Ed25519Operations {
  return current;
}

export function ed25519PublicKey(seed: Uint8Array): Uint8Array {
  return current.publicKey(seed);
}

export function ed25519Signer(seed: Uint8Array): (message: Uint8Array) => Uint8Array {
  return current.signer(seed);
}

/** The installed implementation's quickAccept (false when it has none). */
export function ed25519QuickAccept(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array, rules: VerifyRules = 'strict'): boolean {
  return current.quickAccept !== undefined && current.quickAccept(signature, message, publicKey, rules);
}
