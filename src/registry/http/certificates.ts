// The registry routes' hook for agent certificates (src/ca, spec/CA.md).
// POST /v1/agents and POST /v1/agents/{name}/rotate accept a `csr` member
// (PEM PKCS#10). It is checked (proof of possession) before anything is
// written; the certificate is issued, and logged, after the agent entry.
// The registry does not import the CA: cli/registry.ts wires one in.

import type { RevocationReason } from '../entries/schema.js';
import { toBase64 } from '../../merkle/encoding.js';

export interface PreparedCertificate {
  /** The CSR's Ed25519 key (raw 32 bytes), usable as the agent's publicKey; null for other keys. */
  ed25519: Uint8Array | null;
  /** Issues and logs the certificate; returns its JSON (pem, serial, index, ...). */
  issue(name: string, o: { supersede: boolean; bundle: boolean }): Promise<Record<string, unknown>>;
}

export interface AgentCertificates {
  prepare(csr: unknown): Promise<PreparedCertificate>;
  /** After agent.revoked: revokes the agent's certificates, returns their serials. */
  agentRevoked(name: string, reason: RevocationReason): Promise<string[]>;
}

/**
 * Takes `csr` out of a request object and checks it; when the request has
 * no publicKey and the CSR key is Ed25519, that key becomes the publicKey.
 * null when there is no csr (or no CA).
 */
export async function takeCsr(req: Record<string, unknown>, certs: AgentCertificates | null | undefined): Promise<PreparedCertificate | null> {
  if (req.csr === undefined || certs === null || certs === undefined) return null;
  const prepared = await certs.prepare(req.csr);
  delete req.csr;
  if (req.publicKey === undefined && prepared.ed25519 !== null) req.publicKey = toBase64(prepared.ed25519);
  return prepared;
}
