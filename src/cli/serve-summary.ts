// The startup summary of `tilelog serve`: where the log is, and which roles
// are on (witness cosigning and its policy, the registry and its URL prefix,
// the CA and its chain URL), so a reader knows what this server does without
// re-reading the flags. Text for people; one JSON line with --json.

import { formatPolicy, type WitnessPolicy } from '../note/index.js';
import { plural } from './common.js';
import type { RegistryConfig } from './registry-config.js';
import type { ServeWitnessConfig } from './serve-config.js';

/** Where the registry's routes live (src/registry/http). */
export const REGISTRY_PREFIX = '/v1/agents';
/** The CA's certificate chain (src/ca/schemas.ts chainRoute). */
export const CA_CHAIN_PATH = '/v1/ca/chain';

export interface SummaryFacts {
  url: string;
  origin: string;
  verifierKey: string;
  treeSize: number;
  /** The newest size the log signed (ahead of treeSize while cosignatures are pending). */
  signedSize: number;
  stateDir: string;
  tilesDir: string;
  /** Where readers should fetch checkpoint and tile/ (--public-url, the bucket, or this server). */
  publicUrl: string;
  witnesses: ServeWitnessConfig | null;
  registry: { config: RegistryConfig; submitterKey: string; apiKeys: number } | null;
  /** With --db: the database (user@host:port/db, never the password) and whether this process leads now. */
  database?: { target: string; leading: boolean; epoch: number | null; role?: 'candidate' | 'frontend' };
}

/**
 * The policy's quorum as "K of N" (N the members of the quorum group), with
 * nested groups described the same way; "none" when no cosignature is needed.
 */
export function describeQuorum(policy: WitnessPolicy): string {
  if (policy.quorum === 'none') return 'none (no cosignature required)';
  const groups = new Map(policy.groups.map((g) => [g.name, g]));
  // Groups name only earlier definitions (policy.ts), so this terminates.
  const describe = (name: string, top: boolean): string => {
    const g = groups.get(name);
    if (g === undefined) return top ? `1 of 1 (${name})` : name;
    return `${g.threshold} of ${g.members.length}${top ? '' : ` (${g.name})`}: ${g.members.map((m) => (groups.has(m) ? `[${describe(m, false)}]` : m)).join(', ')}`;
  };
  return describe(policy.quorum, true);
}

// The base clients reach the registry and CA at: --registry-public-url, else the listen URL.
function publicBase(f: SummaryFacts): string {
  return f.registry?.config.publicUrl ?? f.url;
}

/** The roles, for --json: null when a role is off. */
export function summaryRoles(f: SummaryFacts) {
  const w = f.witnesses;
  const r = f.registry;
  return {
    witnesses: w === null ? null : { count: w.policy.witnesses.length, quorum: describeQuorum(w.policy), source: w.source, failOpen: w.failOpen },
    registry: r === null ? null : { prefix: REGISTRY_PREFIX, url: `${publicBase(f)}${REGISTRY_PREFIX}` },
    ca: r?.config.ca == null ? null : { chainUrl: `${publicBase(f)}${CA_CHAIN_PATH}` },
  };
}

export function summaryJson(f: SummaryFacts): Record<string, unknown> {
  return {
    url: f.url,
    origin: f.origin,
    verifierKey: f.verifierKey,
    treeSize: f.treeSize,
    state: f.stateDir,
    tiles: f.tilesDir,
    publicUrl: f.publicUrl,
    ...(f.database !== undefined && { database: f.database.target, leading: f.database.leading }),
    ...(f.witnesses !== null && { witnessPolicy: formatPolicy(f.witnesses.policy) }),
    ...(f.registry !== null && { registryKey: f.registry.submitterKey, registryApiKeys: f.registry.apiKeys }),
    roles: summaryRoles(f),
  };
}

function signerLine(d: NonNullable<SummaryFacts['database']>): string {
  if (d.role === 'frontend') return 'never this process (a frontend: sequences adds and serves reads, holds no key)';
  return d.leading ? `this process leads (epoch ${d.epoch})` : 'another process leads; this one is a candidate (sequences adds, serves reads)';
}

export function summaryText(f: SummaryFacts): string {
  const lines = [
    `tilelog serving ${f.origin} at ${f.url}`,
    `  verifier key: ${f.verifierKey}`,
    `  tree size:    ${f.treeSize}`,
    `  state:        ${f.stateDir}`,
    `  tiles:        ${f.tilesDir}`,
    ...(f.database === undefined
      ? []
      : [
          `  database:     PostgreSQL ${f.database.target}`,
          `  signer:       ${signerLine(f.database)}`,
        ]),
    `  public URL:   ${f.publicUrl}${f.publicUrl === f.url ? '' : ' (readers fetch checkpoint and tile/ there)'}`,
  ];
  const w = f.witnesses;
  if (w === null) {
    lines.push('  witnesses:    off (checkpoints are published as the log signs them; --witness to add some)');
  } else {
    lines.push(
      `  witnesses:    ${w.policy.witnesses.length}, policy ${describeQuorum(w.policy)}, from ${w.source}, ` +
        `${w.failOpen ? 'fail-open' : 'fail-closed'}, refresh every ${w.refreshMs / 1000} s`,
      ...formatPolicy(w.policy).trimEnd().split('\n').map((l) => `    ${l}`),
      `  published size ${f.treeSize}, log-signed size ${f.signedSize}`,
    );
  }
  const r = f.registry;
  if (r === null) {
    lines.push('  registry:     off (--registry to run the agent name registry)');
    lines.push('  CA:           off (--registry --registry-ca to issue agent certificates)');
  } else {
    const c = r.config;
    lines.push(
      `  registry:     ${publicBase(f)}${REGISTRY_PREFIX}, submitter key ${r.submitterKey}, ${plural(r.apiKeys, 'API key')}, ` +
        `domain validation ${c.dnsValidation ? 'on' : 'OFF'}, resolve ${c.resolveDns ? 'DNS-first' : 'from the log'}`,
      `  badge URL:    ${publicBase(f)}${c.publicUrl === undefined ? ' (the listen address; set --registry-public-url to the URL clients use)' : ''}`,
      c.ca == null
        ? '  CA:           off (--registry-ca to issue agent certificates)'
        : `  CA:           on, chain at ${publicBase(f)}${CA_CHAIN_PATH}`,
    );
  }
  lines.push(`Try: curl -s --data-binary 'hello' ${f.url}/add ; curl -s ${f.url}/checkpoint`);
  return `${lines.join('\n')}\n`;
}
