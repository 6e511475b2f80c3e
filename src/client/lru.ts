// A bounded least-recently-used map (Map keeps insertion order: a hit moves
// the key to the end, eviction takes the first key).

export class Lru<K, V> {
  readonly #max: number;
  readonly #map = new Map<K, V>();
  constructor(maxEntries: number) {
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 0) throw new RangeError(`lru: maxEntries ${maxEntries} must be a whole number >= 0`);
    this.#max = maxEntries;
  }
  get size(): number {
    return this.#map.size;
  }
  get(key: K): V | undefined {
    const v = this.#map.get(key);
    if (v !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, v);
    }
    return v;
  }
  set(key: K, value: V): void {
    if (this.#max === 0) return;
    this.#map.delete(key);
    this.#map.set(key, value);
    while (this.#map.size > this.#max) this.#map.delete(this.#map.keys().next().value as K);
  }
}
