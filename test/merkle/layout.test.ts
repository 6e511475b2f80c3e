import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isTilelogError } from '../../src/errors.js';
import type { TileId } from '../../src/merkle/index.js';
import {
  ENTRIES_LEVEL,
  formatTileIndex,
  newTiles,
  parseTileIndex,
  parseTilePath,
  partialTiles,
  partialWidth,
  splitStoredHashIndex,
  storedHashIndex,
  tileForStoredHash,
  tilePath,
  tilesForSize,
  tileWidthAt,
} from '../../src/merkle/index.js';

function badPath(p: string): void {
  try {
    parseTilePath(p);
    expect.unreachable(`accepted ${JSON.stringify(p)}`);
  } catch (e) {
    expect(isTilelogError(e, 'LAYOUT_BAD_PATH'), `${p}: ${String(e)}`).toBe(true);
  }
}

describe('tile paths (PROTOCOLS.md §4, §9.8 in C2SP form)', () => {
  it('formats tile indexes', () => {
    const cases: [number, string][] = [
      [0, '000'], [5, '005'], [999, '999'], [1000, 'x001/000'], [256000, 'x256/000'],
      [1234067, 'x001/x234/067'], [123456789, 'x123/x456/789'], [3057500, 'x003/x057/500'],
      [Number.MAX_SAFE_INTEGER, 'x009/x007/x199/x254/x740/991'],
    ];
    for (const [n, s] of cases) {
      expect(formatTileIndex(n)).toBe(s);
      expect(parseTileIndex(s)).toBe(n);
    }
  });

  it('§9.8 vectors in C2SP form', () => {
    const cases: [string, TileId][] = [
      ['tile/0/001', { level: 0, index: 1, width: 256 }],
      ['tile/0/001.p/5', { level: 0, index: 1, width: 5 }],
      // (sumdb tile/3/5/... has height 3; at height 8, level 5 index 123456078
      // would start beyond entry 2^53, so the C2SP check uses level 0 and 2)
      ['tile/0/x123/x456/078', { level: 0, index: 123456078, width: 256 }],
      ['tile/2/x123/x456/078.p/2', { level: 2, index: 123456078, width: 2 }],
      ['tile/entries/x003/x057/500', { level: ENTRIES_LEVEL, index: 3057500, width: 256 }],
      ['tile/0/x001/x234/067', { level: 0, index: 1234067, width: 256 }],
      ['tile/entries/273.p/112', { level: ENTRIES_LEVEL, index: 273, width: 112 }],
      ['tile/63/000', { level: 63, index: 0, width: 256 }],
      ['tile/0/000.p/255', { level: 0, index: 0, width: 255 }],
    ];
    for (const [p, t] of cases) {
      expect(parseTilePath(p)).toEqual(t);
      expect(tilePath(t)).toBe(p);
    }
  });

  it('rejects non-canonical and invalid paths', () => {
    for (const p of [
      'tile/5/123/456/078', 'tile/-1/123/456/078', 'tile/0/x000/001', 'tile/0/1', 'tile/0/0001', 'tile/0/01',
      'tile/0/000.p/0', 'tile/0/000.p/256', 'tile/0/000.p/007', 'tile/0/000.p/', 'tile/0/000.p', 'tile/0/.p/0',
      'tile/00/000', 'tile/01/000', 'tile/64/000', 'tile/100/000', 'tile/0/../000', 'tile/../0/000', 'tile//0/000',
      'tile/0//000', 'tile/0/000/', '/tile/0/000', 'tile/0/000 ', ' tile/0/000', 'tile/0/x001', 'tile/0/x001/',
      'tile/0/X001/000', 'tile/0/x001/0000', 'tile/data/000', 'tile/8/0/000', 'tile/entry/000', 'tile/0/000.p/1/',
      'tile/0/000.P/1', 'tile/0/000.p/+1', 'tile/0/000.p/1e2', 'tile/0/x999/x999/x999/x999/x999/999', '0/000',
      'tile/0', 'tile/', '', 'tile/0/000\n', 'tile/0/00a', 'tile/0/０００', 'tile/0/x010/x000/x000/x000/x000/000',
      'tile/1/x035/x184/x372/x089/000', 'tile/entries/000.p/256', 'tile/5/x123/x456/078', 'tile/5/x123/x456/078.p/2',
    ]) {
      badPath(p);
    }
  });

  it('tiles starting beyond 2^53-1 are rejected; the last ones are not', () => {
    // level 0: tile N covers entries [256N, 256N+256); max start ~ 2^53-1
    const lastL0 = Math.floor(Number.MAX_SAFE_INTEGER / 256);
    expect(parseTilePath(tilePath({ level: 0, index: lastL0, width: 255 })).index).toBe(lastL0);
    badPath(tilePath({ level: 0, index: lastL0 + 1, width: 1 }));
    const lastL5 = Math.floor(Number.MAX_SAFE_INTEGER / 256 ** 6);
    expect(parseTilePath(tilePath({ level: 5, index: lastL5, width: 256 })).index).toBe(lastL5);
    badPath(tilePath({ level: 5, index: lastL5 + 1, width: 256 }));
  });

  it('round-trips random tiles and rejects invalid TileIds', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -1, max: 6 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 1, max: 256 }),
        (level, frac, width) => {
          // any tile whose first entry is <= 2^53-1
          const maxIndex = Math.floor(Number.MAX_SAFE_INTEGER / 256 ** (Math.max(level, 0) + 1));
          const t = { level, index: Math.floor(frac * maxIndex), width };
          expect(parseTilePath(tilePath(t))).toEqual(t);
        },
      ),
      { numRuns: 1000 },
    );
    expect(() => tilePath({ level: 0, index: 0, width: 0 })).toThrow(RangeError);
    expect(() => tilePath({ level: 0, index: 0, width: 257 })).toThrow(RangeError);
    expect(() => tilePath({ level: 64, index: 0, width: 1 })).toThrow(RangeError);
    expect(() => tilePath({ level: -2, index: 0, width: 1 })).toThrow(RangeError);
    expect(() => tilePath({ level: 0, index: -1, width: 1 })).toThrow(/MERKLE|integer/);
  });
});

