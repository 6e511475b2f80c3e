// The one place that loads @peculiar/x509 (and the reflect-metadata polyfill
// its tsyringe container needs) and points it at Node's WebCrypto. Every
// file in src/ca imports X.509 through here.

import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { sha256 } from '@noble/hashes/sha2.js';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export { x509 };

export const ECDSA_P256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** A copy in a fresh ArrayBuffer (what WebCrypto's BufferSource wants). */
export const u8 = (b: ArrayBuffer | ArrayBufferView): Uint8Array<ArrayBuffer> =>
  b instanceof ArrayBuffer ? new Uint8Array(b) : new Uint8Array(b.buffer, b.byteOffset, b.byteLength).slice();

export const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** SHA-256 of a certificate's SubjectPublicKeyInfo DER. */
export function spkiSha256(cert: x509.X509Certificate | x509.Pkcs10CertificateRequest): Uint8Array {
  return sha256(u8(cert.publicKey.rawData));
}

/** SHA-256 of the certificate's DER. */
export function derSha256(cert: x509.X509Certificate): Uint8Array {
  return sha256(u8(cert.rawData));
}

/** The serial number's content octets (x509 gives them as hex). */
export function serialBytes(cert: x509.X509Certificate): Uint8Array {
  return new Uint8Array(Buffer.from(cert.serialNumber, 'hex'));
}

/** Accepts PEM or base64 DER (one object). */
export function pemOrBase64(text: string, label: string): Uint8Array<ArrayBuffer> {
  const m = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+)-----END ${label}-----`).exec(text);
  const b64 = (m === null ? text : m[1]!).replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw new TypeError(`ca: not a PEM ${label} or base64 DER`);
  return u8(Buffer.from(b64, 'base64'));
}

/** Every PEM certificate in text, in order. */
export function pemCertificates(text: string): Uint8Array[] {
  return [...text.matchAll(/-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/g)].map(
    (m) => new Uint8Array(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64')),
  );
}

export function toPem(der: Uint8Array, label: string): string {
  const b64 = Buffer.from(der).toString('base64');
  return `-----BEGIN ${label}-----\n${b64.replace(/.{1,64}/g, '$&\n')}-----END ${label}-----\n`;
}
