// The registry's transition rules (spec/ENTRIES.md §Admission): whether one
// decoded entry may follow the current state. The same function admits a
// submission before it is sequenced (registry.ts) and replays the log into
// the index (state-index.ts), so the index is a fold of the log and nothing
// else. Throws a coded TilelogError naming the rule; returns nothing.
//
// Checks, in order:
//   1. signer: the first submitter key is added by a self-signed key.added;
//      after that, kid must be an active submitter key; the signature must
//      verify (REGISTRY_SIGNATURE);
//   2. chain: seq is the head's seq + 1 (0 for a new subject), prev is the
//      head's leaf hash (null for a new subject), time does not go back
//      (REGISTRY_NOT_FOUND for a change to an unknown agent, else REGISTRY_CONFLICT);
//   3. type: what the entry may change in the subject's current status
//      (REGISTRY_CONFLICT).

import { TilelogError } from '../errors.js';
import { hashEqual } from '../merkle/hash.js';
import { encodeCanonical, compareBytes } from './entries/cbor.js';
import { isAgentType, keySubject, verifyEntrySignature, type Entry } from './entries/envelope.js';
import { agentBodyToCbor, type AgentBody } from './entries/schema.js';
import { checkCertEntry } from './cert-rules.js';

export type AgentStatus = 'active' | 'deprecated' | 'revoked';

/** The head of one subject, as the rules need it. */
export interface SubjectHead {
  seq: number;
  leafHash: Uint8Array;
  time: number;
  entry: Entry;
}

/** Read access to the state the rules consult. */
export interface StateView {
  head(subject: string): SubjectHead | null;
  /** Submitter keys ever added (active or revoked). */
  keyCount(): number;
  activeKeyCount(): number;
  key(kid: string): { publicKey: Uint8Array; active: boolean } | null;
  /** The agent subject that holds an alias, or null. */
  aliasHolder(alias: string): string | null;
}

/** An agent's status is the type of its head entry. */
export function statusOf(type: string): AgentStatus {
  if (type === 'agent.revoked') return 'revoked';
  if (type === 'agent.deprecated') return 'deprecated';
  return 'active';
}

const conflict = (m: string) => new TilelogError('REGISTRY_CONFLICT', m);
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

/**
 * signatureVerified: the caller already verified exactly this entry's
 * signature under the key its kid names (a kid is the hash of its key, so
 * the answer cannot change); the signer's status is still checked. Saves
 * the Ed25519 verification (milliseconds in pure JS) when the registry's
 * pipeline replays or folds a leaf it verified at admission.
 */
export function checkTransition(view: StateView, e: Entry, o: { signatureVerified?: boolean } = {}): void {
  checkSigner(view, e, o.signatureVerified === true);
  const head = view.head(e.subject);
  checkChain(e, head);
  checkType(view, e, head);
}

function checkSigner(view: StateView, e: Entry, signatureVerified: boolean): void {
  let publicKey: Uint8Array;
  if (view.keyCount() === 0) {
    if (e.type !== 'key.added' || e.subject !== keySubject(e.kid)) {
      throw new TilelogError('REGISTRY_SIGNATURE', 'registry: no submitter key exists yet; the first entry must be a key.added signed by the key it adds');
    }
    publicKey = e.body.publicKey;
  } else {
    const k = view.key(e.kid);
    if (k === null) throw new TilelogError('REGISTRY_SIGNATURE', `registry: unknown submitter key ${e.kid}`);
    if (!k.active) throw new TilelogError('REGISTRY_SIGNATURE', `registry: submitter key ${e.kid} is revoked`);
    publicKey = k.publicKey;
  }
  if (!signatureVerified && !verifyEntrySignature(e, publicKey)) {
    throw new TilelogError('REGISTRY_SIGNATURE', `registry: the signature does not verify with submitter key ${e.kid}`);
  }
}

