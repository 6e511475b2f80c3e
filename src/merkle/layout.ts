// C2SP tlog-tiles layout (PROTOCOLS.md §4): tile paths, widths, and which
// tiles exist. Pure; the one place the layout is defined.
//
// A hash tile (L, N) holds hashes [N·256, N·256 + W) of Merkle level 8L, that is
// hash i is MTH(D[(N·256+i)·256^L : (N·256+i+1)·256^L]); it spans entries
// [N·256^(L+1), (N+1)·256^(L+1)). Entry bundles (level ENTRIES_LEVEL) mirror
// level 0. W = 256 is a full tile (no suffix); 1 <= W <= 255 is `.p/W`.
// Sizes are safe integers (<= 2^53-1), so only levels 0..6 ever hold hashes,
// and 256^L is an exact float for every level used.

import { TilelogError } from '../errors.js';
import { assertSafeIndex, lowBits, shiftRight } from './math.js';
import { splitStoredHashIndex } from './stored.js';

/** Merkle levels per tile row. */
export const TILE_HEIGHT = 8;
/** Hashes (or entries) in a full tile. */
export const TILE_WIDTH = 256;
/** Largest entry a bundle can hold (uint16 length prefix). */
export const MAX_ENTRY_SIZE = 65535;
/** The `level` of entry bundles (`tile/entries/...`). */
export const ENTRIES_LEVEL = -1;
/** Highest tile level a path may name. */
export const MAX_TILE_LEVEL = 63;

/** A hash tile or entry bundle. */
export interface TileId {
  /** 0..63 for hash tiles, or ENTRIES_LEVEL (-1) for entry bundles. */
  level: number;
  /** Tile index N >= 0 within its level. */
  index: number;
  /** Hashes or entries present, 1..256; 256 = full. */
  width: number;
}

function badPath(path: string, why: string): TilelogError {
  return new TilelogError('LAYOUT_BAD_PATH', `layout: bad tile path ${JSON.stringify(path)}: ${why}`);
}

// Throws RangeError unless t is a valid TileId: level in [-1, 63], index a safe
// integer, width in [1, 256].
export function assertTileId(t: TileId): void {
  if (!Number.isInteger(t.level) || t.level < ENTRIES_LEVEL || t.level > MAX_TILE_LEVEL) {
    throw new RangeError(`layout: tile level ${t.level} not in [-1, 63]`);
  }
  assertSafeIndex('tile index', t.index);
  if (!Number.isInteger(t.width) || t.width < 1 || t.width > TILE_WIDTH) {
    throw new RangeError(`layout: tile width ${t.width} not in [1, 256]`);
  }
}

// levelSpan(L) = 256^L: leaves under one hash of tile level L (L >= 0; entries use 1).
function levelSpan(level: number): number {
  return 2 ** (TILE_HEIGHT * Math.max(level, 0));
}

// formatTileIndex(n): decimal n split into 3-digit groups, zero-padded, most
// significant first, every group but the last prefixed with 'x'.
// 0 -> "000", 1000 -> "x001/000", 1234067 -> "x001/x234/067".
export function formatTileIndex(n: number): string {
  assertSafeIndex('tile index', n);
  let digits = String(n);
  digits = digits.padStart(Math.ceil(digits.length / 3) * 3, '0');
  const groups: string[] = [];
  for (let i = 0; i < digits.length; i += 3) groups.push(digits.slice(i, i + 3));
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
}

// parseTileIndex(s): inverse of formatTileIndex; accepts only the canonical
// form (so "x000/001", "1", "0001" fail) of a safe integer. Throws LAYOUT_BAD_PATH.
export function parseTileIndex(s: string): number {
  if (typeof s !== 'string' || !/^(?:x[0-9]{3}\/)*[0-9]{3}$/.test(s)) {
    throw badPath(String(s), 'tile index is not 3-digit groups');
  }
  const n = Number(s.replace(/[x/]/g, ''));
  if (!Number.isSafeInteger(n)) throw badPath(s, 'tile index exceeds 2^53-1');
  if (formatTileIndex(n) !== s) throw badPath(s, 'tile index is not canonical');
  return n;
}

