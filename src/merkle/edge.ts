// TreeEdge: the right edge of a tiled RFC 6962 tree, the engine's hot path.
//
// For a tree of `size` leaves, tile level L (Merkle level 8L) has
// c_L = floor(size / 256^L) mod 256 hashes in its partial tile. The edge keeps,
// per level, that partial tile's hashes and the perfect subtrees they form
// (one per set bit of c_L, heights 0..7 within the tile), like a binary
// counter. Appending a hash at level L costs one node hash per carry, so a
// full tile costs 255 node hashes and a leaf about 1 + 1/255 node hashes
// (plus the caller's leaf hash). Completing a tile (c_L reaches 256) yields
// its root, which is appended at level L+1; the partial tile is never hashed
// upward. Memory: at most 8 levels × (256 + 8) hashes, whatever the size.

import { TilelogError } from '../errors.js';
import type { Hash, Hasher } from './hash.js';
import { EMPTY_ROOT, HASH_SIZE, defaultHasher } from './hash.js';
import type { TileId } from './layout.js';
import { TILE_HEIGHT, TILE_WIDTH, compareTileIds, hashesAtLevel, partialWidth } from './layout.js';
import { assertSafeIndex } from './math.js';

/** A hash tile to publish and its bytes (8192 when full, W·32 when partial). */
export interface TileWrite {
  tile: TileId;
  data: Uint8Array;
}

// Levels 0..7 cover any tree of up to 2^64 leaves; sizes stop at 2^53-1.
const MAX_LEVELS = 8;
const TILE_BYTES = TILE_WIDTH * HASH_SIZE;

// One tile level of the edge.
class EdgeLevel {
  /** Hashes of the partial tile, [0, count) used; allocated on first use. */
  buf: Uint8Array | null = null;
  /** Hashes in the partial tile, in [0, 256). */
  count = 0;
  /** Full tiles before the partial one: floor(hashes at this level / 256). */
  fullTiles = 0;
  /** slot h, for each set bit h of count: hash of the perfect subtree of height h. */
  readonly slots: Uint8Array = new Uint8Array(TILE_HEIGHT * HASH_SIZE);
  /** Views of slots, made once so appends do not allocate. */
  readonly slotViews: Uint8Array[] = [];

  constructor() {
    for (let h = 0; h < TILE_HEIGHT; h++) {
      this.slotViews.push(this.slots.subarray(h * HASH_SIZE, (h + 1) * HASH_SIZE));
    }
  }

  buffer(): Uint8Array {
    if (this.buf === null) this.buf = new Uint8Array(TILE_BYTES);
    return this.buf;
  }
}

export class TreeEdge {
  #size: number;
  readonly #levels: EdgeLevel[];
  // False after fromBytes until the slots are recomputed with a hasher.
  #slotsValid: boolean;
  #root: Hash | null = null;
  #rootHasher: Hasher | null = null;

  private constructor(size: number, slotsValid: boolean) {
    this.#size = size;
    this.#levels = [];
    for (let l = 0; l < MAX_LEVELS; l++) {
      const lv = new EdgeLevel();
      lv.fullTiles = Math.floor(hashesAtLevel(l, size) / TILE_WIDTH);
      lv.count = partialWidth(l, size);
      this.#levels.push(lv);
    }
    this.#slotsValid = slotsValid;
  }

  /** The edge of the empty tree. */
  static empty(): TreeEdge {
    return new TreeEdge(0, true);
  }

  // fromBytes(size, bytes): inverse of toBytes. bytes must be exactly
  // sum over L of partialWidth(L, size)·32 bytes; throws MERKLE_RANGE for a bad
  // size and MERKLE_BAD_HASH for a wrong length. The perfect-subtree slots are
  // rebuilt lazily (<= 254 node hashes per level) on the first append or root.
  static fromBytes(size: number, bytes: Uint8Array): TreeEdge {
    assertSafeIndex('size', size);
    const edge = new TreeEdge(size, false);
    let want = 0;
    for (const lv of edge.#levels) want += lv.count * HASH_SIZE;
    if (bytes.length !== want) {
      throw new TilelogError('MERKLE_BAD_HASH', `edge: ${bytes.length} bytes for size ${size}, want ${want}`);
    }
    let o = 0;
    for (const lv of edge.#levels) {
      if (lv.count === 0) continue;
      lv.buffer().set(bytes.subarray(o, o + lv.count * HASH_SIZE));
      o += lv.count * HASH_SIZE;
    }
    return edge;
  }

  /** Leaves in the tree. */
  get size(): number {
    return this.#size;
  }

  // toBytes(): the partial tiles' hashes, level 0 upward, c_L·32 bytes each;
  // at most 7·255·32 bytes. Determined by the tree alone.
  toBytes(): Uint8Array {
    let total = 0;
    for (const lv of this.#levels) total += lv.count * HASH_SIZE;
    const out = new Uint8Array(total);
    let o = 0;
    for (const lv of this.#levels) {
      if (lv.count === 0) continue;
      out.set(lv.buffer().subarray(0, lv.count * HASH_SIZE), o);
      o += lv.count * HASH_SIZE;
    }
    return out;
  }

  // partialTiles(): the partial tile (with its data) of every level whose
  // width c_L is non-zero, lowest level first.
  partialTiles(): TileWrite[] {
    const out: TileWrite[] = [];
    this.#levels.forEach((lv, level) => {
      if (lv.count > 0) out.push(this.#partialWrite(level));
    });
    return out;
  }

  #partialWrite(level: number): TileWrite {
    const lv = this.#levels[level]!;
    return {
      tile: { level, index: lv.fullTiles, width: lv.count },
      data: lv.buffer().slice(0, lv.count * HASH_SIZE),
    };
  }

