// The registry's serve settings (--registry...): flags, usage and their
// resolution, apart from registry.ts so that serve loads the registry's and
// the CA's code only when --registry is on.

import { DEFAULT_RESOLVE_CACHE_ENTRIES, DEFAULT_RESOLVE_NEGATIVE_TTL_SECONDS } from '../registry/ans-lookup.js';
import { CA_FLAGS, CA_USAGE, resolveCaConfig, type CaConfig } from './ca-config.js';
import { parseBaseUrl, parseCount, UsageError } from './common.js';
import { isPkcs11Uri } from './signing-key.js';

export const REGISTRY_FLAGS = {
  registry: { type: 'boolean' },
  'registry-dns': { type: 'string' },
  'registry-dns-validation': { type: 'boolean' },
  'registry-dns-timeout-ms': { type: 'string' },
  'registry-public-url': { type: 'string' },
  'registry-key': { type: 'string' },
  'registry-next-key': { type: 'string' },
  'registry-rate-per-minute': { type: 'string' },
  'registry-burst': { type: 'string' },
  'registry-resolve-dns': { type: 'boolean' },
  'registry-resolve-cache-entries': { type: 'string' },
  'registry-resolve-negative-ttl-seconds': { type: 'string' },
  ...CA_FLAGS,
} as const;

export const REGISTRY_USAGE = `Agent name registry (spec/REGISTRY.md): the agents API under /v1.
  --registry                  serve the registry                 [$TILELOG_REGISTRY=1]
  --registry-dns <ip:port,..> resolvers for domain validation    [$TILELOG_REGISTRY_DNS, the system's]
  --no-registry-dns-validation  register without the _ans-challenge TXT check
                              (local development only)           [$TILELOG_REGISTRY_DNS_VALIDATION=0]
  --registry-dns-timeout-ms   per DNS query                      [$TILELOG_REGISTRY_DNS_TIMEOUT_MS, 2000]
  --registry-public-url <url> this registry's URL as clients reach it, used in
                              the _ans-badge records it publishes (never taken from
                              a request's Host header)         [$TILELOG_REGISTRY_PUBLIC_URL,
                              http://<listen address>; required when listening on
                              all interfaces (--listen :port)]
  --registry-key <pkcs11:URI> the registry's submitter key in a PKCS#11 token (RFC 7512,
                              PIN in a file) for a new registry: an existing one keeps
                              the key it started with   [$TILELOG_REGISTRY_KEY, <state>/registry.key]
  --registry-next-key <pkcs11:URI>  rotate the submitter key to this one at start
                              (key.added signed by the current key, then key.revoked
                              of the current key signed by this one); afterwards give
                              it as --registry-key.  A file key rotates with
                              'tilelog registry rotate-key'          [$TILELOG_REGISTRY_NEXT_KEY]
  --registry-rate-per-minute  writes per API key and per address [$TILELOG_REGISTRY_RATE_PER_MINUTE, 60]
  --registry-burst <n>        writes allowed at once             [$TILELOG_REGISTRY_BURST, 20]
  --registry-resolve-dns      DNS-first resolve: read each agent's _ans TXT records
                              (through --registry-dns), report mismatches; the log wins
                                                             [$TILELOG_REGISTRY_RESOLVE_DNS=1]
  --registry-resolve-cache-entries <n>  hosts kept           [$TILELOG_REGISTRY_RESOLVE_CACHE_ENTRIES, 10000]
  --registry-resolve-negative-ttl-seconds <s>  cap on (and default for) NXDOMAIN/NODATA caching
                                                             [$TILELOG_REGISTRY_RESOLVE_NEGATIVE_TTL_SECONDS, 30]
  API keys: 'tilelog registry apikey --state <dir> --owner <owner>'. The server
  reloads <state>/registry-api-keys when it changes and on SIGHUP (no restart);
  a file that does not parse keeps the keys loaded before, and logs why.
  Rebuild the index: 'tilelog registry reindex --state <dir>' (server stopped).
  With --db (several processes on one log): give every process the same
  registry.key and registry.secret (and CA keys), copied into each --state;
  a --role frontend process needs them too (it signs registry entries, not checkpoints).
${CA_USAGE}`;

