// A bounded map whose entries expire: each value lives ttlMs from its set()
// on the injected clock; at most maxEntries are kept, the least recently
// set or read going first. Expired entries are dropped when read.

export interface TtlCacheOptions {
  /** Most entries kept (>= 1). */
  maxEntries: number;
  /** Clock in milliseconds. Default Date.now. */
  nowMs?: () => number;
}

export class TtlCache<V> {
  readonly #max: number;
  readonly #now: () => number;
  readonly #map = new Map<string, { value: V; expiresAtMs: number }>();

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
    const e = this.#map.get(key);
    if (e === undefined) return undefined;
    const remainingMs = e.expiresAtMs - this.#now();
    this.#map.delete(key);
    if (remainingMs <= 0) return undefined;
    this.#map.set(key, e); // Map order is recency order
    return { value: e.value, remainingMs };
  }

  /** Keeps value for ttlMs (nothing when ttlMs <= 0). */
  set(key: string, value: V, ttlMs: number): void {
    this.#map.delete(key);
    if (!(ttlMs > 0)) return;
    this.#map.set(key, { value, expiresAtMs: this.#now() + ttlMs });
    while (this.#map.size > this.#max) this.#map.delete(this.#map.keys().next().value!);
  }
}
