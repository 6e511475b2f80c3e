// The CA behind the registry routes' certificate hook
// (src/registry/http/certificates.ts): register and rotate with a CSR issue
// through CertificateAuthority.issue (logged first); revoking an agent
// revokes its certificates. CSR errors become the registry's 400.
// Register writes the agent entry before the certificate is signed, so
// prepare first checks the issuing intermediate: a process without its key
// (another one rotated) answers 503 (CA_KEY_UNAVAILABLE), and a key in a
// token that cannot sign now (a probe signature; SIGNER_UNAVAILABLE, 503)
// refuses the request before anything is logged, rather than leaving a
// registered agent without the certificate it asked for. (A token lost
// between the two steps still leaves that: the agent is registered, the
// answer is 503, rotate with the CSR issues it.)

import { TilelogError } from '../errors.js';
import { encodeBundleJson } from '../client/bundle.js';
import { toBase64 } from '../merkle/encoding.js';
import type { AgentCertificates } from '../registry/http/certificates.js';
import type { CertificateAuthority, IssuedCert } from './ca.js';

const PROBE = new TextEncoder().encode('tilelog CA signer check');

export function agentCertificates(ca: CertificateAuthority): AgentCertificates {
  return {
    async prepare(csr) {
      let prepared;
      try {
        prepared = await ca.prepareCsr(csr);
      } catch (err) {
        if (err instanceof TilelogError && err.code === 'CA_BAD_CSR') throw new TilelogError('REGISTRY_BAD_REQUEST', `request: csr: ${err.message}`);
        throw err;
      }
      // A process without the issuing intermediate's key (another one rotated), or whose token cannot sign, refuses before anything is written.
      const { signer } = await ca.issuingKey();
      await signer.sign(PROBE);
      return {
        ed25519: prepared.ed25519,
        issue: async (name, o) => issuedJson(ca, await ca.issue(name, prepared, { supersede: o.supersede }), o.bundle),
      };
    },
    agentRevoked: (name, reason) => ca.revokeAgent(name, reason),
  };
}

/** The certificate member of a register/rotate answer. */
export async function issuedJson(ca: CertificateAuthority, c: IssuedCert, withBundle: boolean): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {
    pem: c.pem,
    chain: ca.chainPem(c.issuer),
    serial: c.serial,
    notBefore: c.certificate.notBefore.toISOString(),
    notAfter: c.certificate.notAfter.toISOString(),
    index: c.write.index,
    leafHash: toBase64(c.write.leafHash),
    superseded: c.superseded,
  };
  if (withBundle) out.bundle = JSON.parse(encodeBundleJson(await ca.registry.bundle(c.write.index)));
  return out;
}