export interface RegistryConfig {
  dnsServers: string[] | undefined;
  dnsValidation: boolean;
  dnsTimeoutMs: number;
  publicUrl: string | undefined;
  ratePerMinute: number;
  burst: number;
  /** DNS-first resolve (null: resolve from the log only). */
  resolveDns: { cacheEntries: number; negativeTtlSeconds: number } | null;
  /** The private CA (cli/ca.ts); null: none. */
  ca?: CaConfig | null;
  /** A pkcs11: URI naming the submitter key in a token; undefined: <state>/registry.key. */
  keyUri?: string;
  /** A pkcs11: URI of the key to rotate to at start; undefined: <state>/registry.key.next if it exists. */
  nextKeyUri?: string;
}

type Values = Record<string, string | boolean | string[] | undefined>;

/** null unless --registry (or TILELOG_REGISTRY=1). */
export function resolveRegistryConfig(values: Values, env: NodeJS.ProcessEnv = process.env): RegistryConfig | null {
  const flag = (k: string, e: string): [string, string] | undefined => {
    const v = values[k];
    if (typeof v === 'string') return [`--${k}`, v];
    const x = env[e];
    return x !== undefined && x !== '' ? [e, x] : undefined;
  };
  const bool = (k: string, e: string): boolean | undefined => {
    const v = values[k];
    if (typeof v === 'boolean') return v;
    const x = env[e];
    if (x === undefined || x === '') return undefined;
    if (/^(1|true|yes|on)$/i.test(x)) return true;
    if (/^(0|false|no|off)$/i.test(x)) return false;
    throw new UsageError(`${e} must be true or false, got ${JSON.stringify(x)}`);
  };
  if (bool('registry', 'TILELOG_REGISTRY') !== true) return null;
  const count = (k: string, e: string, dflt: number) => {
    const v = flag(k, e);
    return v === undefined ? dflt : parseCount(v[0], v[1], 1);
  };
  const dns = flag('registry-dns', 'TILELOG_REGISTRY_DNS');
  const servers = dns?.[1].split(',').map((s) => s.trim()).filter((s) => s !== '');
  const url = flag('registry-public-url', 'TILELOG_REGISTRY_PUBLIC_URL');
  const key = flag('registry-key', 'TILELOG_REGISTRY_KEY');
  if (key !== undefined && !isPkcs11Uri(key[1])) throw new UsageError(`${key[0]} must be a pkcs11: URI (the file key is always <state>/registry.key)`);
  const next = flag('registry-next-key', 'TILELOG_REGISTRY_NEXT_KEY');
  if (next !== undefined && !isPkcs11Uri(next[1])) {
    throw new UsageError(`${next[0]} must be a pkcs11: URI (a file key rotates with 'tilelog registry rotate-key', which writes <state>/registry.key.next)`);
  }
  return {
    ...(key !== undefined && { keyUri: key[1] }),
    ...(next !== undefined && { nextKeyUri: next[1] }),
    dnsServers: servers,
    ca: resolveCaConfig(values, env),
    dnsValidation: bool('registry-dns-validation', 'TILELOG_REGISTRY_DNS_VALIDATION') ?? true,
    dnsTimeoutMs: count('registry-dns-timeout-ms', 'TILELOG_REGISTRY_DNS_TIMEOUT_MS', 2000),
    publicUrl: url === undefined ? undefined : parseBaseUrl(url[0], url[1]),
    ratePerMinute: count('registry-rate-per-minute', 'TILELOG_REGISTRY_RATE_PER_MINUTE', 60),
    burst: count('registry-burst', 'TILELOG_REGISTRY_BURST', 20),
    resolveDns:
      bool('registry-resolve-dns', 'TILELOG_REGISTRY_RESOLVE_DNS') === true
        ? {
            cacheEntries: count('registry-resolve-cache-entries', 'TILELOG_REGISTRY_RESOLVE_CACHE_ENTRIES', DEFAULT_RESOLVE_CACHE_ENTRIES),
            negativeTtlSeconds: count('registry-resolve-negative-ttl-seconds', 'TILELOG_REGISTRY_RESOLVE_NEGATIVE_TTL_SECONDS', DEFAULT_RESOLVE_NEGATIVE_TTL_SECONDS),
          }
        : null,
  };
}
