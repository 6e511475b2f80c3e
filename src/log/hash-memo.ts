// A bounded memo of stored hashes (Go sumdb/tlog numbering) in front of the
// engine's tile hash reader, shared by all of a log's proofs.
//
// Why: a stored hash at height 8·L + k is not in any tile as such; the tile
// reader recomputes it from 2^k hashes of the level-L tile (hashFromTile), up
// to 255 node hashes. A tree hash needs one stored hash per set bit of the
// size, and an inclusion or consistency proof about as many: measured, a
// tree hash at the published size took ~1.4 ms of CPU and an inclusion proof
// ~2.5 ms, all of it recomputing the same high subtrees for every request.
// Why it is safe: a stored hash is the hash of a perfect subtree, which
// exists once complete and never changes (the tree is append-only), so an
// entry never goes stale, whatever the size a proof is for.
//
// Bounds: at most maxEntries hashes (32 bytes plus a map entry each, about
// 150 bytes), least recently used dropped first (src/lru-map.ts: O(1) per hit
// and per eviction). Hashes are copied on the way out, so a caller that
// mutates a proof cannot change the memo.

import type { Hash } from '../merkle/hash.js';
import type { HashReader } from '../merkle/tree.js';
import { LruMap } from '../lru-map.js';

/** Default bound: 32,768 hashes, about 3 MiB. */
export const DEFAULT_HASH_MEMO_ENTRIES = 32_768;

export class StoredHashMemo {
  readonly #max: number;
  readonly #map = new LruMap<number, Hash>();
  readonly counters = { hits: 0, misses: 0 };

  /** maxEntries: the bound on hashes kept; 0 disables the memo. */
  constructor(maxEntries = DEFAULT_HASH_MEMO_ENTRIES) {
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 0) {
      throw new RangeError(`hash memo: maxEntries must be an integer >= 0, got ${maxEntries}`);
    }
    this.#max = maxEntries;
  }

  /** Hashes held now (<= maxEntries). */
  get size(): number {
    return this.#map.size;
  }

  /**
   * A HashReader answering from the memo and asking inner, in one batch, for
   * the rest; a hash inner read is kept unless skip(index) says not to.
   */
  reader(inner: HashReader, skip?: (index: number) => boolean): HashReader {
    if (this.#max === 0) return inner;
    return {
      readHashes: async (indexes: readonly number[]): Promise<Hash[]> => {
        const out: (Hash | undefined)[] = new Array(indexes.length);
        const missing: number[] = [];
        for (let i = 0; i < indexes.length; i++) {
          const h = this.#get(indexes[i]!);
          if (h === undefined) missing.push(indexes[i]!);
          else out[i] = h.slice();
        }
        if (missing.length > 0) {
          const got = await inner.readHashes(missing);
          let j = 0;
          for (let i = 0; i < indexes.length; i++) {
            if (out[i] !== undefined) continue;
            const h = got[j++];
            if (h === undefined) throw new Error('merkle: bad math: the tile reader returned too few hashes');
            if (skip === undefined || !skip(indexes[i]!)) this.#set(indexes[i]!, h.slice());
            out[i] = h;
          }
        }
        return out as Hash[];
      },
    };
  }

  #get(x: number): Hash | undefined {
    const h = this.#map.get(x);
    if (h === undefined) {
      this.counters.misses++;
      return undefined;
    }
    this.counters.hits++;
    return h;
  }

  #set(x: number, h: Hash): void {
    if (this.#map.has(x)) return;
    this.#map.set(x, h);
    if (this.#map.size > this.#max) this.#map.shift();
  }
}
