// tilelog/registry: what a client of the agent name registry needs, and
// nothing of its server. Browser-safe like tilelog/client (no node: imports;
// @noble/* only; test/registry/imports.test.ts walks the graph).
//
//   verifyResolution()     the offline check of a resolve (or write) answer
//   verifyKeyChain()       the submitter keys from pinned ones, through rotations
//   recordOf()             the record an agent's head entry sets
//   decode/encodeEntry()   the signed entry envelope (spec/ENTRIES.md)
//   parseAnsName() ...     ANS v2 names and aliases
//   parseAnsTxt() ...      the _ans TXT record format (spec/REGISTRY.md)
//
// The server side (Registry, StateIndex, the HTTP app, DNS validation) is
// run by `tilelog serve --registry` and is not exported.

export type { KeyChainAnswer, ResolutionPolicy, VerifiedResolution } from './verify.js';
export { verifyKeyChain, verifyResolution } from './verify.js';
export type { KeyHistoryJson, KeyRecord } from './key-history.js';
export { KeyHistory } from './key-history.js';
export type { EndpointJson, RecordJson } from './record.js';
export { recordOf } from './record.js';
export type { AgentEntryType, Entry, EntryType, KeyEntryType, SubmitterKey, UnsignedEntry } from './entries/envelope.js';
export { AGENT_TYPES, ENTRY_VERSION, KEY_TYPES, decodeEntry, encodeEntry, keyIdOf, keySubject, submitterKey, submitterKeyOf, verifyEntrySignature } from './entries/envelope.js';
export type { AgentBody, Endpoint, EndpointProtocol, RevocationReason } from './entries/schema.js';
export type { AnsName, NameRef } from './names.js';
export { parseAlias, parseAnsName, parseNameRef } from './names.js';
export type { AnsTxt, AnsTxtComparison, EndpointRef } from './ans-txt.js';
export { ansTxtName, compareAnsTxt, formatAnsTxt, parseAnsTxt } from './ans-txt.js';