// tilePath(t) = "tile/<L>/<N>[.p/<W>]", L = "entries" for bundles; no leading slash.
export function tilePath(t: TileId): string {
  assertTileId(t);
  const level = t.level === ENTRIES_LEVEL ? 'entries' : String(t.level);
  const suffix = t.width === TILE_WIDTH ? '' : `.p/${t.width}`;
  return `tile/${level}/${formatTileIndex(t.index)}${suffix}`;
}

const PATH_RE = /^tile\/(entries|0|[1-9][0-9]?)\/((?:x[0-9]{3}\/)*[0-9]{3})(?:\.p\/([1-9][0-9]{0,2}))?$/;

// parseTilePath("tile/<L>/<N>[.p/<W>]") -> TileId. Accepts only canonical paths:
// L in 0..63 without leading zeros (or "entries"), N canonical and a safe
// integer whose first entry N·256^(L+1) is <= 2^53-1, W in 1..255. The result
// is re-formatted and compared, so nothing non-canonical slips through.
// Throws LAYOUT_BAD_PATH.
export function parseTilePath(path: string): TileId {
  if (typeof path !== 'string') throw new TypeError('layout: tile path must be a string');
  const m = PATH_RE.exec(path);
  if (m === null) throw badPath(path, 'not tile/<level>/<index>[.p/<width>]');
  const levelText = m[1]!;
  const level = levelText === 'entries' ? ENTRIES_LEVEL : Number(levelText);
  if (level > MAX_TILE_LEVEL) throw badPath(path, 'level above 63');
  const index = parseTileIndex(m[2]!);
  const width = m[3] === undefined ? TILE_WIDTH : Number(m[3]);
  if (m[3] !== undefined && width >= TILE_WIDTH) throw badPath(path, 'partial width not in 1..255');
  // The tile's first entry must be a safe integer.
  if (index !== 0 && index * TILE_WIDTH * levelSpan(level) > Number.MAX_SAFE_INTEGER) {
    throw badPath(path, 'tile starts beyond entry 2^53-1');
  }
  const t: TileId = { level, index, width };
  if (tilePath(t) !== path) throw badPath(path, 'not canonical');
  return t;
}

// hashesAtLevel(L, size) = floor(size / 256^L): hashes of tile level L that
// exist in a tree of `size` leaves (entries for ENTRIES_LEVEL).
export function hashesAtLevel(level: number, size: number): number {
  return shiftRight(size, TILE_HEIGHT * Math.max(level, 0));
}

// partialWidth(L, size) = floor(size / 256^L) mod 256: the width of the
// partial tile at level L for `size`, or 0 when that level has no partial tile.
export function partialWidth(level: number, size: number): number {
  assertSafeIndex('size', size);
  return lowBits(hashesAtLevel(level, size), TILE_HEIGHT);
}

// tileWidthAt(L, N, size) = min(256, floor(size/256^L) − 256·N), clamped at 0:
// the width tile (L, N) has in a tree of `size` leaves (0 = does not exist).
export function tileWidthAt(level: number, index: number, size: number): number {
  assertSafeIndex('size', size);
  assertSafeIndex('tile index', index);
  const w = hashesAtLevel(level, size) - index * TILE_WIDTH;
  return Math.max(0, Math.min(TILE_WIDTH, w));
}

// tilesAtLevel(L, lo, hi) pushes tiles of level L whose content differs between
// hash counts lo and hi (lo <= hi), with their widths at hi: indexes
// [floor(lo/256), ceil(hi/256)), the last one possibly partial.
function tilesAtLevel(out: TileId[], level: number, lo: number, hi: number): void {
  if (hi === lo) return;
  const first = Math.floor(lo / TILE_WIDTH);
  const end = Math.ceil(hi / TILE_WIDTH);
  for (let n = first; n < end; n++) {
    out.push({ level, index: n, width: Math.min(TILE_WIDTH, hi - n * TILE_WIDTH) });
  }
}