function checkChain(e: Entry, head: SubjectHead | null): void {
  if (head === null) {
    if (e.seq !== 0) {
      const what = e.subject.startsWith('key:') ? 'submitter key' : 'agent';
      throw new TilelogError('REGISTRY_NOT_FOUND', `registry: no ${what} ${e.subject}`);
    }
    return;
  }
  if (e.seq === 0 && e.type === 'agent.registered') throw conflict(`registry: ${e.subject} is already registered`);
  if (e.seq === 0 && e.type === 'key.added') throw conflict(`registry: ${e.subject} was already added`);
  if (e.seq !== head.seq + 1 || e.prev === null || !hashEqual(e.prev, head.leafHash)) {
    throw conflict(`registry: ${e.subject} has moved on: its head is seq ${head.seq} with leaf hash ${hex(head.leafHash)}; the entry must have seq ${head.seq + 1} and that prev`);
  }
  if (e.time < head.time) throw conflict(`registry: time ${e.time} is before the head's time ${head.time}`);
}

function checkType(view: StateView, e: Entry, head: SubjectHead | null): void {
  switch (e.type) {
    case 'key.added':
      return;
    case 'key.revoked':
      if (head!.entry.type === 'key.revoked') throw conflict(`registry: ${e.subject} is already revoked`);
      if (view.activeKeyCount() <= 1) throw conflict('registry: refusing to revoke the last active submitter key (add another first)');
      return;
    case 'agent.registered': {
      const alias = e.body.alias;
      const holder = alias === undefined ? null : view.aliasHolder(alias);
      if (holder !== null) throw conflict(`registry: alias ${alias} is taken by ${holder}`);
      return;
    }
    case 'cert.issued':
    case 'cert.revoked':
    case 'ca.key.added':
    case 'ca.key.retired':
    case 'cert.observed':
      return checkCertEntry(view, e, head);
    default:
      return checkAgentChange(e, head!.entry);
  }
}

const part = (b: AgentBody, keys: (keyof AgentBody)[]) => {
  const all = agentBodyToCbor(b);
  return encodeCanonical(Object.fromEntries(keys.filter((k) => all[k] !== undefined).map((k) => [k, all[k]!])));
};
const same = (a: AgentBody, b: AgentBody, keys: (keyof AgentBody)[]) => compareBytes(part(a, keys), part(b, keys)) === 0;

// What each agent change may touch. owner, alias and validation never change.
function checkAgentChange(e: Entry, prev: Entry): void {
  if (!isAgentType(e.type) || !isAgentType(prev.type)) {
    throw conflict(`registry: ${e.type} cannot follow ${prev.type}`);
  }
  const status = statusOf(prev.type);
  if (status === 'revoked') throw conflict(`registry: ${e.subject} is revoked; a revoked agent cannot change`);
  const [b, p] = [e.body as AgentBody, prev.body as AgentBody];
  if (!same(b, p, ['owner', 'alias', 'validation'])) throw conflict('registry: owner, alias and validation cannot change');
  const why = (m: string) => conflict(`registry: ${e.type}: ${m}`);
  switch (e.type) {
    case 'agent.updated':
      if (status !== 'active') throw why('only an active agent can be updated (this one is deprecated)');
      if (!same(b, p, ['publicKey'])) throw why('the public key changes only with agent.renewed');
      if (same(b, p, ['capabilities', 'endpoints'])) throw why('nothing changed');
      return;
    case 'agent.renewed':
      if (status !== 'active') throw why('only an active agent can be renewed (this one is deprecated)');
      if (same(b, p, ['publicKey'])) throw why('the new public key must differ from the current one');
      if (!same(b, p, ['capabilities', 'endpoints'])) throw why('capabilities and endpoints change only with agent.updated');
      return;
    case 'agent.deprecated':
    case 'agent.revoked':
      if (e.type === 'agent.deprecated' && status !== 'active') throw why('the agent is already deprecated');
      if (!same(b, p, ['publicKey', 'capabilities', 'endpoints'])) throw why('only the status and reason change');
      return;
  }
}
