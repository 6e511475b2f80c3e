// A bounded map whose entries expire: each value lives ttlMs from its set()
// on the injected clock; at most maxEntries are kept, the least recently
// set or read going first. Expired entries are dropped when read.

import { LruMap } from '../lru-map.js';

export interface TtlCacheOptions {
  /** Most entries kept (>= 1). */
  maxEntries: number;
  /** Clock in milliseconds. Default Date.now. */
  nowMs?: () => number;
}

export class TtlCache<V> {
  readonly #max: number;
  readonly #now: () => number;
  readonly #map = new LruMap<string, { value: V; expiresAtMs: number }>();

  constructor(o: TtlCacheOptions) {
    if (!Number.isSafeInteger(o.maxEntries) || o.maxEntries < 1) throw new RangeError('cache: maxEntries must be an integer >= 1');
    this.#max = o.maxEntries;
    this.#now = o.nowMs ?? Date.now;
  }

  get size(): number {
    return this.#map.size;
  }

  /** The live value and its remaining lifetime, or undefined. */
  get(key: string): { value: V; remainingMs: number } | undefined {
    const e = this.#map.get(key); // now the most recently used
    if (e === undefined) return undefined;
    const remainingMs = e.expiresAtMs - this.#now();
    if (remainingMs <= 0) {
      this.#map.delete(key);
      return undefined;
    }
    return { value: e.value, remainingMs };
  }

  /** Keeps value for ttlMs (nothing when ttlMs <= 0). */
  set(key: string, value: V, ttlMs: number): void {
    if (!(ttlMs > 0)) {
      this.#map.delete(key);
      return;
    }
    this.#map.set(key, { value, expiresAtMs: this.#now() + ttlMs });
    while (this.#map.size > this.#max) this.#map.shift();
  }
}
