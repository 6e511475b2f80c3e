// verifyCertificate: the answer of POST /v1/verify/cert. A certificate is
// accepted only if every check passes, in this order (the first failure is
// the reason):
//   1. unknown-issuer  its signature does not verify with the key of an
//                      intermediate the log shows (ca.key.added; retired or
//                      not: certificates issued before a rotation stay valid),
//                      or the issuer name is not that intermediate's, or that
//                      intermediate's certificate is not signed by the root
//   2. never-logged    no applied cert.issued entry has its exact DER (SHA-256)
//   3. revoked         a cert.revoked entry for its serial (reason given:
//                      superseded after a rotation, or the agent's reason)
//   4. not-yet-valid / expired   now outside [notBefore, notAfter]
//   5. agent-revoked / agent-deprecated / agent-unknown   the agent's current
//                      status in the registry index
// A certificate that passes 1 carries the index of its issuance entry, so
// the answer includes that entry's proof bundle (and the revocation's).

import { sha256 } from '@noble/hashes/sha2.js';
import type { CertificateAuthority } from './ca.js';
import type { CertState } from './ca-index.js';
import { toHex, u8, x509 } from './x509.js';

export type CertVerdict = 'unknown-issuer' | 'never-logged' | 'revoked' | 'not-yet-valid' | 'expired' | 'agent-revoked' | 'agent-deprecated' | 'agent-unknown';

export interface CertVerification {
  valid: boolean;
  reason: CertVerdict | null;
  serial: string;
  sha256: string;
  cert: CertState | null;
  agentStatus: string | null;
}

export async function verifyCertificate(ca: CertificateAuthority, der: Uint8Array): Promise<CertVerification> {
  await ca.index.catchUp();
  const cert = new x509.X509Certificate(u8(der));
  const sha = toHex(sha256(der));
  const out = (reason: CertVerdict | null, c: CertState | null = null, agentStatus: string | null = null): CertVerification => ({
    valid: reason === null,
    reason,
    serial: cert.serialNumber.toLowerCase(),
    sha256: sha,
    cert: c,
    agentStatus,
  });
  let signed = false;
  for (const inter of ca.intermediates.all()) {
    if (cert.issuer !== inter.certificate.subject) continue;
    try {
      // The log's ca.key.added says which intermediates exist; the root's signature says they are this CA's.
      signed =
        (await cert.verify({ publicKey: inter.certificate.publicKey, signatureOnly: true })) &&
        (await inter.certificate.verify({ publicKey: ca.root.certificate.publicKey, signatureOnly: true }));
    } catch {
      signed = false;
    }
    if (signed) break;
  }
  if (!signed) return out('unknown-issuer');
  const c = ca.index.certBySha256(sha);
  if (c === null) return out('never-logged');
  if (c.revoked !== null) return out('revoked', c);
  const now = ca.now();
  if (now < cert.notBefore.getTime()) return out('not-yet-valid', c);
  if (now > cert.notAfter.getTime()) return out('expired', c);
  const agent = ca.registry.index.agent(c.issued.body.agent);
  if (agent === null) return out('agent-unknown', c);
  if (agent.status !== 'active') return out(agent.status === 'revoked' ? 'agent-revoked' : 'agent-deprecated', c, agent.status);
  return out(null, c, agent.status);
}
