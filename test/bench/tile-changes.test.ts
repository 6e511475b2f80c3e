// bench/tile-changes.ts against the definition itself: the paths of every
// tile and bundle of a tree of `size` (tilesForSize) that a tree of `prev`
// does not have, plus the checkpoint.
import { describe, expect, it } from 'vitest';
import { changedAlong, changedObjects } from '../../bench/tile-changes.js';
import { tilePath, tilesForSize } from '../../src/merkle/layout.js';

function bySetDifference(prev: number, size: number): number {
  const old = new Set(tilesForSize(prev).map(tilePath));
  return 1 + tilesForSize(size).filter((t) => !old.has(tilePath(t))).length;
}

describe('changedObjects', () => {
  it('matches the set difference of all paths for every step up to 600 and across level boundaries', () => {
    for (let size = 1; size <= 600; size++) {
      for (const prev of [0, size - 1, Math.floor(size / 2), Math.max(0, size - 256), Math.max(0, size - 257)]) {
        expect(changedObjects(prev, size), `${prev} -> ${size}`).toBe(bySetDifference(prev, size));
      }
    }
    for (const [prev, size] of [[65535, 65536], [65536, 65537], [16384, 32768], [65000, 70000], [0, 65536 * 2 + 3]] as const) {
      expect(changedObjects(prev, size), `${prev} -> ${size}`).toBe(bySetDifference(prev, size));
    }
  });

  it('counts the objects of small steps by hand', () => {
    expect(changedObjects(0, 1)).toBe(3); // entries/000.p/1, 0/000.p/1, checkpoint
    expect(changedObjects(255, 256)).toBe(4); // entries/000, 0/000, 1/000.p/1, checkpoint
    expect(changedAlong([0, 1, 2])).toBe(6);
    expect(() => changedObjects(5, 5)).toThrow(RangeError);
  });
});