// newTiles(old, new): the hash tiles and entry bundles written when the tree
// grows from oldSize to newSize leaves (0 <= old <= new), with widths at
// newSize: at each level with floor(new/256^L) > floor(old/256^L), the tile
// that was partial at old (now wider) and every later tile. Hash tiles come
// level by level upward, then the bundles. About (new−old)/256 + 7 tiles.
export function newTiles(oldSize: number, newSize: number): TileId[] {
  assertSafeIndex('oldSize', oldSize);
  assertSafeIndex('newSize', newSize);
  if (oldSize > newSize) throw new TilelogError('MERKLE_RANGE', `layout: oldSize ${oldSize} > newSize ${newSize}`);
  const out: TileId[] = [];
  for (let level = 0; hashesAtLevel(level, newSize) > 0; level++) {
    tilesAtLevel(out, level, hashesAtLevel(level, oldSize), hashesAtLevel(level, newSize));
  }
  tilesAtLevel(out, ENTRIES_LEVEL, oldSize, newSize);
  return out;
}

// tilesForSize(size) = newTiles(0, size): every hash tile and entry bundle a
// tree of `size` leaves has. For each level L with floor(size/256^L) > 0: full
// tiles [0, floor(size/256^(L+1))) and, when floor(size/256^L) mod 256 > 0, one
// partial tile after them. The list has about size/255 elements.
export function tilesForSize(size: number): TileId[] {
  return newTiles(0, size);
}

// partialTiles(size): the partial hash tiles and the partial bundle of a tree
// of `size` leaves, its right edge: for each level L with w = partialWidth(L,
// size) > 0, tile (L, floor(size/256^(L+1)), w), and the bundle
// (ENTRIES_LEVEL, floor(size/256), size mod 256) when that is > 0. At most 8.
// A partial of size s is also one of size t > s exactly when the level's
// hash count is the same at both (then the paths are equal).
export function partialTiles(size: number): TileId[] {
  assertSafeIndex('size', size);
  const out: TileId[] = [];
  for (let level = 0; hashesAtLevel(level, size) > 0; level++) {
    const w = partialWidth(level, size);
    if (w > 0) out.push({ level, index: Math.floor(hashesAtLevel(level, size) / TILE_WIDTH), width: w });
  }
  const w = size % TILE_WIDTH;
  if (w > 0) out.push({ level: ENTRIES_LEVEL, index: Math.floor(size / TILE_WIDTH), width: w });
  return out;
}

/** Where a stored hash lives in the tiles: see tileForStoredHash. */
export interface StoredHashLocation {
  /** The tile; width = offset + count, the narrowest tile holding the hashes. */
  tile: TileId;
  /** First hash used, in [0, 256). */
  offset: number;
  /** Hashes combined: 2^r, in [1, 256]. */
  count: number;
}

// tileForStoredHash(i): for stored hash P(h, k) with h = 8L + r (0 <= r < 8),
// the 2^r level-8L hashes [k·2^r, (k+1)·2^r) all sit in tile (L, floor(k·2^r/256))
// at offsets [k·2^r mod 256, that + 2^r); P(h, k) is their perfect-tree hash.
export function tileForStoredHash(storedIndex: number): StoredHashLocation {
  const [h, k] = splitStoredHashIndex(storedIndex);
  const level = Math.floor(h / TILE_HEIGHT);
  const r = h % TILE_HEIGHT;
  const count = 2 ** r;
  const first = k * count; // exact: k·2^r <= last leaf index
  const offset = first % TILE_WIDTH;
  return { tile: { level, index: Math.floor(first / TILE_WIDTH), width: offset + count }, offset, count };
}

/** Compares tiles by level then index (entries, level -1, first). */
export function compareTileIds(a: TileId, b: TileId): number {
  return a.level - b.level || a.index - b.index || a.width - b.width;
}
