// verifyResolution: the offline check of a GET /v1/resolve answer (or any
// registry write answer with a bundle). Browser-safe.
//   1. verifyBundle: checkpoint signature and cosignature quorum, inclusion
//      of the entry (tilelog/client)                        CLIENT_*
//   2. the entry decodes canonically as an agent entry for the name asked
//      (the ANS name, or the alias in its body)             REGISTRY_BAD_ENTRY / REGISTRY_NOT_FOUND
//   3. its signature verifies with a pinned submitter key, or (keyHistory)
//      with a key the log's key entries made active at its index REGISTRY_SIGNATURE
//   4. every member of answer.record derived from the entry equals what the
//      entry says (recordOf)                                REGISTRY_CONFLICT
// What this proves: the record was set by a signed entry that is in the
// log the policy trusts, as of the checkpoint. It does not prove that no
// later entry changed the agent; a monitor that replays the log does.
//
// verifyKeyChain: the GET /v1/registry/keys answer (every key.added and
// key.revoked, each with its proof bundle, in log order) folded from the
// pinned keys into a KeyHistory (key-history.ts). A verifier that pinned the
// first key follows a key rotation with it, offline. A key.revoked left out
// of the answer cannot be detected here (as for agents: a monitor can).

import type { TrustPolicy, TrustPolicyInput } from '../client/policy.js';
import { verifyBundle, type BundleVerification } from '../client/verify.js';
import { fromBase64Strict } from '../merkle/encoding.js';
import { TilelogError } from '../errors.js';
import { decodeEntry, isAgentType, verifyEntrySignature, type Entry } from './entries/envelope.js';
import type { AgentBody } from './entries/schema.js';
import { KeyHistory } from './key-history.js';
import { parseNameRef } from './names.js';
import { recordOf, type RecordJson } from './record.js';

export interface VerifiedResolution {
  record: RecordJson;
  entry: Entry & { body: AgentBody };
  bundle: BundleVerification;
}

export interface ResolutionPolicy {
  /** The log's trust policy (log key, witnesses, quorum). */
  log: TrustPolicy | TrustPolicyInput;
  /** Submitter public keys by kid (from GET /v1/registry, pinned out of band). */
  submitterKeys?: Record<string, string | Uint8Array>;
  /** Instead: the keys active at each index, from verifyKeyChain. */
  keyHistory?: KeyHistory;
}

export interface KeyChainAnswer {
  entries: unknown[];
}

/** Verifies a GET /v1/registry/keys answer from the pinned keys (raw or base64); see the header. */
export function verifyKeyChain(
  answer: unknown,
  pinned: readonly (string | Uint8Array)[],
  log: TrustPolicy | TrustPolicyInput,
  nowSeconds?: number,
): KeyHistory {
  const a = answer as Partial<KeyChainAnswer> | null;
  if (a === null || typeof a !== 'object' || !Array.isArray(a.entries)) throw new TypeError('verify: a key chain answer must have entries');
  if (pinned.length === 0) throw new TypeError('verify: pin at least one submitter key');
  const history = new KeyHistory(pinned);
  for (const b of a.entries) {
    const bundle = verifyBundle(JSON.stringify(b), log, nowSeconds);
    const entry = decodeEntry(bundle.entry);
    if (entry.type !== 'key.added' && entry.type !== 'key.revoked') throw new TilelogError('REGISTRY_BAD_ENTRY', `verify: entry ${bundle.index} of the key chain is a ${entry.type}`);
    history.apply(bundle.index, entry, bundle.leafHash);
  }
  return history;
}

export function verifyResolution(answer: unknown, name: string, policy: ResolutionPolicy, nowSeconds?: number): VerifiedResolution {
  const a = answer as { record?: Record<string, unknown>; bundle?: unknown };
  if (a === null || typeof a !== 'object' || a.bundle === undefined) throw new TypeError('verify: answer must have a bundle');
  const bundle = verifyBundle(JSON.stringify(a.bundle), policy.log, nowSeconds);
  const entry = decodeEntry(bundle.entry);
  if (!isAgentType(entry.type)) throw new TilelogError('REGISTRY_BAD_ENTRY', `verify: the bundle holds a ${entry.type} entry, not an agent entry`);
  const agentEntry = entry as Entry & { body: AgentBody };
  const ref = parseNameRef(name);
  const matches = ref.kind === 'ans' ? ref.ans.name === entry.subject : agentEntry.body.alias === ref.alias;
  if (!matches) throw new TilelogError('REGISTRY_NOT_FOUND', `verify: the entry is for ${entry.subject}, not ${name}`);
  if (policy.keyHistory !== undefined) policy.keyHistory.checkSigner(bundle.index, entry);
  else {
    const key = policy.submitterKeys?.[entry.kid];
    if (key === undefined) throw new TilelogError('REGISTRY_SIGNATURE', `verify: entry signed by ${entry.kid}, which is not a pinned submitter key`);
    const pub = typeof key === 'string' ? fromBase64Strict(key, 32) : key;
    if (!verifyEntrySignature(entry, pub)) throw new TilelogError('REGISTRY_SIGNATURE', `verify: the entry signature does not verify with ${entry.kid}`);
  }
  const record = recordOf(agentEntry);
  if (a.record !== undefined) {
    for (const [k, v] of Object.entries(record)) {
      if (JSON.stringify(a.record[k]) !== JSON.stringify(v)) {
        throw new TilelogError('REGISTRY_CONFLICT', `verify: the answer's record.${k} differs from the signed entry`);
      }
    }
  }
  return { record, entry: agentEntry, bundle };
}
