// A bounded least-recently-used map for the client SDK: a hit makes the key
// the newest, a set beyond the bound drops the oldest, both O(1) (lru-map.ts).

import { LruMap } from '../lru-map.js';

export class Lru<K, V> {
  readonly #max: number;
  readonly #map = new LruMap<K, V>();
  constructor(maxEntries: number) {
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 0) throw new RangeError(`lru: maxEntries ${maxEntries} must be a whole number >= 0`);
    this.#max = maxEntries;
  }
  get size(): number {
    return this.#map.size;
  }
  get(key: K): V | undefined {
    return this.#map.get(key);
  }
  set(key: K, value: V): void {
    if (this.#max === 0) return;
    this.#map.set(key, value);
    while (this.#map.size > this.#max) this.#map.shift();
  }
}
