// ECDSA P-256 keys in a PKCS#11 token, for the CA (certificates, CRLs and
// OCSP responses; src/ca/token-signer.ts puts this behind CaSigner).
//
// Signing is CKM_ECDSA over a SHA-256 digest computed here, not
// CKM_ECDSA_SHA256: every ECDSA token has the raw mechanism, some lack the
// combined one, and only 32 bytes cross the wire. The token answers r||s
// (2 x 32 bytes, PKCS#11 §2.3.1); each signature is verified with the
// public key before it is returned (a token that answers garbage gives
// SIGNER_UNAVAILABLE, never a certificate that does not verify). Sessions,
// reconnects and errors are TokenKey's (pkcs11-token-key.ts).
//
// The public key is read from the public key object of the same label/ID:
// CKA_EC_PARAMS must name prime256v1, CKA_EC_POINT is the uncompressed
// point (DER OCTET STRING 04 41 || 04 X Y; some modules store it bare).
// Keys made here are token objects, private, sensitive and never
// extractable.

import * as crypto from 'node:crypto';
import { TilelogError } from '../errors.js';
import { ckr, loadPkcs11js, Pkcs11Module, type Handle } from './pkcs11-module.js';
import { makeKeyObjects } from './pkcs11-keygen.js';
import type { Pkcs11SignerOptions } from './pkcs11-signer.js';
import { nameOf, publicKeyObject, TokenKey, type KeyKind } from './pkcs11-token-key.js';
import { formatPkcs11Uri, parsePkcs11Uri, type Pkcs11Uri } from './pkcs11-uri.js';

/** DER OID 1.2.840.10045.3.1.7 (prime256v1, secp256r1): CKA_EC_PARAMS of a P-256 key. */
export const P256_EC_PARAMS = new Uint8Array([0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]);
// SubjectPublicKeyInfo of a P-256 key up to the point (RFC 5480): SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING (65 bytes + 0 unused bits).
const SPKI_PREFIX = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex');
// PKCS#11 2.40 values (pkcs11js exports them, but the type of a KeyKind is fixed before the binding loads).
const CKK_EC = 0x3;
const CKM_EC_KEY_PAIR_GEN = 0x1040;
const CKM_ECDSA = 0x1041;

const PROBE = new TextEncoder().encode('tilelog pkcs11 CA key check');

const P256_KEY: KeyKind = {
  keyType: CKK_EC,
  name: 'an ECDSA (CKK_EC) P-256',
  createWith: 'tilelog keygen --ca --key <this URI>',
  readPublicKey,
};

/** Opens the ECDSA P-256 key named by a pkcs11: URI (text or parsed). */
export async function openPkcs11EcdsaKey(uri: string | Pkcs11Uri, options: Pkcs11SignerOptions = {}): Promise<Pkcs11EcdsaKey> {
  const parsed = typeof uri === 'string' ? parsePkcs11Uri(uri) : uri;
  const js = await loadPkcs11js(options.binding);
  return Pkcs11EcdsaKey.open(Pkcs11Module.get(js, parsed.modulePath), parsed);
}

/** Generates a new ECDSA P-256 key pair in the token named by uri (never replacing one) and opens it. */
export async function generatePkcs11EcdsaKey(uri: string | Pkcs11Uri, options: Pkcs11SignerOptions = {}): Promise<Pkcs11EcdsaKey> {
  const made = await makeKeyObjects(uri, options, P256_EC_PARAMS, (module, session, priv, pub) => {
    try {
      module.lib.C_GenerateKeyPair(session, { mechanism: CKM_EC_KEY_PAIR_GEN }, pub, priv);
    } catch (err) {
      throw new TilelogError('SIGNER_CONFIG', `pkcs11: the token cannot generate an ECDSA P-256 key (CKM_EC_KEY_PAIR_GEN: ${ckr(err) ?? (err as Error).message})`, {
        cause: err,
      });
    }
  });
  return Pkcs11EcdsaKey.open(made.module, made.uri);
}

export class Pkcs11EcdsaKey {
  /** SubjectPublicKeyInfo DER of the key (what a certificate of it must carry). */
  readonly spki: Uint8Array;
  readonly description: string;
  readonly #key: TokenKey;
  readonly #verifyKey: crypto.KeyObject;

  private constructor(key: TokenKey) {
    this.#key = key;
    this.spki = new Uint8Array(Buffer.concat([SPKI_PREFIX, key.publicKey]));
    this.description = key.description;
    this.#verifyKey = crypto.createPublicKey({ key: Buffer.from(this.spki), format: 'der', type: 'spki' });
  }

  /** @internal Use openPkcs11EcdsaKey(). */
  static open(module: Pkcs11Module, uri: Pkcs11Uri): Pkcs11EcdsaKey {
    const key = TokenKey.open(module, uri, P256_KEY);
    try {
      const k = new Pkcs11EcdsaKey(key);
      const sig = key.probe({ mechanism: CKM_ECDSA }, digest(PROBE), 64, 'CKM_ECDSA');
      if (!k.#valid(PROBE, sig)) {
        throw new TilelogError('SIGNER_CONFIG', `pkcs11: the private key ${formatPkcs11Uri(uri)} does not match the public key object of the same name`);
      }
      return k;
    } catch (err) {
      key.close();
      throw err;
    }
  }

  /** Signatures that failed since open (metrics, tests). */
  get failures(): number {
    return this.#key.failures;
  }

  /** ECDSA P-256 with SHA-256 over data: r||s (64 bytes, IEEE P1363 form), verified. SIGNER_UNAVAILABLE when the token cannot sign. */
  sign(data: Uint8Array): Uint8Array {
    const sig = this.#key.sign({ mechanism: CKM_ECDSA }, digest(data), 64);
    if (!this.#valid(data, sig)) throw this.#key.rejected();
    return sig;
  }

  close(): void {
    this.#key.close();
  }

  #valid(data: Uint8Array, sig: Uint8Array): boolean {
    return sig.length === 64 && crypto.verify('sha256', data, { key: this.#verifyKey, dsaEncoding: 'ieee-p1363' }, sig);
  }
}

function digest(data: Uint8Array): Uint8Array {
  return crypto.createHash('sha256').update(data).digest();
}

// readPublicKey: the 65-byte uncompressed P-256 point of the public key
// object named like the private key, checked to be on the curve.
function readPublicKey(module: Pkcs11Module, session: Handle, uri: Pkcs11Uri): Uint8Array {
  const { lib, js } = module;
  const [params, point] = lib.C_GetAttributeValue(session, publicKeyObject(module, session, uri), [{ type: js.CKA_EC_PARAMS }, { type: js.CKA_EC_POINT }]);
  if (!(params?.value ?? Buffer.alloc(0)).equals(Buffer.from(P256_EC_PARAMS))) {
    throw new TilelogError('SIGNER_CONFIG', `pkcs11: the key ${nameOf(uri)} is not on P-256 (prime256v1); the CA signs with ECDSA P-256 only`);
  }
  const v = point?.value ?? Buffer.alloc(0);
  const raw = v.length === 67 && v[0] === 0x04 && v[1] === 0x41 ? v.subarray(2) : v;
  if (raw.length !== 65 || raw[0] !== 0x04) {
    throw new TilelogError('SIGNER_CONFIG', `pkcs11: the public key ${nameOf(uri)} has a CKA_EC_POINT of ${v.length} bytes, not an uncompressed P-256 point`);
  }
  try {
    crypto.createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
  } catch {
    throw new TilelogError('SIGNER_CONFIG', `pkcs11: the public key ${nameOf(uri)} is not a point on P-256`);
  }
  return new Uint8Array(raw);
}
