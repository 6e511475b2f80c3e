// Domain validation and the DNS records an operator publishes.
//
// Validation (a DNS TXT challenge, like ACME dns-01): before registering an
// agent under <host>, its owner publishes
//   _ans-challenge.<host>.  TXT  "<token>"
// where token = base64url(HMAC-SHA256(secret, "tilelog ans-challenge v1\n" ||
// owner || "\n" || host)), the secret living in the registry's state dir.
// The token is stateless (recomputed on demand), bound to the owner and the
// host, and stable, so the record can stay in the zone. DnsValidator asks a
// real resolver (node:dns Resolver; servers configurable) and maps answers:
//   token present                  ok
//   other TXT strings only         REGISTRY_DNS_FAILED   (wrong token)
//   NOERROR without TXT (NODATA)   REGISTRY_DNS_FAILED   (missing record)
//   NXDOMAIN                       REGISTRY_DNS_FAILED   (no such name)
//   timeout, SERVFAIL, refused     REGISTRY_DNS_UNAVAILABLE (retry later)
//
// Records (dnsRecords): for an active agent, one `_ans.<host>` TXT per
// endpoint (format: ans-txt.ts; DNS-first resolve reads them back through
// ans-lookup.ts) and one `_ans-badge.<host>` TXT pointing at the registry's proof
// URL for the agent; JSON and zone-file text. TLSA: for each observed
// server certificate (cert.observed, POST /v1/agents/{name}/certificates/observed)
// with a DNS SAN matching the host and valid now, one `_<port>._tcp.<host>`
// TLSA 3 1 1 (DANE-EE, SubjectPublicKeyInfo, SHA-256) per port: the ports of
// the agent's https/wss endpoints on that host, or 443 when none names one.

import { createHmac } from 'node:crypto';
import { Resolver } from 'node:dns/promises';
import { TilelogError } from '../errors.js';
import { ansTxtName, ansVersionOf, formatAnsTxt } from './ans-txt.js';
import type { AgentState } from './state-index.js';

export const CHALLENGE_LABEL = '_ans-challenge';
export const DEFAULT_DNS_TIMEOUT_MS = 2000;
export const RECORD_TTL_SECONDS = 3600;

/** The challenge token for (owner, host): 43 base64url characters. */
export function challengeToken(secret: Uint8Array, owner: string, host: string): string {
  return createHmac('sha256', secret).update(`tilelog ans-challenge v1\n${owner}\n${host}`).digest('base64url');
}

export function challengeName(host: string): string {
  return `${CHALLENGE_LABEL}.${host}`;
}

export interface DnsValidatorOptions {
  /** Resolver addresses such as ["127.0.0.1:5353"]; default: the system's. */
  servers?: string[];
  /** Per-query timeout. Default 2000. */
  timeoutMs?: number;
  /** Attempts per server. Default 2. */
  tries?: number;
}

export class DnsValidator {
  readonly #resolver: Resolver;

  constructor(o: DnsValidatorOptions = {}) {
    this.#resolver = new Resolver({ timeout: o.timeoutMs ?? DEFAULT_DNS_TIMEOUT_MS, tries: o.tries ?? 2 });
    if (o.servers !== undefined && o.servers.length > 0) this.#resolver.setServers(o.servers);
  }

  /** Resolves when _ans-challenge.<host> has a TXT record equal to token; throws REGISTRY_DNS_* otherwise. */
  async validate(host: string, token: string): Promise<void> {
    const name = challengeName(host);
    let records: string[][];
    try {
      records = await this.#resolver.resolveTxt(name);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOTFOUND') throw failed(`${name} does not exist (NXDOMAIN); publish TXT "${token}" there`);
      if (code === 'ENODATA') throw failed(`${name} has no TXT record; publish TXT "${token}" there`);
      throw new TilelogError('REGISTRY_DNS_UNAVAILABLE', `registry: DNS lookup of ${name} failed (${code ?? 'error'}); retry later`, { cause: err });
    }
    // A TXT record may be split into several strings; they form one value.
    const values = records.map((chunks) => chunks.join(''));
    if (!values.includes(token)) {
      throw failed(`${name} has TXT ${values.map((v) => JSON.stringify(v)).join(', ')} but not the challenge token for this owner and host`);
    }
  }
}

