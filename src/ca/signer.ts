// CaSigner: what the CA needs from a signing key. The key may live in this
// process (a PKCS#8 file, mode 0600) or in a PKCS#11 token (token-signer.ts:
// a Crypto whose subtle.sign asks the token, and whose private CryptoKey is
// only a handle). X.509 certificates and CRLs are signed through
// @peculiar/x509 with (crypto, privateKey); OCSP responses through sign().
// openCaSigner() turns a key reference (a file path or a pkcs11: URI) into
// one; the PKCS#11 code is imported only for a URI.

import * as fs from 'node:fs';
import { TilelogError } from '../errors.js';
import { webcrypto } from 'node:crypto';
import { isPkcs11Uri } from '../hsm/pkcs11-uri.js';
import { ECDSA_P256, pemOrBase64, toPem, u8, x509 } from './x509.js';

export interface CaSigner {
  /** The WebCrypto provider that holds privateKey (Node's, or an HSM's). */
  readonly crypto: Crypto;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  /** The signature algorithm for certificates, CRLs and OCSP responses. */
  readonly algorithm: EcdsaParams & { namedCurve: string };
  /** An X.509 signature value (DER ECDSA-Sig-Value) over data. */
  sign(data: Uint8Array): Promise<Uint8Array<ArrayBuffer>>;
  /** Releases a token key's session (a key opened and then refused); absent for a file key. */
  close?(): void;
}

const crypto = webcrypto as unknown as Crypto;

/** A CaSigner on a WebCrypto provider (Node's for a file key, the token shim for a PKCS#11 key). */
export class WebCryptoSigner implements CaSigner {
  readonly algorithm = ECDSA_P256;
  constructor(
    readonly crypto: Crypto,
    readonly privateKey: CryptoKey,
    readonly publicKey: CryptoKey,
  ) {}

  async sign(data: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
    const raw = await this.crypto.subtle.sign(this.algorithm, this.privateKey, u8(data));
    const der = new x509.AsnEcSignatureFormatter().toAsnSignature(this.algorithm, raw);
    if (der === null) throw new Error('ca: bad math: ECDSA signature did not convert to DER');
    return u8(der);
  }
}

/** A fresh ECDSA P-256 key pair (extractable, to be written to its file). */
export async function generateSigner(): Promise<{ signer: CaSigner; pkcs8Pem: string }> {
  const keys = (await crypto.subtle.generateKey(ECDSA_P256, true, ['sign', 'verify'])) as CryptoKeyPair;
  const pkcs8 = u8(await crypto.subtle.exportKey('pkcs8', keys.privateKey));
  return { signer: new WebCryptoSigner(crypto, keys.privateKey, keys.publicKey), pkcs8Pem: toPem(pkcs8, 'PRIVATE KEY') };
}

/** An ECDSA P-256 signer from PKCS#8 PEM (the public key is derived through JWK). */
export async function signerFromPkcs8(pem: string): Promise<CaSigner> {
  const der = pemOrBase64(pem, 'PRIVATE KEY');
  const privateKey = await crypto.subtle.importKey('pkcs8', der, ECDSA_P256, true, ['sign']);
  const { d: _d, ...jwk } = await crypto.subtle.exportKey('jwk', privateKey);
  const publicKey = await crypto.subtle.importKey('jwk', { ...jwk, key_ops: ['verify'] }, ECDSA_P256, true, ['verify']);
  return new WebCryptoSigner(crypto, privateKey, publicKey);
}

/** Reads a PKCS#8 key file, refusing one that others can read (it must be mode 0600 or stricter). */
export async function readKeyFile(file: string): Promise<CaSigner> {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (err) {
    throw new TilelogError('CA_CONFIG', `ca: cannot read the key file ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
  }
  if ((st.mode & 0o077) !== 0) throw new TilelogError('CA_CONFIG', `ca: ${file} is readable by others (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it`);
  return signerFromPkcs8(fs.readFileSync(file, 'utf8'));
}

/**
 * The CaSigner of a key reference: a pkcs11: URI names an ECDSA P-256 key in
 * a token (SIGNER_CONFIG saying what is wrong when it cannot be opened), any
 * other text a PKCS#8 key file (CA_CONFIG when it cannot be read).
 */
export async function openCaSigner(ref: string): Promise<CaSigner> {
  if (isPkcs11Uri(ref)) return (await import('./token-signer.js')).openTokenCaSigner(ref);
  return readKeyFile(ref);
}
