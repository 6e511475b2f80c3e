// A CaSigner whose ECDSA P-256 key stays in a PKCS#11 token
// (src/hsm/pkcs11-ecdsa.ts). @peculiar/x509 signs certificates and CRLs
// through crypto.subtle.sign(algorithm, privateKey, tbs), so the CaSigner's
// Crypto is Node's WebCrypto with sign() answered by the token when the key
// is the token's handle; everything else (exporting and digesting the public
// key for SKI/AKI, random values) goes to Node. The private CryptoKey is a
// plain handle object: Node's subtle refuses it, so it can never be signed
// with anywhere but the token. The token returns r||s, which is what
// WebCrypto's ECDSA returns too, so the DER conversion downstream is shared.

import { webcrypto } from 'node:crypto';
import { openPkcs11EcdsaKey, type Pkcs11EcdsaKey } from '../hsm/pkcs11-ecdsa.js';
import { WebCryptoSigner, type CaSigner } from './signer.js';
import { ECDSA_P256, u8 } from './x509.js';

const node = webcrypto as unknown as Crypto;

/** Opens the token key a pkcs11: URI names as a CaSigner. */
export async function openTokenCaSigner(uri: string): Promise<CaSigner> {
  return tokenCaSigner(await openPkcs11EcdsaKey(uri));
}

export async function tokenCaSigner(key: Pkcs11EcdsaKey): Promise<CaSigner> {
  const publicKey = await node.subtle.importKey('spki', u8(key.spki), { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify']);
  const handle = Object.freeze({
    type: 'private',
    extractable: false,
    algorithm: Object.freeze({ name: 'ECDSA', namedCurve: 'P-256' }),
    usages: Object.freeze(['sign']),
  }) as unknown as CryptoKey;
  const sign = async (algorithm: AlgorithmIdentifier | EcdsaParams, k: CryptoKey, data: BufferSource): Promise<ArrayBuffer> => {
    if (k !== handle) return node.subtle.sign(algorithm, k, data);
    if (!isEcdsaSha256(algorithm)) throw new TypeError(`ca: the token key signs ECDSA with SHA-256 only, not ${JSON.stringify(algorithm)}`);
    return u8(key.sign(bytes(data))).buffer;
  };
  // Every other member of Node's SubtleCrypto, bound to it.
  const subtle = new Proxy(node.subtle, {
    get(target, name) {
      if (name === 'sign') return sign;
      const v = Reflect.get(target, name) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  const crypto = {
    subtle,
    getRandomValues: node.getRandomValues.bind(node),
    randomUUID: node.randomUUID.bind(node),
  } as Crypto;
  return Object.assign(new WebCryptoSigner(crypto, handle, publicKey), { close: () => key.close() });
}

function isEcdsaSha256(a: AlgorithmIdentifier | EcdsaParams): boolean {
  if (typeof a === 'string' || a.name.toUpperCase() !== 'ECDSA') return false;
  const hash = (a as Partial<EcdsaParams>).hash ?? ECDSA_P256.hash;
  return (typeof hash === 'string' ? hash : hash.name).toUpperCase() === 'SHA-256';
}

function bytes(data: BufferSource): Uint8Array {
  return data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
