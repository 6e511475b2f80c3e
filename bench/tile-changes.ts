// The public objects that must be written when a published tree grows, from
// the tlog-tiles layout alone (not from the engine's own plan), so a bench
// can compare the writes a store saw with the least any writer could do.

import { ENTRIES_LEVEL, TILE_WIDTH, hashesAtLevel, tilePath } from '../src/merkle/layout.js';

// levelPaths(L, count, from): the paths of level L's tiles with index >= from
// in a tree holding `count` hashes (entries for ENTRIES_LEVEL) at that level:
// full tiles [from, floor(count/256)) and the partial `.p/(count mod 256)`.
function levelPaths(level: number, count: number, from: number): string[] {
  const out: string[] = [];
  const full = Math.floor(count / TILE_WIDTH);
  for (let n = from; n < full; n++) out.push(tilePath({ level, index: n, width: TILE_WIDTH }));
  const w = count % TILE_WIDTH;
  if (w > 0 && full >= from) out.push(tilePath({ level, index: full, width: w }));
  return out;
}

// changedObjects(prev, size): the number of public objects whose path exists
// at `size` but not at `prev` (0 <= prev < size): per level (hash tiles 0..,
// and bundles), the tiles completed in between and the new partial, plus one
// `checkpoint`. Tiles with index < floor(hashes(prev)/256) are full and
// identical at both sizes, so only indexes from there on are compared.
// Cost: O((size - prev)/256 + levels).
export function changedObjects(prev: number, size: number): number {
  if (!(Number.isSafeInteger(prev) && Number.isSafeInteger(size) && 0 <= prev && prev < size)) {
    throw new RangeError(`tile-changes: need 0 <= prev < size, got ${prev}, ${size}`);
  }
  let changed = 1; // the checkpoint
  const levels = [ENTRIES_LEVEL];
  for (let level = 0; hashesAtLevel(level, size) > 0; level++) levels.push(level);
  for (const level of levels) {
    const before = level === ENTRIES_LEVEL ? prev : hashesAtLevel(level, prev);
    const after = level === ENTRIES_LEVEL ? size : hashesAtLevel(level, size);
    const from = Math.floor(before / TILE_WIDTH);
    const old = new Set(levelPaths(level, before, from));
    for (const p of levelPaths(level, after, from)) if (!old.has(p)) changed++;
  }
  return changed;
}

/** Sum of changedObjects over consecutive published sizes (sizes[0] is where the run started). */
export function changedAlong(sizes: readonly number[]): number {
  let total = 0;
  for (let i = 1; i < sizes.length; i++) total += changedObjects(sizes[i - 1]!, sizes[i]!);
  return total;
}
