// The CA behind the registry routes' certificate hook
// (src/registry/http/certificates.ts): register and rotate with a CSR issue
// through CertificateAuthority.issue (logged first); revoking an agent
// revokes its certificates. CSR errors become the registry's 400.
// Register writes the agent entry before the certificate is signed, so
// prepare first has the intermediate key sign a probe: a key in a token that
// cannot sign now (SIGNER_UNAVAILABLE, 503) refuses the request before
// anything is logged, rather than leaving a registered agent without the
// certificate it asked for. (A token lost between the two steps still
// leaves that: the agent is registered, the answer is 503, rotate with the
// CSR issues it.)

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
      await ca.keys.intermediate.signer.sign(PROBE);
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
    chain: ca.chainPem(),
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
