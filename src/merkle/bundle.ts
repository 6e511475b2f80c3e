// C2SP tlog-tiles entry bundles: repeated `uint16be length || entry bytes`,
// 256 entries when full, W (1..255) when partial, no trailing bytes.

import { TilelogError } from '../errors.js';
import { MAX_ENTRY_SIZE, TILE_WIDTH } from './layout.js';

function badBundle(why: string): TilelogError {
  return new TilelogError('MERKLE_BAD_BUNDLE', `bundle: ${why}`);
}

// encodeBundle(entries) = concat(u16be(|e|) || e) over entries.
// Requires 1 <= |entries| <= 256 and every |e| <= 65535 (RangeError otherwise);
// zero-length entries are encodable. Output is sum(2 + |e|) bytes.
export function encodeBundle(entries: readonly Uint8Array[]): Uint8Array {
  if (entries.length < 1 || entries.length > TILE_WIDTH) {
    throw new RangeError(`bundle: ${entries.length} entries, want 1..${TILE_WIDTH}`);
  }
  let total = 0;
  for (const e of entries) {
    if (e.length > MAX_ENTRY_SIZE) throw new RangeError(`bundle: entry of ${e.length} bytes exceeds ${MAX_ENTRY_SIZE}`);
    total += 2 + e.length;
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (const e of entries) {
    out[o] = e.length >>> 8;
    out[o + 1] = e.length & 0xff;
    out.set(e, o + 2);
    o += 2 + e.length;
  }
  return out;
}

// decodeBundle(data, expectedCount?) -> entries, as views into data (copy them
// if data will be reused). Throws MERKLE_BAD_BUNDLE when a length prefix or
// entry is truncated, the bundle is empty or holds more than 256 entries, or
// the count differs from expectedCount (1..256) when given.
export function decodeBundle(data: Uint8Array, expectedCount?: number): Uint8Array[] {
  if (expectedCount !== undefined && (!Number.isInteger(expectedCount) || expectedCount < 1 || expectedCount > TILE_WIDTH)) {
    throw new RangeError(`bundle: expectedCount ${expectedCount} not in 1..${TILE_WIDTH}`);
  }
  const max = expectedCount ?? TILE_WIDTH;
  const entries: Uint8Array[] = [];
  let o = 0;
  while (o < data.length) {
    if (entries.length === max) throw badBundle(`more than ${max} entries or trailing bytes`);
    if (o + 2 > data.length) throw badBundle('truncated length prefix');
    const n = data[o]! * 256 + data[o + 1]!;
    if (o + 2 + n > data.length) throw badBundle('truncated entry');
    entries.push(data.subarray(o + 2, o + 2 + n));
    o += 2 + n;
  }
  if (entries.length === 0) throw badBundle('empty bundle');
  if (expectedCount !== undefined && entries.length !== expectedCount) {
    throw badBundle(`${entries.length} entries, want ${expectedCount}`);
  }
  return entries;
}