describe('which tiles exist', () => {
  it('size 70000 (§4)', () => {
    const got = tilesForSize(70000).map(tilePath).sort();
    const want: string[] = [];
    for (let n = 0; n < 273; n++) want.push(`tile/0/${formatTileIndex(n)}`, `tile/entries/${formatTileIndex(n)}`);
    want.push('tile/0/273.p/112', 'tile/1/000', 'tile/1/001.p/17', 'tile/2/000.p/1', 'tile/entries/273.p/112');
    expect(got).toEqual(want.sort());
  });

  it('size 256 (§4) and small sizes', () => {
    expect(tilesForSize(256).map(tilePath).sort()).toEqual(['tile/0/000', 'tile/1/000.p/1', 'tile/entries/000'].sort());
    expect(tilesForSize(0)).toEqual([]);
    expect(tilesForSize(1).map(tilePath)).toEqual(['tile/0/000.p/1', 'tile/entries/000.p/1']);
  });

  it('newTiles(a, b) ∪ newTiles(b, c) covers tilesForSize(c) with final widths', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 70000 }), fc.integer({ min: 0, max: 70000 }), (x, y) => {
        const [a, b] = x <= y ? [x, y] : [y, x];
        const all = new Map(tilesForSize(b).map((t) => [`${t.level}/${t.index}`, t.width]));
        const fresh = newTiles(a, b);
        const before = new Map(tilesForSize(a).map((t) => [`${t.level}/${t.index}`, t.width]));
        // every new tile exists at b with that width and was absent or narrower at a
        for (const t of fresh) {
          const k = `${t.level}/${t.index}`;
          expect(all.get(k)).toBe(t.width);
          expect(before.get(k) ?? 0).toBeLessThan(t.width);
        }
        // every tile at b that is not new is unchanged since a
        const freshKeys = new Set(fresh.map((t) => `${t.level}/${t.index}`));
        for (const [k, w] of all) if (!freshKeys.has(k)) expect(before.get(k)).toBe(w);
      }),
      { numRuns: 200 },
    );
  });

  it('works near 2^53 without overflow', () => {
    const size = Number.MAX_SAFE_INTEGER; // 2^53 - 1
    expect(partialWidth(0, size)).toBe(255);
    expect(partialWidth(6, size)).toBe(31);
    expect(partialWidth(7, size)).toBe(0);
    const tiles = newTiles(size - 300, size).map(tilePath);
    expect(tiles).toContain('tile/0/x035/x184/x372/x088/831.p/255');
    const cross = newTiles(31 * 2 ** 48 - 3, 31 * 2 ** 48 + 2).map(tilePath);
    expect(cross).toContain('tile/6/000.p/31');
    expect(cross).toContain('tile/5/030');
    expect(cross).toContain('tile/0/x034/x084/x860/x461/056.p/2'); // 31·2^40 = 34084860461056
    expect(cross).toContain('tile/0/x034/x084/x860/x461/055');
    expect(cross.length).toBe(10);
    expect(tiles).toContain('tile/entries/x035/x184/x372/x088/831.p/255');
    for (const p of tiles) expect(tilePath(parseTilePath(p))).toBe(p);
    // BigInt cross-check of the level-1 partial tile
    const s = BigInt(size);
    const l1 = s >> 8n;
    expect(tiles).toContain(tilePath({ level: 1, index: Number(l1 >> 8n), width: Number(l1 & 255n) }));
    expect(tileWidthAt(0, Math.floor(size / 256), size)).toBe(255);
    expect(tileWidthAt(0, Math.floor(size / 256) - 1, size)).toBe(256);
    expect(tileWidthAt(0, Math.floor(size / 256) + 1, size)).toBe(0);
  });
});

