// The `_ans` TXT record format (spec/REGISTRY.md §DNS records), written by
// GET /v1/agents/{name}/dns and read back by DNS-first resolve. Browser-safe
// (no node: imports): a verifier may compare DNS answers itself.
//
//   _ans.<agentHost>.  TXT  "v=ans1; version=v<major>.<minor>.<patch>; p=<protocol>; url=<url>"
//
// One record per endpoint. protocol is the endpoint protocol in lower case
// (a2a, mcp, http-api); url comes last and runs to the end of the value, so
// a URL may contain ';'. A record with another `v=` or a missing member is
// not ours and is ignored (other software may publish TXT at the same name).

import type { EndpointProtocol } from './entries/schema.js';
import { ENDPOINT_PROTOCOLS } from './entries/schema.js';

export const ANS_LABEL = '_ans';
export const ANS_TXT_VERSION = 'ans1';

export interface AnsTxt {
  /** `v<major>.<minor>.<patch>` */
  version: string;
  protocol: EndpointProtocol;
  url: string;
}

/** The DNS owner name of an agent host's `_ans` records. */
export function ansTxtName(host: string): string {
  return `${ANS_LABEL}.${host}`;
}

/** `v1.2.3` from `ans://v1.2.3.host` (a canonical ANS name). */
export function ansVersionOf(name: string): string {
  return name.slice('ans://'.length).split('.').slice(0, 3).join('.');
}

export function formatAnsTxt(t: AnsTxt): string {
  return `v=${ANS_TXT_VERSION}; version=${t.version}; p=${t.protocol.toLowerCase()}; url=${t.url}`;
}

/** Parses one TXT value (its strings already joined); null when it is not an ans1 record. */
export function parseAnsTxt(value: string): AnsTxt | null {
  const fields = new Map<string, string>();
  let rest = value;
  while (rest.length > 0) {
    const semi = rest.indexOf(';');
    const part = (semi < 0 ? rest : rest.slice(0, semi)).trim();
    const eq = part.indexOf('=');
    if (eq <= 0) return null;
    const key = part.slice(0, eq).toLowerCase();
    if (key === 'url') {
      // url runs to the end of the value.
      fields.set('url', rest.trim().slice(eq + 1).trim());
      break;
    }
    if (fields.has(key)) return null;
    fields.set(key, part.slice(eq + 1).trim());
    rest = semi < 0 ? '' : rest.slice(semi + 1);
  }
  if (fields.get('v') !== ANS_TXT_VERSION) return null;
  const version = fields.get('version');
  const p = fields.get('p')?.toUpperCase();
  const url = fields.get('url');
  if (version === undefined || !/^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$/.test(version)) return null;
  if (p === undefined || !(ENDPOINT_PROTOCOLS as readonly string[]).includes(p)) return null;
  if (url === undefined || url === '') return null;
  return { version, protocol: p as EndpointProtocol, url };
}

export interface EndpointRef {
  protocol: string;
  url: string;
}

export interface AnsTxtComparison {
  /** The ans1 records for this version, as published. */
  endpoints: EndpointRef[];
  /** In the log, not in DNS. */
  missing: EndpointRef[];
  /** In DNS, not in the log (for an agent that is not active: every record). */
  unexpected: EndpointRef[];
}

/**
 * Compares TXT values at `_ans.<host>` with what the log says for one agent:
 * `expected` is its endpoints when active and [] otherwise (nothing should be
 * published). Records for other versions of the host, or not ans1, are
 * ignored. Endpoints compare by (protocol, url).
 */
export function compareAnsTxt(values: readonly string[], version: string, expected: readonly EndpointRef[]): AnsTxtComparison {
  const key = (e: EndpointRef) => `${e.protocol} ${e.url}`;
  const endpoints: EndpointRef[] = [];
  const seen = new Set<string>();
  for (const v of values) {
    const t = parseAnsTxt(v);
    if (t === null || t.version !== version) continue;
    const e = { protocol: t.protocol, url: t.url };
    if (seen.has(key(e))) continue;
    seen.add(key(e));
    endpoints.push(e);
  }
  const want = new Set(expected.map(key));
  return {
    endpoints,
    missing: expected.filter((e) => !seen.has(key(e))).map((e) => ({ protocol: e.protocol, url: e.url })),
    unexpected: endpoints.filter((e) => !want.has(key(e))),
  };
}
