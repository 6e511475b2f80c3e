// A Map in least-recently-used order with O(1) touch and O(1) eviction of
// the oldest entry, for every bounded cache: the engine's (log/tile-cache.ts,
// log/hash-memo.ts), the registry's (ttl-cache.ts, http/rate-limit.ts) and
// the client SDK's (client/lru.ts). Pure: no I/O, browser-safe.
//
// Why not a plain insertion-ordered Map re-inserted on each hit: V8 marks a
// deleted Map entry as a hole and compacts only when the table is rehashed,
// so after many deletions of the oldest entries `keys().next()` walks every
// hole left at the front first. Measured on a full 32,768-entry memo, that
// made each eviction cost ~20 µs and took half of a proof's CPU. Here the
// order lives in a doubly linked list of entries, and the Map only finds them.

interface Entry<K, V> {
  readonly key: K;
  value: V;
  /** Toward the least recently used end (null at the oldest). */
  older: Entry<K, V> | null;
  /** Toward the most recently used end (null at the newest). */
  newer: Entry<K, V> | null;
}

export class LruMap<K, V> {
  readonly #map = new Map<K, Entry<K, V>>();
  #oldest: Entry<K, V> | null = null;
  #newest: Entry<K, V> | null = null;

  get size(): number {
    return this.#map.size;
  }

  has(key: K): boolean {
    return this.#map.has(key);
  }

  /** The value for key, which becomes the most recently used; undefined if absent. */
  get(key: K): V | undefined {
    const e = this.#map.get(key);
    if (e === undefined) return undefined;
    this.#unlink(e);
    this.#pushNewest(e);
    return e.value;
  }

  /** Sets key (the most recently used now), replacing any value it had. */
  set(key: K, value: V): void {
    const e = this.#map.get(key);
    if (e !== undefined) {
      e.value = value;
      this.#unlink(e);
      this.#pushNewest(e);
      return;
    }
    const added: Entry<K, V> = { key, value, older: null, newer: null };
    this.#map.set(key, added);
    this.#pushNewest(added);
  }

  /** Removes key; true if it was there. */
  delete(key: K): boolean {
    const e = this.#map.get(key);
    if (e === undefined) return false;
    this.#unlink(e);
    this.#map.delete(key);
    return true;
  }

  /** Removes and returns the least recently used entry, or undefined when empty. */
  shift(): [K, V] | undefined {
    const e = this.#oldest;
    if (e === null) return undefined;
    this.#unlink(e);
    this.#map.delete(e.key);
    return [e.key, e.value];
  }

  #pushNewest(e: Entry<K, V>): void {
    e.older = this.#newest;
    e.newer = null;
    if (this.#newest !== null) this.#newest.newer = e;
    this.#newest = e;
    if (this.#oldest === null) this.#oldest = e;
  }

  #unlink(e: Entry<K, V>): void {
    if (e.older !== null) e.older.newer = e.newer;
    else this.#oldest = e.newer;
    if (e.newer !== null) e.newer.older = e.older;
    else this.#newest = e.older;
    e.older = null;
    e.newer = null;
  }
}