describe('partialTiles', () => {
  it('is exactly the partial tiles and bundle of tilesForSize(size)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: 0, max: 200_000 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })), (size) => {
        const expected = size > 200_000 ? null : tilesForSize(size).filter((t) => t.width < 256).map(tilePath).sort();
        const got = partialTiles(size);
        for (const t of got) expect(tileWidthAt(t.level, t.index, size) === t.width || t.level === ENTRIES_LEVEL).toBe(true);
        if (expected !== null) expect(got.map(tilePath).sort()).toEqual(expected);
      }),
      { numRuns: 200 },
    );
    expect(partialTiles(0)).toEqual([]);
    expect(partialTiles(256).map(tilePath)).toEqual(['tile/1/000.p/1']);
    expect(partialTiles(70_000).map(tilePath)).toEqual(['tile/0/273.p/112', 'tile/1/001.p/17', 'tile/2/000.p/1', 'tile/entries/273.p/112']);
  });
});

describe('tileForStoredHash', () => {
  it('locates P(8L + r, k) in tile (L, floor(k·2^r/256))', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 2 ** 10 }), (h, k) => {
        const loc = tileForStoredHash(storedHashIndex(h, k));
        const r = h % 8;
        expect(loc.tile.level).toBe(Math.floor(h / 8));
        expect(loc.count).toBe(2 ** r);
        expect(loc.tile.index).toBe(Math.floor((k * 2 ** r) / 256));
        expect(loc.offset).toBe((k * 2 ** r) % 256);
        expect(loc.tile.width).toBe(loc.offset + loc.count);
      }),
    );
    const x = 2 ** 53 - 2;
    const [h, k] = splitStoredHashIndex(x);
    expect(tileForStoredHash(x).tile.index).toBe(Math.floor((k * 2 ** (h % 8)) / 256));
  });
});
