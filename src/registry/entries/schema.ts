// Body schemas of the registry entry types (spec/ENTRIES.md §Bodies). Each
// check takes the decoded CBOR map and returns the typed body, or throws
// REGISTRY_BAD_ENTRY naming the member and the rule. Maps must have exactly
// the listed members: an unknown member is an error, so a body has one
// meaning. Hand-written rather than zod: the shapes are small, the rules
// (sorted arrays, canonical URLs, byte lengths) are specific, and entries
// stay free of runtime dependencies for browser verifiers.

import { TilelogError } from '../../errors.js';
import { parseAlias } from '../names.js';
import type { CborMap, CborValue } from './cbor.js';
import { compareBytes } from './cbor.js';

export const ENDPOINT_PROTOCOLS = ['A2A', 'MCP', 'HTTP-API'] as const;
export type EndpointProtocol = (typeof ENDPOINT_PROTOCOLS)[number];

/** RFC 5280 §5.3.1 CRLReason names accepted for revocations (certificateHold and removeFromCRL are not: revocation is final). */
export const REVOCATION_REASONS = [
  'unspecified',
  'keyCompromise',
  'cACompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'privilegeWithdrawn',
  'aACompromise',
] as const;
export type RevocationReason = (typeof REVOCATION_REASONS)[number];

export const VALIDATION_METHODS = ['dns-txt', 'none'] as const;
export type ValidationMethod = (typeof VALIDATION_METHODS)[number];

export const MAX_ENDPOINTS = 16;
export const MAX_CAPABILITIES = 32;
export const MAX_URL_OCTETS = 2048;
export const MAX_REASON_TEXT = 256;

export interface Endpoint {
  protocol: EndpointProtocol;
  /** Canonical http(s) URL (as WHATWG URL href). */
  url: string;
  /** Agent card (A2A) or server.json (MCP) URL, with its SHA-256; both or neither. */
  metadataUrl?: string;
  metadataSha256?: Uint8Array;
}

/** The full agent record after the entry: every agent entry carries it, so the head alone proves the current record. */
export interface AgentBody {
  owner: string;
  alias?: string;
  capabilities: string[];
  endpoints: Endpoint[];
  /** The agent's Ed25519 public key (32 bytes). */
  publicKey: Uint8Array;
  validation: ValidationMethod;
  /** agent.deprecated: optional free text; agent.revoked: required RFC 5280 reason name. */
  reason?: string;
}

export interface KeyAddedBody {
  publicKey: Uint8Array;
  label: string;
}

export interface KeyRevokedBody {
  reason: RevocationReason;
}

const OWNER = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const CAPABILITY = /^[a-z0-9][a-z0-9._:/-]{0,63}$/;
const LABEL_TEXT = /^[\x20-\x7e]{1,64}$/;

export function bad(message: string): TilelogError {
  return new TilelogError('REGISTRY_BAD_ENTRY', `entry: ${message}`);
}

export function isMap(v: CborValue | undefined): v is CborMap {
  return typeof v === 'object' && v !== null && !(v instanceof Uint8Array) && !Array.isArray(v);
}

/** Refuses members outside required ∪ optional and missing required ones. */
export function exactMembers(where: string, m: CborMap, required: readonly string[], optional: readonly string[] = []): void {
  for (const k of Object.keys(m)) {
    if (!required.includes(k) && !optional.includes(k)) throw bad(`${where} has an unknown member ${JSON.stringify(k)}`);
  }
  for (const k of required) if (!Object.hasOwn(m, k)) throw bad(`${where} is missing ${JSON.stringify(k)}`);
}

export function text(where: string, v: CborValue | undefined, re: RegExp, rule: string): string {
  if (typeof v !== 'string' || !re.test(v)) throw bad(`${where} must be ${rule}`);
  return v;
}

export function bytes(where: string, v: CborValue | undefined, length: number): Uint8Array {
  if (!(v instanceof Uint8Array) || v.length !== length) throw bad(`${where} must be ${length} bytes`);
  return v;
}

function oneOf<T extends string>(where: string, v: CborValue | undefined, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw bad(`${where} must be one of ${allowed.join(', ')}`);
  }
  return v as T;
}