function failed(m: string): TilelogError {
  return new TilelogError('REGISTRY_DNS_FAILED', `registry: domain validation failed: ${m}`);
}

export interface DnsRecord {
  name: string;
  type: 'TXT' | 'TLSA';
  ttl: number;
  value: string;
}

/** The TXT records to publish for an agent; none unless it is active. */
/** What TLSA needs of an observed certificate (a cert.observed body). */
export interface ObservedServerCert {
  spkiSha256: Uint8Array;
  dnsNames: string[];
  notBefore: number;
  notAfter: number;
}

/** True when a certificate DNS SAN (lower case; may be a left-most wildcard) covers host. */
export function sanMatchesHost(san: string, host: string): boolean {
  if (san === host) return true;
  if (!san.startsWith('*.')) return false;
  const dot = host.indexOf('.');
  return dot > 0 && host.slice(dot + 1) === san.slice(2);
}

/** The TCP ports for TLSA: those of the agent's https/wss endpoints on host, else 443. */
export function tlsaPorts(agent: AgentState, host: string): number[] {
  const ports = new Set<number>();
  for (const e of agent.entry.body.endpoints) {
    let u: URL;
    try {
      u = new URL(e.url);
    } catch {
      continue;
    }
    if ((u.protocol !== 'https:' && u.protocol !== 'wss:') || u.hostname.toLowerCase() !== host) continue;
    ports.add(u.port === '' ? 443 : Number(u.port));
  }
  return ports.size === 0 ? [443] : [...ports].sort((a, b) => a - b);
}

export function dnsRecords(agent: AgentState, host: string, resolveUrl: string, observed: ObservedServerCert[] = [], nowSeconds = Math.floor(Date.now() / 1000)): DnsRecord[] {
  if (agent.status !== 'active') return [];
  const version = ansVersionOf(agent.name);
  const out: DnsRecord[] = agent.entry.body.endpoints.map((e) => ({
    name: ansTxtName(host),
    type: 'TXT',
    ttl: RECORD_TTL_SECONDS,
    value: formatAnsTxt({ version, protocol: e.protocol, url: e.url }),
  }));
  out.push({ name: `_ans-badge.${host}`, type: 'TXT', ttl: RECORD_TTL_SECONDS, value: `v=ans-badge1; url=${resolveUrl}` });
  // TLSA 3 1 1: one per distinct SPKI among the observed certificates for host that are valid now.
  const spkis = new Set<string>();
  for (const c of observed) {
    if (c.notBefore > nowSeconds || nowSeconds >= c.notAfter || !c.dnsNames.some((n) => sanMatchesHost(n, host))) continue;
    spkis.add(Buffer.from(c.spkiSha256).toString('hex'));
  }
  for (const port of tlsaPorts(agent, host)) {
    for (const h of [...spkis].sort()) out.push({ name: `_${port}._tcp.${host}`, type: 'TLSA', ttl: RECORD_TTL_SECONDS, value: `3 1 1 ${h}` });
  }
  return out;
}

/** Zone-file lines (RFC 1035 master format) for records. */
export function zoneSnippet(records: DnsRecord[]): string {
  return records.map((r) => `${r.name}.\t${r.ttl}\tIN\t${r.type}\t${r.type === 'TXT' ? txtString(r.value) : r.value}\n`).join('');
}

// One or more <character-string>s of at most 255 octets, quoted and escaped.
function txtString(v: string): string {
  const parts: string[] = [];
  for (let i = 0; i < v.length || i === 0; i += 255) parts.push(v.slice(i, i + 255));
  return parts.map((p) => `"${p.replace(/["\\]/g, (c) => `\\${c}`)}"`).join(' ');
}
