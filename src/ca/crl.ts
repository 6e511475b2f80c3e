// The CRL of the issuing CA (RFC 5280 §5), derived from the log: one entry
// per applied `cert.revoked` of a certificate the intermediate issued, with
// the entry's time and reason. thisUpdate is now, nextUpdate is now +
// statusValiditySeconds; the CRL number is the count of log leaves folded,
// so it grows with the log. Built on each request (a cache keyed by the
// folded size is an easy addition); signed by the intermediate key.
// The root's CRL (issuer 'root') covers the intermediate; it is empty in
// this version (a CA key is retired, not revoked), but verifiers that check
// CRLs for the whole chain (Node's tls `crl` option sets CRL_CHECK_ALL) need it.

import type { CertificateAuthority } from './ca.js';
import { reasonCode, seconds } from './status.js';
import { toHex, u8, x509 } from './x509.js';

export async function buildCrl(ca: CertificateAuthority, issuer: 'intermediate' | 'root' = 'intermediate'): Promise<Uint8Array> {
  await ca.index.catchUp();
  const inter = ca.keys[issuer];
  const now = ca.now();
  const revoked = issuer === 'root' ? [] : ca.index.revokedBy(toHex(ca.issuerKeyHash));
  const crl = await x509.X509CrlGenerator.create(
    {
      issuer: inter.certificate.subject,
      thisUpdate: seconds(now),
      nextUpdate: seconds(now + ca.statusValiditySeconds * 1000),
      signingAlgorithm: inter.signer.algorithm,
      signingKey: inter.signer.privateKey,
      entries: revoked.map((c) => ({
        serialNumber: c.serial,
        revocationDate: new Date(c.revoked!.time * 1000),
        reason: reasonCode(c.revoked!.reason) as number as x509.X509CrlReason,
      })),
      extensions: [
        await x509.AuthorityKeyIdentifierExtension.create(inter.signer.publicKey, false, inter.signer.crypto),
        new x509.Extension('2.5.29.20', false, crlNumber(ca.index.nextIndex)),
      ],
    },
    inter.signer.crypto,
  );
  return u8(crl.rawData);
}

/** DER INTEGER (the cRLNumber extension value) of a non-negative safe integer. */
function crlNumber(n: number): Uint8Array<ArrayBuffer> {
  const bytes: number[] = [];
  let v = BigInt(n);
  do {
    bytes.unshift(Number(v & 0xffn));
    v >>= 8n;
  } while (v > 0n);
  if (bytes[0]! >= 0x80) bytes.unshift(0);
  return new Uint8Array([0x02, bytes.length, ...bytes]);
}