function url(where: string, v: CborValue | undefined): string {
  if (typeof v !== 'string' || v.length > MAX_URL_OCTETS) throw bad(`${where} must be a URL of at most ${MAX_URL_OCTETS} octets`);
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw bad(`${where} is not a URL`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw bad(`${where} must be http or https`);
  if (u.href !== v) throw bad(`${where} must be in canonical form ${JSON.stringify(u.href)}`);
  if (u.username !== '' || u.password !== '') throw bad(`${where} must not carry credentials`);
  return v;
}

function endpoint(where: string, v: CborValue | undefined): Endpoint {
  if (!isMap(v)) throw bad(`${where} must be a map`);
  exactMembers(where, v, ['protocol', 'url'], ['metadataUrl', 'metadataSha256']);
  const e: Endpoint = { protocol: oneOf(`${where}.protocol`, v.protocol, ENDPOINT_PROTOCOLS), url: url(`${where}.url`, v.url) };
  if (Object.hasOwn(v, 'metadataUrl') !== Object.hasOwn(v, 'metadataSha256')) {
    throw bad(`${where} must have both metadataUrl and metadataSha256, or neither`);
  }
  if (Object.hasOwn(v, 'metadataUrl')) {
    e.metadataUrl = url(`${where}.metadataUrl`, v.metadataUrl);
    e.metadataSha256 = bytes(`${where}.metadataSha256`, v.metadataSha256, 32);
  }
  return e;
}

function capabilities(v: CborValue | undefined): string[] {
  if (!Array.isArray(v) || v.length > MAX_CAPABILITIES) throw bad(`body.capabilities must be an array of at most ${MAX_CAPABILITIES}`);
  const out = v.map((c, i) => text(`body.capabilities[${i}]`, c, CAPABILITY, 'a capability like "orders.read" (a-z, 0-9, ._:/-, 1..64)'));
  for (let i = 1; i < out.length; i++) {
    if (out[i - 1]! >= out[i]!) throw bad('body.capabilities must be sorted ascending without duplicates');
  }
  return out;
}

/** The AgentBody rules; `reason` is checked against the type by checkAgentBody. */
export function agentBody(type: string, v: CborValue | undefined): AgentBody {
  if (!isMap(v)) throw bad('body must be a map');
  exactMembers('body', v, ['owner', 'capabilities', 'endpoints', 'publicKey', 'validation'], ['alias', 'reason']);
  const eps = v.endpoints;
  if (!Array.isArray(eps) || eps.length < 1 || eps.length > MAX_ENDPOINTS) throw bad(`body.endpoints must be an array of 1..${MAX_ENDPOINTS}`);
  const body: AgentBody = {
    owner: text('body.owner', v.owner, OWNER, 'an owner id (a-z, 0-9, ._-, 1..64, starting with a letter or digit)'),
    capabilities: capabilities(v.capabilities),
    endpoints: eps.map((e, i) => endpoint(`body.endpoints[${i}]`, e)),
    publicKey: bytes('body.publicKey', v.publicKey, 32),
    validation: oneOf('body.validation', v.validation, VALIDATION_METHODS),
  };
  if (Object.hasOwn(v, 'alias')) {
    const a = v.alias;
    if (typeof a !== 'string') throw bad('body.alias must be text');
    let canonical: string;
    try {
      canonical = parseAlias(a);
    } catch (err) {
      throw bad(`body.alias: ${(err as Error).message}`);
    }
    if (canonical !== a) throw bad('body.alias must be lower case');
    body.alias = a;
  }
  if (type === 'agent.revoked') {
    body.reason = oneOf('body.reason', v.reason, REVOCATION_REASONS);
  } else if (type === 'agent.deprecated') {
    if (Object.hasOwn(v, 'reason')) body.reason = text('body.reason', v.reason, /^[\x20-\x7e]{1,256}$/, `printable ASCII of 1..${MAX_REASON_TEXT}`);
  } else if (Object.hasOwn(v, 'reason')) {
    throw bad(`body.reason is only for agent.deprecated and agent.revoked, not ${type}`);
  }
  return body;
}

export function keyAddedBody(v: CborValue | undefined): KeyAddedBody {
  if (!isMap(v)) throw bad('body must be a map');
  exactMembers('body', v, ['publicKey', 'label']);
  return { publicKey: bytes('body.publicKey', v.publicKey, 32), label: text('body.label', v.label, LABEL_TEXT, 'printable ASCII of 1..64') };
}

export function keyRevokedBody(v: CborValue | undefined): KeyRevokedBody {
  if (!isMap(v)) throw bad('body must be a map');
  exactMembers('body', v, ['reason']);
  return { reason: oneOf('body.reason', v.reason, REVOCATION_REASONS) };
}

/** AgentBody as a CBOR map (optional members only when present). */
export function agentBodyToCbor(b: AgentBody): CborMap {
  const m: CborMap = {
    owner: b.owner,
    capabilities: [...b.capabilities],
    endpoints: b.endpoints.map((e) => {
      const em: CborMap = { protocol: e.protocol, url: e.url };
      if (e.metadataUrl !== undefined) em.metadataUrl = e.metadataUrl;
      if (e.metadataSha256 !== undefined) em.metadataSha256 = e.metadataSha256;
      return em;
    }),
    publicKey: b.publicKey,
    validation: b.validation,
  };
  if (b.alias !== undefined) m.alias = b.alias;
  if (b.reason !== undefined) m.reason = b.reason;
  return m;
}

/** Sorts and dedups capabilities the way bodies require (bytewise on ASCII = code unit order). */
export function normalizeCapabilities(caps: readonly string[]): string[] {
  return [...new Set(caps)].sort((a, b) => compareBytes(new TextEncoder().encode(a), new TextEncoder().encode(b)));
}
