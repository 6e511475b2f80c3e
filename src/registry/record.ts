// The JSON view of an agent record. recordOf() derives it from the head
// entry alone, so a verifier holding only the entry (from a proof bundle)
// computes the same members the server sent (verify.ts compares them).
// Browser-safe: no node: imports.

import { toBase64, toHex } from '../merkle/encoding.js';
import type { Entry } from './entries/envelope.js';
import type { AgentBody } from './entries/schema.js';
import { statusOf, type AgentStatus } from './rules.js';

export interface EndpointJson {
  protocol: string;
  url: string;
  metadataUrl?: string;
  /** Lower-case hex. */
  metadataSha256?: string;
}

export interface RecordJson {
  name: string;
  status: AgentStatus;
  owner: string;
  alias: string | null;
  capabilities: string[];
  endpoints: EndpointJson[];
  /** The agent's Ed25519 public key, base64. */
  publicKey: string;
  validation: string;
  /** Deprecation text or RFC 5280 revocation reason; null otherwise. */
  reason: string | null;
  /** The head entry's per-subject sequence number, type and time claim (Unix seconds). */
  seq: number;
  lastChange: string;
  time: number;
  /** The submitter key that signed the head entry. */
  submitterKey: string;
}

/** The record an agent head entry sets. */
export function recordOf(e: Entry & { body: AgentBody }): RecordJson {
  const b = e.body;
  return {
    name: e.subject,
    status: statusOf(e.type),
    owner: b.owner,
    alias: b.alias ?? null,
    capabilities: [...b.capabilities],
    endpoints: b.endpoints.map((x) => ({
      protocol: x.protocol,
      url: x.url,
      ...(x.metadataUrl !== undefined && { metadataUrl: x.metadataUrl, metadataSha256: toHex(x.metadataSha256!) }),
    })),
    publicKey: toBase64(b.publicKey),
    validation: b.validation,
    reason: b.reason ?? null,
    seq: e.seq,
    lastChange: e.type,
    time: e.time,
    submitterKey: e.kid,
  };
}
