// Request bodies of the registry API (JSON, already read and shape-checked
// against schemas.ts), checked and normalised into entry bodies. Errors are
// REGISTRY_BAD_REQUEST naming the member; the entry encoder checks the
// result again against the entry schema.

import { TilelogError } from '../../errors.js';
import { fromBase64Strict, fromHex } from '../../merkle/encoding.js';
import { ENDPOINT_PROTOCOLS, MAX_CAPABILITIES, MAX_ENDPOINTS, REVOCATION_REASONS, normalizeCapabilities, type AgentBody, type Endpoint, type RevocationReason, type ValidationMethod } from '../entries/schema.js';
import { parseAlias, parseAnsName, type AnsName } from '../names.js';

const badRequest = (m: string) => new TilelogError('REGISTRY_BAD_REQUEST', `request: ${m}`);

function only(o: Record<string, unknown>, allowed: string[]): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw badRequest(`unknown member ${JSON.stringify(k)}; allowed: ${allowed.join(', ')}`);
}

export function publicKeyOf(v: unknown, where = 'publicKey'): Uint8Array {
  if (typeof v !== 'string') throw badRequest(`${where} must be the agent's 32-byte Ed25519 public key in base64`);
  try {
    return fromBase64Strict(v, 32);
  } catch {
    throw badRequest(`${where} must be the agent's 32-byte Ed25519 public key in base64`);
  }
}

function urlOf(v: unknown, where: string): string {
  if (typeof v !== 'string') throw badRequest(`${where} must be an http(s) URL`);
  try {
    const u = new URL(v);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('scheme');
    return u.href;
  } catch {
    throw badRequest(`${where} must be an http(s) URL`);
  }
}

function endpointOf(v: unknown, i: number): Endpoint {
  const where = `endpoints[${i}]`;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw badRequest(`${where} must be an object`);
  const o = v as Record<string, unknown>;
  only(o, ['protocol', 'url', 'metadataUrl', 'metadataSha256']);
  if (typeof o.protocol !== 'string' || !(ENDPOINT_PROTOCOLS as readonly string[]).includes(o.protocol)) {
    throw badRequest(`${where}.protocol must be one of ${ENDPOINT_PROTOCOLS.join(', ')}`);
  }
  const e: Endpoint = { protocol: o.protocol as Endpoint['protocol'], url: urlOf(o.url, `${where}.url`) };
  if ((o.metadataUrl === undefined) !== (o.metadataSha256 === undefined)) throw badRequest(`${where} needs both metadataUrl and metadataSha256, or neither`);
  if (o.metadataUrl !== undefined) {
    e.metadataUrl = urlOf(o.metadataUrl, `${where}.metadataUrl`);
    try {
      e.metadataSha256 = fromHex(String(o.metadataSha256), 32);
    } catch {
      throw badRequest(`${where}.metadataSha256 must be 64 lower-case hex digits`);
    }
  }
  return e;
}

function capabilitiesOf(caps: unknown): string[] {
  if (!Array.isArray(caps) || caps.some((c) => typeof c !== 'string') || caps.length > MAX_CAPABILITIES) {
    throw badRequest(`capabilities must be an array of at most ${MAX_CAPABILITIES} strings`);
  }
  return normalizeCapabilities(caps as string[]);
}

function endpointsOf(v: unknown): Endpoint[] {
  if (!Array.isArray(v) || v.length < 1 || v.length > MAX_ENDPOINTS) {
    throw badRequest(`endpoints must be an array of 1..${MAX_ENDPOINTS} {protocol, url}`);
  }
  return v.map(endpointOf);
}

export interface RegisterRequest {
  ans: AnsName;
  body: AgentBody;
}

/** POST /v1/agents: {name, alias?, capabilities?, endpoints, publicKey}. */
export function parseRegister(o: Record<string, unknown>, owner: string, validation: ValidationMethod): RegisterRequest {
  only(o, ['name', 'alias', 'capabilities', 'endpoints', 'publicKey']);
  if (typeof o.name !== 'string') throw badRequest('name must be an ANS name like ans://v1.0.0.order-bot.example.com');
  const ans = parseAnsName(o.name);
  const body: AgentBody = {
    owner,
    capabilities: capabilitiesOf(o.capabilities ?? []),
    endpoints: endpointsOf(o.endpoints),
    publicKey: publicKeyOf(o.publicKey),
    validation,
  };
  if (o.alias !== undefined) {
    if (typeof o.alias !== 'string') throw badRequest('alias must be a string like order-bot.acme');
    body.alias = parseAlias(o.alias);
  }
  return { ans, body };
}

/** POST /v1/agents/{name}/rotate: {publicKey}. */
export function parseRotate(o: Record<string, unknown>): Uint8Array {
  only(o, ['publicKey']);
  return publicKeyOf(o.publicKey);
}

/** POST /v1/agents/{name}/revoke: {reason?} (RFC 5280 name; default unspecified). */
export function parseRevoke(o: Record<string, unknown>): RevocationReason {
  only(o, ['reason']);
  const r = o.reason ?? 'unspecified';
  if (typeof r !== 'string' || !(REVOCATION_REASONS as readonly string[]).includes(r)) {
    throw badRequest(`reason must be one of ${REVOCATION_REASONS.join(', ')} (RFC 5280 CRLReason)`);
  }
  return r as RevocationReason;
}

export interface UpdateRequest {
  capabilities?: string[];
  endpoints?: Endpoint[];
}

/** PATCH /v1/agents/{name} (or POST .../update): {capabilities?, endpoints?}, at least one; each replaces the current list. */
export function parseUpdate(o: Record<string, unknown>): UpdateRequest {
  only(o, ['capabilities', 'endpoints']);
  if (o.capabilities === undefined && o.endpoints === undefined) throw badRequest('an update needs capabilities, endpoints or both');
  const out: UpdateRequest = {};
  if (o.capabilities !== undefined) out.capabilities = capabilitiesOf(o.capabilities);
  if (o.endpoints !== undefined) out.endpoints = endpointsOf(o.endpoints);
  return out;
}

/** POST /v1/agents/{name}/deprecate: {reason?} (printable ASCII, 1..256). */
export function parseDeprecate(o: Record<string, unknown>): string | undefined {
  only(o, ['reason']);
  if (o.reason === undefined) return undefined;
  if (typeof o.reason !== 'string' || !/^[\x20-\x7e]{1,256}$/.test(o.reason)) throw badRequest('reason must be printable ASCII of 1..256 characters');
  return o.reason;
}
