// The registry entry envelope v1 (spec/ENTRIES.md): one CBOR map in core
// deterministic encoding, the exact bytes of one log leaf.
//
//   {"v": 1, "type": <tstr>, "subject": <tstr>, "seq": <uint>,
//    "prev": <bstr 32> | null, "time": <uint seconds>, "kid": <tstr>,
//    "body": <map>, "sig": <bstr 64>}
//
// sig is Ed25519 (RFC 8032) by the submitter key kid over
//   "tilelog/registry/entry/v1\n" || canonical CBOR of the map without "sig".
// The log adds nothing, so identical submissions are identical leaves.
// decodeEntry() accepts only bytes that re-encode identically; it checks the
// shape and the body schema, not the signature or the subject's history
// (state.ts does those against the index).

import * as ed from '@noble/ed25519';
import { ed25519QuickAccept } from '../../note/ed25519.js'; // also gives noble its SHA-512
import { sha256 } from '@noble/hashes/sha2.js';
import { MAX_ENTRY_SIZE } from '../../merkle/layout.js';
import { seedSigner, type Signer } from '../../note/signer.js';
import { isCanonicalAnsName } from '../names.js';
import { CborError, decodeCanonical, encodeCanonical, type CborMap } from './cbor.js';
import { agentBody, agentBodyToCbor, bad, exactMembers, isMap, keyAddedBody, keyRevokedBody, type AgentBody, type KeyAddedBody, type KeyRevokedBody } from './schema.js';
import { CERT_TYPES, certBody, certBodyToCbor, isCertType, type CaKeyAddedBody, type CaKeyRetiredBody, type CertBody, type CertEntryType, type CertIssuedBody, type CertObservedBody, type CertRevokedBody } from './cert-schema.js';

export const ENTRY_VERSION = 1;
export const SIGNATURE_CONTEXT = 'tilelog/registry/entry/v1\n';

export const AGENT_TYPES = ['agent.registered', 'agent.updated', 'agent.renewed', 'agent.deprecated', 'agent.revoked'] as const;
export const KEY_TYPES = ['key.added', 'key.revoked'] as const;
export type AgentEntryType = (typeof AGENT_TYPES)[number];
export type KeyEntryType = (typeof KEY_TYPES)[number];
export type EntryType = AgentEntryType | KeyEntryType | CertEntryType;

/** The subject of key entries: `key:` and the key ID. */
export const KEY_SUBJECT_PREFIX = 'key:';
const KID = /^[0-9a-f]{16}$/;

interface Common {
  v: typeof ENTRY_VERSION;
  subject: string;
  /** 0 for the subject's first entry, then +1 per entry. */
  seq: number;
  /** RFC 6962 leaf hash of the subject's previous entry; null when seq is 0. */
  prev: Uint8Array | null;
  /** The submitter's claim, Unix seconds. */
  time: number;
  /** The submitter key ID (keyIdOf its public key). */
  kid: string;
}

export type UnsignedEntry =
  | (Common & { type: AgentEntryType; body: AgentBody })
  | (Common & { type: 'key.added'; body: KeyAddedBody })
  | (Common & { type: 'key.revoked'; body: KeyRevokedBody })
  // Certificate entries (cert-schema.ts), written by the CA (src/ca).
  | (Common & { type: 'cert.issued'; body: CertIssuedBody })
  | (Common & { type: 'cert.revoked'; body: CertRevokedBody })
  | (Common & { type: 'ca.key.added'; body: CaKeyAddedBody })
  | (Common & { type: 'ca.key.retired'; body: CaKeyRetiredBody })
  | (Common & { type: 'cert.observed'; body: CertObservedBody });

export type Entry = UnsignedEntry & { sig: Uint8Array };

/** A submitter key's ID: the first 8 bytes of SHA-256(public key), lower-case hex. */
export function keyIdOf(publicKey: Uint8Array): string {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) throw new TypeError('entry: public key must be 32 bytes');
  return Array.from(sha256(publicKey).subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join('');
}

export function keySubject(kid: string): string {
  return `${KEY_SUBJECT_PREFIX}${kid}`;
}

export function isAgentType(t: string): t is AgentEntryType {
  return (AGENT_TYPES as readonly string[]).includes(t);
}

function toCbor(e: UnsignedEntry): CborMap {
  let body: CborMap;
  if (isAgentType(e.type)) body = agentBodyToCbor(e.body as AgentBody);
  else if (isCertType(e.type)) body = certBodyToCbor(e.body as CertBody);
  else if (e.type === 'key.added') {
    const b = e.body as KeyAddedBody;
    body = { publicKey: b.publicKey, label: b.label };
  } else body = { reason: (e.body as KeyRevokedBody).reason };
  return { v: e.v, type: e.type, subject: e.subject, seq: e.seq, prev: e.prev, time: e.time, kid: e.kid, body };
}

/** The bytes the signature covers: the context string, then the envelope without "sig". */
export function signedMessage(e: UnsignedEntry): Uint8Array {
  const ctx = new TextEncoder().encode(SIGNATURE_CONTEXT);
  const enc = encodeCanonical(toCbor(e));
  const out = new Uint8Array(ctx.length + enc.length);
  out.set(ctx, 0);
  out.set(enc, ctx.length);
  return out;
}

