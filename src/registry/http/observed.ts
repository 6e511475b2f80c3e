// POST /v1/agents/{name}/certificates/observed: an externally issued server
// certificate for an agent, recorded as a cert.observed entry (spec/ENTRIES.md)
// signed by the registry key. Its only use so far: TLSA records in
// GET /v1/agents/{name}/dns (dns.ts). The certificate must parse as X.509 and
// carry a DNS subjectAltName covering the agent's host (exact, or a left-most
// wildcard); nothing about its issuer or chain is checked: it is recorded as is.

import { TilelogError } from '../../errors.js';
import { derSha256, pemOrBase64, spkiSha256, u8, x509 } from '../../ca/x509.js';
import type { CertObservedBody } from '../entries/cert-schema.js';
import { sanMatchesHost } from '../dns.js';

const bad = (m: string) => new TilelogError('REGISTRY_BAD_REQUEST', `request: ${m}`);

/** Checks the request `{ certificate }` and builds the cert.observed body for host. */
export function parseObservedCertificate(req: Record<string, unknown>, host: string): CertObservedBody {
  const extra = Object.keys(req).filter((k) => k !== 'certificate');
  if (extra.length > 0) throw bad(`unknown member ${extra[0]} (the only member is certificate)`);
  if (typeof req.certificate !== 'string') throw bad('certificate must be a PEM certificate or base64 DER');
  let cert: x509.X509Certificate;
  let dnsNames: string[];
  try {
    cert = new x509.X509Certificate(pemOrBase64(req.certificate, 'CERTIFICATE'));
    const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
    dnsNames = san === null ? [] : san.names.items.filter((n) => n.type === 'dns').map((n) => n.value.toLowerCase());
  } catch {
    throw bad('certificate does not parse as an X.509 certificate (PEM or base64 DER)');
  }
  if (!dnsNames.some((n) => sanMatchesHost(n, host))) {
    throw bad(`the certificate has no DNS subjectAltName matching ${host} (it has ${dnsNames.length === 0 ? 'none' : dnsNames.join(', ')})`);
  }
  return {
    sha256: derSha256(cert),
    spkiSha256: spkiSha256(cert),
    dnsNames: [...new Set(dnsNames)],
    notBefore: Math.floor(cert.notBefore.getTime() / 1000),
    notAfter: Math.floor(cert.notAfter.getTime() / 1000),
    der: u8(cert.rawData),
  };
}
