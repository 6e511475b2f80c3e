// The GET /v1/resolve/{name} answer (spec/REGISTRY.md §Resolve). The record
// and its proof bundle always come from the log; with DNS-first resolve on,
// the agent's `_ans` TXT records are read too (ans-lookup.ts, cached) and
// compared with the record:
//   source "dns"  DNS has ans1 records for this version and they equal the
//                 log's endpoints (none for an agent that is not active);
//   source "log"  DNS is off, failed, has nothing for this version, or
//                 disagrees: the log wins, and `dns.match: false` with the
//                 missing and unexpected endpoints reports the disagreement.
// The dns member is not signed and not part of what verifyResolution checks.

import { encodeBundleJson } from '../../client/bundle.js';
import type { AnsLookup, AnsLookupStatus } from '../ans-lookup.js';
import { ansVersionOf, compareAnsTxt, type EndpointRef } from '../ans-txt.js';
import { parseAnsName } from '../names.js';
import type { Registry } from '../registry.js';
import type { AgentState } from '../state-index.js';
import { toBase64 } from '../../merkle/encoding.js';
import { recordOf } from '../record.js';

export interface DnsView {
  name: string;
  status: AnsLookupStatus;
  cached: boolean;
  ttl: number;
  /** The ans1 endpoints DNS publishes for this version. */
  endpoints: EndpointRef[];
  /** true: DNS equals the log; false: it disagrees (see missing, unexpected); null: nothing to compare. */
  match: boolean | null;
  missing?: EndpointRef[];
  unexpected?: EndpointRef[];
  error?: string;
}

export async function resolveAnswer(registry: Registry, lookup: AnsLookup | null, a: AgentState) {
  const [bundle, dns] = await Promise.all([registry.bundle(a.headIndex), lookup === null ? null : dnsView(lookup, a)]);
  return {
    source: dns?.match === true ? 'dns' : 'log',
    record: agentJson(a),
    bundle: JSON.parse(encodeBundleJson(bundle)) as unknown,
    ...(dns !== null && { dns }),
  };
}

async function dnsView(lookup: AnsLookup, a: AgentState): Promise<DnsView> {
  const r = await lookup.lookup(parseAnsName(a.name).host);
  const expected = a.status === 'active' ? a.entry.body.endpoints : [];
  const cmp = compareAnsTxt(r.values, ansVersionOf(a.name), expected);
  const view: DnsView = { name: r.name, status: r.status, cached: r.cached, ttl: r.ttlSeconds, endpoints: cmp.endpoints, match: null };
  if (r.error !== undefined) view.error = r.error;
  // Records for this version are compared; no records (or none for this version) is "nothing published".
  if (cmp.endpoints.length > 0) {
    view.match = cmp.missing.length === 0 && cmp.unexpected.length === 0;
    if (!view.match) Object.assign(view, { missing: cmp.missing, unexpected: cmp.unexpected });
  }
  return view;
}

/** The API view of an agent: the record its head entry sets, plus where that entry is. */
export function agentJson(a: AgentState) {
  return {
    ...recordOf(a.entry),
    entryIndex: a.headIndex,
    leafHash: toBase64(a.leafHash),
    registeredIndex: a.createdIndex,
    registeredTime: a.createdTime,
  };
}