  // append(leafHashes): adds the leaves [size, size + n). Returns each hash
  // tile that changed, once, with its final bytes: the tiles completed
  // (width 256) and the partial tile at the new size of every level whose hash
  // count changed; sorted by level then index. The leaf hashes are copied.
  // Throws MERKLE_BAD_HASH (nothing appended) for a hash that is not 32 bytes
  // and MERKLE_RANGE when size + n exceeds 2^53-1.
  append(leafHashes: readonly Hash[], hasher: Hasher = defaultHasher): TileWrite[] {
    for (const h of leafHashes) {
      if (!(h instanceof Uint8Array) || h.length !== HASH_SIZE) {
        throw new TilelogError('MERKLE_BAD_HASH', 'edge: leaf hashes must be 32 bytes');
      }
    }
    const oldSize = this.#size;
    const newSize = oldSize + leafHashes.length;
    if (!Number.isSafeInteger(newSize)) {
      throw new TilelogError('MERKLE_RANGE', `edge: size ${oldSize} + ${leafHashes.length} exceeds 2^53-1`);
    }
    if (leafHashes.length === 0) return [];
    this.#ensureSlots(hasher);
    const writes: TileWrite[] = [];
    for (const h of leafHashes) this.#push(0, h, hasher, writes);
    this.#size = newSize;
    this.#root = null;
    for (let level = 0; level < MAX_LEVELS; level++) {
      if (hashesAtLevel(level, newSize) === hashesAtLevel(level, oldSize)) break;
      if (this.#levels[level]!.count > 0) writes.push(this.#partialWrite(level));
    }
    return writes.sort((a, b) => compareTileIds(a.tile, b.tile));
  }

  // #push(L, h): appends hash h to level L's partial tile. Binary-counter
  // carry: for each trailing 1-bit t of c (c < 256, so 32-bit ops are safe),
  // h = node(slot t, h); then slot t' = h at the first 0-bit t', or, at t' = 8,
  // h is the root of the now-full tile, pushed to level L+1.
  #push(level: number, h: Hash, hasher: Hasher, writes: TileWrite[] | null): void {
    const lv = this.#levels[level];
    if (lv === undefined) throw new Error(`edge: bad math: level ${level} overflows`);
    const buf = lv.buffer();
    buf.set(h, lv.count * HASH_SIZE);
    let carry = h;
    let c = lv.count;
    let t = 0;
    while ((c & 1) === 1) {
      carry = hasher.node(lv.slotViews[t]!, carry);
      c >>>= 1;
      t++;
    }
    lv.count++;
    if (t < TILE_HEIGHT) {
      lv.slotViews[t]!.set(carry);
      return;
    }
    // The tile is full: hand its buffer out and start a new one.
    if (writes !== null) writes.push({ tile: { level, index: lv.fullTiles, width: TILE_WIDTH }, data: buf });
    lv.buf = null;
    lv.count = 0;
    lv.fullTiles++;
    this.#push(level + 1, carry, hasher, writes);
  }

  // Recomputes every level's slots from its partial tile (after fromBytes) by
  // replaying its c_L hashes through #push; c_L < 256, so no tile completes.
  #ensureSlots(hasher: Hasher): void {
    if (this.#slotsValid) return;
    this.#levels.forEach((lv, level) => {
      const c = lv.count;
      if (c === 0) return;
      const buf = lv.buffer();
      lv.count = 0;
      for (let i = 0; i < c; i++) this.#push(level, buf.slice(i * HASH_SIZE, (i + 1) * HASH_SIZE), hasher, null);
      if (lv.count !== c) throw new Error('edge: bad math in slot rebuild');
    });
    this.#slotsValid = true;
  }

  // root() = MTH(D[0:size]): the perfect subtrees of the binary expansion of
  // size are the slots of every level, highest level and height first; fold
  // them right to left: node(s0, node(s1, … node(s(m−1), sm))). At most 53
  // hashes, so at most 52 node hashes; cached until the next append.
  root(hasher: Hasher = defaultHasher): Hash {
    if (this.#size === 0) return new Uint8Array(EMPTY_ROOT);
    if (this.#root !== null && this.#rootHasher === hasher) return new Uint8Array(this.#root);
    this.#ensureSlots(hasher);
    const parts: Uint8Array[] = [];
    for (let level = MAX_LEVELS - 1; level >= 0; level--) {
      const lv = this.#levels[level]!;
      for (let t = TILE_HEIGHT - 1; t >= 0; t--) {
        if (((lv.count >>> t) & 1) === 1) parts.push(lv.slotViews[t]!);
      }
    }
    let r: Hash = new Uint8Array(parts[parts.length - 1]!);
    for (let i = parts.length - 2; i >= 0; i--) r = hasher.node(parts[i]!, r);
    this.#root = r;
    this.#rootHasher = hasher;
    return new Uint8Array(r);
  }
}
