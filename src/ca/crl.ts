// CRLs (RFC 5280 §5), one per intermediate, each signed by its intermediate
// and listing the applied `cert.revoked` entries of the certificates that
// intermediate issued (the issuerKeyHash of their cert.issued), with the
// entry's time and reason. thisUpdate is now, nextUpdate is now +
// statusValiditySeconds; the CRL number is the count of log leaves folded,
// so it grows with the log. Built on each request (a cache keyed by the
// folded size is an easy addition).
// A retired intermediate's CRL is served until the last certificate it
// issued expires (intermediates.ts), then CA_NOT_FOUND: nothing it signed
// is valid any more, so there is nothing left to revoke.
// The root's CRL (issuer 'root') covers the intermediates; it is empty in
// this version (a CA key is retired, not revoked), but verifiers that check
// CRLs for the whole chain (Node's tls `crl` option sets CRL_CHECK_ALL) need it.

import { TilelogError } from '../errors.js';
import type { CertificateAuthority } from './ca.js';
import type { Intermediate } from './intermediates.js';
import { reasonCode, seconds } from './status.js';
import { u8, x509 } from './x509.js';

/** issuer: 'root', 'intermediate' (the issuing one), or an intermediate's SPKI SHA-256 hex. */
export async function buildCrl(ca: CertificateAuthority, issuer = 'intermediate'): Promise<Uint8Array> {
  await ca.index.catchUp();
  const now = ca.now();
  let key;
  let revoked: ReturnType<CertificateAuthority['index']['revokedBy']> = [];
  if (issuer === 'root') key = ca.root;
  else {
    const inter = servedIntermediate(ca, issuer, now);
    key = { certificate: inter.certificate, signer: await ca.intermediates.signer(inter) };
    revoked = ca.index.revokedBy(inter.keyHashHex);
  }
  const crl = await x509.X509CrlGenerator.create(
    {
      issuer: key.certificate.subject,
      thisUpdate: seconds(now),
      nextUpdate: seconds(now + ca.statusValiditySeconds * 1000),
      signingAlgorithm: key.signer.algorithm,
      signingKey: key.signer.privateKey,
      entries: revoked.map((c) => ({
        serialNumber: c.serial,
        revocationDate: new Date(c.revoked!.time * 1000),
        reason: reasonCode(c.revoked!.reason) as number as x509.X509CrlReason,
      })),
      extensions: [
        await x509.AuthorityKeyIdentifierExtension.create(key.signer.publicKey, false, key.signer.crypto),
        new x509.Extension('2.5.29.20', false, crlNumber(ca.index.nextIndex)),
      ],
    },
    key.signer.crypto,
  );
  return u8(crl.rawData);
}

/** The intermediate named by issuer ('intermediate': the issuing one), if its status is still served. */
export function servedIntermediate(ca: CertificateAuthority, issuer: string, nowMs: number): Intermediate {
  const inter = issuer === 'intermediate' ? ca.intermediates.issuing() : ca.intermediates.byKeyHash(issuer);
  if (inter === null) throw new TilelogError('CA_NOT_FOUND', `ca: no intermediate ${issuer} in the log (GET /v1/ca/intermediates lists them)`);
  const until = ca.intermediates.servedUntilMs(inter);
  if (nowMs > until) {
    throw new TilelogError('CA_NOT_FOUND', `ca: the intermediate ca:${inter.keyHashHex} is retired and every certificate it issued expired by ${new Date(until).toISOString()}; its CRL is no longer served`);
  }
  return inter;
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
