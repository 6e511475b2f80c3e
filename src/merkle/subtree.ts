// The perfect-tree hash of a run of hashes held back to back in a byte
// array (a tile, or a tile summary): the one subtree hasher the tile readers
// and tile summaries share.

import type { Hash, Hasher } from './hash.js';
import { defaultHasher, HASH_SIZE, nodeInto } from './hash.js';

// hashFromTile(data, offset, count) = perfect-tree hash of tile hashes
// [offset, offset + count), count a power of two in [1, 256]: count − 1 node
// hashes, pairwise level by level. The caller checks data is long enough.
// Each level is computed in place in one copy of the span: the children of
// node i are adjacent at [64i, 64i + 64), and its hash overwrites
// [32i, 32i + 32), which belongs to a pair already hashed. No view, array or
// digest object per node (Hasher.adjacentInto): a proof's ~250 node hashes
// were most of its garbage (about 700 bytes each before).
export function hashFromTile(data: Uint8Array, offset: number, count: number, hasher: Hasher = defaultHasher): Hash {
  if (offset < 0 || count < 1 || (offset + count) * HASH_SIZE > data.length || (count & (count - 1)) !== 0) {
    throw new Error(`merkle: bad math: hashFromTile(${offset}, ${count}) on ${data.length} bytes`);
  }
  const work = new Uint8Array(count * HASH_SIZE); // a Uint8Array even when data is a Buffer
  work.set(data.subarray(offset * HASH_SIZE, (offset + count) * HASH_SIZE));
  for (let n = count; n > 1; n >>>= 1) {
    for (let i = 0; i < n >>> 1; i++) nodeInto(hasher, work, 2 * i * HASH_SIZE, work, i * HASH_SIZE);
  }
  return count === 1 ? work : work.slice(0, HASH_SIZE); // never a view of the copy: a memo may keep it
}
