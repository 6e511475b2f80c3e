// Transition rules for the certificate entry types (spec/ENTRIES.md
// §Certificate entries), called by checkTransition (rules.ts) after the
// signer and chain checks, so they run both at admission and in the fold.
//   cert.issued     the issuer (ca:<issuerKeyHash>) is a CA key added and not
//                   retired; the agent exists and is active
//   cert.revoked    the certificate is not already revoked (revocation is final)
//   ca.key.added    (new subject; nothing more)
//   ca.key.retired  the CA key is not already retired
//   cert.observed   (new subject; nothing more)
// Failures are REGISTRY_CONFLICT (REGISTRY_NOT_FOUND for an unknown agent or issuer).

import { TilelogError } from '../errors.js';
import { caKeySubject, type CertEntryType } from './entries/cert-schema.js';
import { isAgentType, type Entry } from './entries/envelope.js';
import { statusOf, type StateView, type SubjectHead } from './rules.js';

export type SubjectKind = 'agent' | 'key' | 'cert' | 'ca' | 'observed';

export function subjectKind(type: string): SubjectKind {
  if (isAgentType(type)) return 'agent';
  if (type === 'key.added' || type === 'key.revoked') return 'key';
  if (type === 'cert.issued' || type === 'cert.revoked') return 'cert';
  if (type === 'ca.key.added' || type === 'ca.key.retired') return 'ca';
  return 'observed';
}

/** The status column of a certificate subject: its head's type decides. */
export function certStatusOf(type: CertEntryType): 'active' | 'revoked' | 'retired' {
  if (type === 'cert.revoked') return 'revoked';
  if (type === 'ca.key.retired') return 'retired';
  return 'active';
}

const conflict = (m: string) => new TilelogError('REGISTRY_CONFLICT', `registry: ${m}`);

export function checkCertEntry(view: StateView, e: Entry, head: SubjectHead | null): void {
  switch (e.type) {
    case 'cert.issued': {
      const ca = view.head(caKeySubject(e.body.issuerKeyHash));
      if (ca === null) throw new TilelogError('REGISTRY_NOT_FOUND', `registry: no CA key ${caKeySubject(e.body.issuerKeyHash)}`);
      if (ca.entry.type !== 'ca.key.added') throw conflict(`CA key ${caKeySubject(e.body.issuerKeyHash)} is retired`);
      const agent = view.head(e.body.agent);
      if (agent === null || !isAgentType(agent.entry.type)) throw new TilelogError('REGISTRY_NOT_FOUND', `registry: no agent ${e.body.agent}`);
      if (statusOf(agent.entry.type) !== 'active') throw conflict(`${e.body.agent} is ${statusOf(agent.entry.type)}; certificates are issued only to active agents`);
      return;
    }
    case 'cert.revoked':
      if (head!.entry.type !== 'cert.issued') throw conflict(`${e.subject} is already revoked`);
      return;
    case 'ca.key.retired':
      if (head!.entry.type !== 'ca.key.added') throw conflict(`${e.subject} ${head!.entry.type === 'ca.key.retired' ? 'is already retired' : 'is not a CA key'}`);
      return;
    default:
      return;
  }
}
