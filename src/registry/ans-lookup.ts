// AnsLookup: the `_ans.<host>` TXT records behind DNS-first resolve, through
// the configured resolver (dns-wire.ts), with a TTL-aware cache:
//   - an answer with records is kept for the RRset's TTL, at most maxTtlSeconds;
//   - NXDOMAIN and NODATA are kept for the negative TTL of the SOA (RFC 2308),
//     at most negativeTtlSeconds (also the TTL when no SOA came with them);
//   - a failure (timeout, SERVFAIL, ...) is not kept: the next resolve asks again;
//   - at most maxEntries hosts, least recently used dropped first;
//   - concurrent lookups of one name share one query.
// The clock is injectable (tests move it instead of sleeping).

import { TilelogError } from '../errors.js';
import { ansTxtName } from './ans-txt.js';
import { queryTxt, type TxtAnswer, type TxtQueryOptions } from './dns-wire.js';
import { TtlCache } from './ttl-cache.js';

export const DEFAULT_RESOLVE_CACHE_ENTRIES = 10_000;
export const DEFAULT_RESOLVE_MAX_TTL_SECONDS = 3600;
export const DEFAULT_RESOLVE_NEGATIVE_TTL_SECONDS = 30;

export interface AnsLookupOptions extends TxtQueryOptions {
  /** Hosts kept in the cache. Default 10000. */
  maxEntries?: number;
  /** Upper bound on a positive TTL. Default 3600. */
  maxTtlSeconds?: number;
  /** Upper bound on (and default for) a negative TTL. Default 30. */
  negativeTtlSeconds?: number;
  /** Clock in milliseconds. Default Date.now. */
  nowMs?: () => number;
}

export type AnsLookupStatus = 'ok' | 'nxdomain' | 'nodata' | 'unavailable';

export interface AnsLookupResult {
  /** The DNS name asked: `_ans.<host>`. */
  name: string;
  status: AnsLookupStatus;
  /** TXT values (strings of one record joined); empty unless ok. */
  values: string[];
  /** True when answered from the cache. */
  cached: boolean;
  /** Seconds this answer stays cached (0 when it is not cached). */
  ttlSeconds: number;
  /** Why the lookup failed (status unavailable). */
  error?: string;
}

interface Kept {
  status: Exclude<AnsLookupStatus, 'unavailable'>;
  values: string[];
}

export class AnsLookup {
  readonly #query: TxtQueryOptions;
  readonly #cache: TtlCache<Kept>;
  readonly #maxTtl: number;
  readonly #negativeTtl: number;
  readonly #inflight = new Map<string, Promise<AnsLookupResult>>();

  constructor(o: AnsLookupOptions = {}) {
    this.#query = {
      ...(o.servers !== undefined && { servers: o.servers }),
      ...(o.timeoutMs !== undefined && { timeoutMs: o.timeoutMs }),
      ...(o.tries !== undefined && { tries: o.tries }),
    };
    this.#maxTtl = o.maxTtlSeconds ?? DEFAULT_RESOLVE_MAX_TTL_SECONDS;
    this.#negativeTtl = o.negativeTtlSeconds ?? DEFAULT_RESOLVE_NEGATIVE_TTL_SECONDS;
    if (!(this.#maxTtl >= 0) || !(this.#negativeTtl >= 0)) throw new RangeError('resolve: maxTtlSeconds and negativeTtlSeconds must be >= 0');
    this.#cache = new TtlCache({ maxEntries: o.maxEntries ?? DEFAULT_RESOLVE_CACHE_ENTRIES, ...(o.nowMs !== undefined && { nowMs: o.nowMs }) });
  }

  /** The `_ans` TXT records of host; never throws for DNS failures (status unavailable). */
  lookup(host: string): Promise<AnsLookupResult> {
    const name = ansTxtName(host);
    const hit = this.#cache.get(name);
    if (hit !== undefined) {
      return Promise.resolve({ name, ...hit.value, cached: true, ttlSeconds: Math.ceil(hit.remainingMs / 1000) });
    }
    let p = this.#inflight.get(name);
    if (p === undefined) {
      p = this.#ask(name).finally(() => this.#inflight.delete(name));
      this.#inflight.set(name, p);
    }
    return p;
  }

  async #ask(name: string): Promise<AnsLookupResult> {
    let a: TxtAnswer;
    try {
      a = await queryTxt(name, this.#query);
    } catch (err) {
      if (!(err instanceof TilelogError)) throw err;
      return { name, status: 'unavailable', values: [], cached: false, ttlSeconds: 0, error: err.message };
    }
    const kept: Kept = a.kind === 'records' ? { status: 'ok', values: a.values } : { status: a.kind, values: [] };
    const ttl = a.kind === 'records' ? Math.min(a.ttlSeconds, this.#maxTtl) : Math.min(a.ttlSeconds ?? this.#negativeTtl, this.#negativeTtl);
    this.#cache.set(name, kept, ttl * 1000);
    return { name, ...kept, cached: false, ttlSeconds: ttl };
  }
}