/** A submitter's signing key: the 32-byte Ed25519 seed; kid and publicKey derived. */
export interface SubmitterKey {
  readonly kid: string;
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

export function submitterKey(seed: Uint8Array): SubmitterKey {
  if (!(seed instanceof Uint8Array) || seed.length !== 32) throw new TypeError('entry: submitter seed must be 32 bytes');
  return submitterKeyOf(seedSigner(seed, 'the registry submitter key'));
}

/** The submitter key of any Ed25519 Signer: a seed, or a key in a PKCS#11 token (src/hsm). */
export function submitterKeyOf(signer: Signer): SubmitterKey {
  const publicKey = signer.publicKey.slice();
  return { kid: keyIdOf(publicKey), publicKey, sign: (m) => signer.sign(m) };
}

/** Signs e with key (e.kid must be key.kid) and returns the leaf bytes. Checks e like decodeEntry would. */
export function encodeEntry(e: UnsignedEntry, key: SubmitterKey): Uint8Array {
  if (e.kid !== key.kid) throw new RangeError(`entry: kid ${e.kid} is not the signing key's ${key.kid}`);
  const sig = key.sign(signedMessage(e));
  const bytes = encodeCanonical({ ...toCbor(e), sig });
  decodeEntry(bytes); // refuse to emit what a verifier would refuse
  return bytes;
}

/** True when e.sig is a valid Ed25519 signature by publicKey (noble's ZIP-215 rules). */
export function verifyEntrySignature(e: Entry, publicKey: Uint8Array): boolean {
  try {
    const message = signedMessage(e);
    // A shortcut only ever says yes where noble would (note/ed25519.ts); the verdict is noble's.
    if (ed25519QuickAccept(e.sig, message, publicKey, 'zip215')) return true;
    return ed.verify(e.sig, message, publicKey);
  } catch {
    return false;
  }
}

/** Decodes and checks one leaf (canonical CBOR, version, type, subject, body schema). Throws REGISTRY_BAD_ENTRY. */
export function decodeEntry(data: Uint8Array): Entry {
  if (!(data instanceof Uint8Array)) throw new TypeError('entry: data must be a Uint8Array');
  if (data.length > MAX_ENTRY_SIZE) throw bad(`${data.length} bytes, at most ${MAX_ENTRY_SIZE}`);
  let m;
  try {
    m = decodeCanonical(data);
  } catch (err) {
    if (err instanceof CborError) throw bad(`not canonical CBOR: ${err.message}`);
    throw err;
  }
  if (!isMap(m)) throw bad('the envelope must be a CBOR map');
  if (m.v !== ENTRY_VERSION) throw bad(`unknown version ${JSON.stringify(m.v ?? null)}; this reader knows version ${ENTRY_VERSION}`);
  exactMembers('envelope', m, ['v', 'type', 'subject', 'seq', 'prev', 'time', 'kid', 'body', 'sig']);
  const type = m.type;
  if (typeof type !== 'string' || !(isAgentType(type) || isCertType(type) || (KEY_TYPES as readonly string[]).includes(type))) {
    throw bad(`unknown type ${JSON.stringify(type)}; known: ${[...AGENT_TYPES, ...KEY_TYPES, ...CERT_TYPES].join(', ')}`);
  }
  const seq = m.seq;
  const time = m.time;
  if (typeof seq !== 'number') throw bad('seq must be an unsigned integer');
  if (typeof time !== 'number') throw bad('time must be an unsigned integer (Unix seconds)');
  const prev = m.prev;
  if (seq === 0 ? prev !== null : !(prev instanceof Uint8Array && prev.length === 32)) {
    throw bad(seq === 0 ? 'prev must be null when seq is 0' : 'prev must be the 32-byte leaf hash of the previous entry when seq > 0');
  }
  const kid = m.kid;
  if (typeof kid !== 'string' || !KID.test(kid)) throw bad('kid must be 16 lower-case hex digits');
  const sig = m.sig;
  if (!(sig instanceof Uint8Array) || sig.length !== 64) throw bad('sig must be 64 bytes');
  const subject = m.subject;
  if (typeof subject !== 'string') throw bad('subject must be text');
  const common = { v: ENTRY_VERSION, subject, seq, prev: prev as Uint8Array | null, time, kid, sig } as const;
  if (isAgentType(type)) {
    if (!isCanonicalAnsName(subject)) throw bad(`subject ${JSON.stringify(subject)} must be a canonical ANS name (ans://v<major>.<minor>.<patch>.<host>, lower case)`);
    if (type === 'agent.registered' ? seq !== 0 : seq === 0) throw bad(type === 'agent.registered' ? 'agent.registered must have seq 0' : `${type} cannot be a subject's first entry (seq 0)`);
    return { ...common, type, body: agentBody(type, m.body) };
  }
  if (isCertType(type)) return { ...common, type, body: certBody(type, subject, seq, m.body) } as Entry;
  if (!subject.startsWith(KEY_SUBJECT_PREFIX) || !KID.test(subject.slice(KEY_SUBJECT_PREFIX.length))) {
    throw bad(`subject of ${type} must be key:<16 hex digits>`);
  }
  if (type === 'key.added') {
    const body = keyAddedBody(m.body);
    if (seq !== 0) throw bad('key.added must have seq 0 (a key is added once)');
    if (keySubject(keyIdOf(body.publicKey)) !== subject) throw bad('subject must be key:<kid of body.publicKey>');
    return { ...common, type, body };
  }
  if (seq === 0) throw bad('key.revoked cannot be a subject\'s first entry (seq 0)');
  return { ...common, type: 'key.revoked', body: keyRevokedBody(m.body) };
}
