// Token buckets for registry writes: each key (an API key's hash, a client
// address) refills at ratePerMinute up to burst tokens; a write takes one.
// An empty bucket answers with the seconds until the next token (429's
// Retry-After). Buckets that have refilled completely are forgotten, so the
// map holds only recently active keys (at most maxKeys; beyond that the
// least recently used are dropped, in O(1): lru-map.ts).

import { LruMap } from '../../lru-map.js';

export interface RateLimitOptions {
  /** Sustained writes per minute per key. Default 60. */
  ratePerMinute?: number;
  /** Writes allowed at once. Default 20. */
  burst?: number;
  /** Most buckets kept. Default 100000. */
  maxKeys?: number;
  /** Clock in milliseconds (tests inject one). Default Date.now. */
  nowMs?: () => number;
}

interface Bucket {
  tokens: number;
  atMs: number;
}

export class RateLimiter {
  readonly #perMs: number;
  readonly #burst: number;
  readonly #maxKeys: number;
  readonly #now: () => number;
  readonly #buckets = new LruMap<string, Bucket>();

  constructor(o: RateLimitOptions = {}) {
    const rate = o.ratePerMinute ?? 60;
    this.#burst = o.burst ?? 20;
    if (!(rate > 0) || !(this.#burst >= 1)) throw new RangeError('rate limit: ratePerMinute must be > 0 and burst >= 1');
    this.#perMs = rate / 60_000;
    this.#maxKeys = o.maxKeys ?? 100_000;
    this.#now = o.nowMs ?? Date.now;
  }

  /** Takes one token for key: 0 when allowed, else the whole seconds to wait. */
  take(key: string): number {
    const now = this.#now();
    const b = this.#buckets.get(key);
    let tokens = b === undefined ? this.#burst : Math.min(this.#burst, b.tokens + (now - b.atMs) * this.#perMs);
    if (tokens < 1) {
      this.#buckets.set(key, { tokens, atMs: now });
      return Math.max(1, Math.ceil((1 - tokens) / this.#perMs / 1000));
    }
    tokens -= 1;
    this.#buckets.set(key, { tokens, atMs: now });
    if (this.#buckets.size > this.#maxKeys) this.#buckets.shift();
    return 0;
  }
}
