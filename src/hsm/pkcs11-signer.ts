// Pkcs11Signer: an Ed25519 Signer (src/note/signer.ts) whose private key
// stays in a PKCS#11 token; signs with CKM_EDDSA (PKCS#11 3.0; SoftHSM2
// 2.6 has it). The public key is read from the token's public key object of
// the same label/ID (CKA_EC_POINT), so the verifier key and key ID come out
// exactly as for the same key in a file. At open, one test signature proves
// the private key belongs to that public key.
//
// Sessions, reconnects and the failure model are TokenKey's
// (pkcs11-token-key.ts): SIGNER_CONFIG at open, SIGNER_UNAVAILABLE at sign
// (nothing was signed). Every signature is verified with the public key
// before it is returned, so a token that answers garbage produces an error,
// not a bad checkpoint.

import * as crypto from 'node:crypto';
import { TilelogError } from '../errors.js';
import type { Signer } from '../note/signer.js';
import { CKK_EC_EDWARDS, CKM_EDDSA, ED25519_EC_PARAMS, loadPkcs11js, Pkcs11Module, type Handle } from './pkcs11-module.js';
import { formatPkcs11Uri, parsePkcs11Uri, type Pkcs11Uri } from './pkcs11-uri.js';
import { nameOf, publicKeyObject, TokenKey, type KeyKind } from './pkcs11-token-key.js';

export { keyTemplate, nameOf } from './pkcs11-token-key.js';

export interface Pkcs11SignerOptions {
  /** Module specifier of the binding (tests of a missing binding). */
  binding?: string;
}

const PROBE = new TextEncoder().encode('tilelog pkcs11 key check');

const ED25519_KEY: KeyKind = {
  keyType: CKK_EC_EDWARDS,
  name: 'an Ed25519 (CKK_EC_EDWARDS)',
  createWith: 'tilelog keygen --key <this URI>',
  readPublicKey,
};

/** Opens the Ed25519 key named by a pkcs11: URI (text or parsed). */
export async function openPkcs11Signer(uri: string | Pkcs11Uri, options: Pkcs11SignerOptions = {}): Promise<Pkcs11Signer> {
  const parsed = typeof uri === 'string' ? parsePkcs11Uri(uri) : uri;
  const js = await loadPkcs11js(options.binding);
  return Pkcs11Signer.open(Pkcs11Module.get(js, parsed.modulePath), parsed);
}

export class Pkcs11Signer implements Signer {
  readonly algorithm = 'Ed25519' as const;
  readonly publicKey: Uint8Array;
  readonly description: string;
  readonly #key: TokenKey;
  readonly #verifyKey: crypto.KeyObject;

  private constructor(key: TokenKey) {
    this.#key = key;
    this.publicKey = key.publicKey;
    this.description = key.description;
    this.#verifyKey = crypto.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(key.publicKey).toString('base64url') }, format: 'jwk' });
  }

  /** @internal Use openPkcs11Signer(). */
  static open(module: Pkcs11Module, uri: Pkcs11Uri): Pkcs11Signer {
    const key = TokenKey.open(module, uri, ED25519_KEY);
    try {
      const signer = new Pkcs11Signer(key);
      const sig = key.probe({ mechanism: CKM_EDDSA }, PROBE, 64, 'CKM_EDDSA');
      if (!signer.#valid(PROBE, sig)) {
        throw new TilelogError('SIGNER_CONFIG', `pkcs11: the private key ${formatPkcs11Uri(uri)} does not match the public key object of the same name`);
      }
      return signer;
    } catch (err) {
      key.close();
      throw err;
    }
  }

  /** Signatures that failed since open (metrics, tests). */
  get failures(): number {
    return this.#key.failures;
  }

  sign(message: Uint8Array): Uint8Array {
    const sig = this.#key.sign({ mechanism: CKM_EDDSA }, message, 64);
    if (!this.#valid(message, sig)) throw this.#key.rejected();
    return sig;
  }

  /** Closes this signer's session (the module stays loaded for other signers). */
  close(): void {
    this.#key.close();
  }

  #valid(message: Uint8Array, sig: Uint8Array): boolean {
    return sig.length === 64 && crypto.verify(null, message, this.#verifyKey, sig);
  }
}

// readPublicKey: the 32-byte Ed25519 key of the public key object named like
// the private key. CKA_EC_POINT is a DER OCTET STRING (04 20 || key) in
// PKCS#11 3.0; some modules store the 32 bytes bare.
function readPublicKey(module: Pkcs11Module, session: Handle, uri: Pkcs11Uri): Uint8Array {
  const { lib, js } = module;
  const [params, point] = lib.C_GetAttributeValue(session, publicKeyObject(module, session, uri), [{ type: js.CKA_EC_PARAMS }, { type: js.CKA_EC_POINT }]);
  const p = params?.value ?? Buffer.alloc(0);
  if (!p.equals(Buffer.from(ED25519_EC_PARAMS)) && p.toString('latin1') !== '\x13\x0cedwards25519') {
    throw new TilelogError('SIGNER_CONFIG', `pkcs11: the key ${nameOf(uri)} is not on edwards25519 (Ed448 and other curves are not supported)`);
  }
  const v = point?.value ?? Buffer.alloc(0);
  if (v.length === 34 && v[0] === 0x04 && v[1] === 0x20) return new Uint8Array(v.subarray(2));
  if (v.length === 32) return new Uint8Array(v);
  throw new TilelogError('SIGNER_CONFIG', `pkcs11: the public key ${nameOf(uri)} has a CKA_EC_POINT of ${v.length} bytes, not an Ed25519 point`);
}
