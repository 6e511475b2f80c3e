// TreeEdge: batch splits vs one-by-one vs the naive reference, restore from
// bytes, hash-call budget, and sizes near 2^53.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isTilelogError } from '../../src/errors.js';
import type { Hash, Hasher, TileWrite } from '../../src/merkle/index.js';
import { EMPTY_ROOT, TreeEdge, newTiles, tilePath, toHex } from '../../src/merkle/index.js';
import { RefTree, hashers, makeLeaves, nodeCryptoHasher } from './helpers.js';

const LEAVES = makeLeaves(3000, 7);
const REF = new RefTree(LEAVES, nodeCryptoHasher);

function appendAll(edge: TreeEdge, batches: readonly Hash[][], h: Hasher): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  for (const b of batches) {
    const before = edge.size;
    const writes = edge.append(b, h);
    const paths = writes.map((w) => tilePath(w.tile));
    expect(new Set(paths).size).toBe(paths.length); // each tile once
    expect(paths).toEqual(newTiles(before, edge.size).filter((t) => t.level >= 0).map(tilePath));
    for (const w of writes) files.set(tilePath(w.tile), w.data);
  }
  return files;
}

// Expected data of tile (L, N, W) from the reference.
function refTile(level: number, index: number, width: number): string {
  const span = 256 ** level;
  let s = '';
  for (let i = 0; i < width; i++) {
    const lo = (index * 256 + i) * span;
    s += toHex(REF.mth(lo, lo + span));
  }
  return s;
}

function splits(n: number, cuts: number[]): Hash[][] {
  const points = [...new Set(cuts.map((c) => c % (n + 1)))].sort((a, b) => a - b);
  const out: Hash[][] = [];
  let prev = 0;
  for (const p of [...points, n]) {
    out.push(LEAVES.slice(prev, p));
    prev = p;
  }
  return out;
}

describe.each(hashers)('TreeEdge (%s)', (_name, h) => {
  it('root matches the reference at every size 0..2000 (one-by-one)', () => {
    const edge = TreeEdge.empty();
    expect(toHex(edge.root(h))).toBe(toHex(EMPTY_ROOT));
    for (let n = 1; n <= 2000; n++) {
      edge.append([LEAVES[n - 1]!], h);
      expect(toHex(edge.root(h)), `size ${n}`).toBe(toHex(REF.root(n)));
    }
  });

  it('random batch splits give the same tiles and roots as one-by-one and as the reference', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2000 }), fc.array(fc.nat(), { maxLength: 12 }), (n, cuts) => {
        const batches = splits(n, cuts);
        const edge = TreeEdge.empty();
        const files = new Map<string, Uint8Array>();
        for (const b of batches) {
          for (const [p, d] of appendAll(edge, [b], h)) files.set(p, d);
          expect(toHex(edge.root(h))).toBe(toHex(REF.root(edge.size)));
        }
        expect(edge.size).toBe(n);
        const single = TreeEdge.empty();
        const all = appendAll(single, LEAVES.slice(0, n).map((x) => [x]), h);
        for (const [p, d] of files) {
          expect(all.has(p), p).toBe(true);
          expect(toHex(d)).toBe(toHex(all.get(p)!));
        }
        // full tiles are identical in both; all tiles match the reference
        const full = (f: Map<string, Uint8Array>) => [...f.keys()].filter((p) => !p.includes('.p/')).sort();
        expect(full(files)).toEqual(full(all));
        for (const w of single.partialTiles()) expect(toHex(w.data)).toBe(toHex(files.get(tilePath(w.tile))!));
        for (const t of [...newTiles(0, n)].filter((t) => t.level >= 0)) {
          const d = files.get(tilePath(t));
          expect(d, tilePath(t)).toBeDefined();
          expect(toHex(d!)).toBe(refTile(t.level, t.index, t.width));
        }
      }),
      { numRuns: 25 },
    );
  });

  it('fromBytes(toBytes()) restores an edge that continues identically', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2500 }), fc.integer({ min: 0, max: 500 }), (n, more) => {
        const a = TreeEdge.empty();
        a.append(LEAVES.slice(0, n), h);
        const bytes = a.toBytes();
        const b = TreeEdge.fromBytes(n, bytes);
        expect(b.size).toBe(n);
        expect(toHex(b.toBytes())).toBe(toHex(bytes));
        expect(toHex(b.root(h))).toBe(toHex(a.root(h)));
        const c = TreeEdge.fromBytes(n, bytes);
        const wa = a.append(LEAVES.slice(n, n + more), h);
        const wc = c.append(LEAVES.slice(n, n + more), h); // slots rebuilt lazily here
        expect(wc.map((w) => [tilePath(w.tile), toHex(w.data)])).toEqual(wa.map((w) => [tilePath(w.tile), toHex(w.data)]));
        expect(toHex(c.root(h))).toBe(toHex(REF.root(c.size)));
      }),
      { numRuns: 30 },
    );
  });
});

describe('TreeEdge contract details', () => {
  it('rejects bad input without changing state', () => {
    const e = TreeEdge.empty();
    e.append(LEAVES.slice(0, 3));
    for (const bad of [[LEAVES[3]!, new Uint8Array(31)], [new Uint8Array(33)]]) {
      try {
        e.append(bad);
        expect.unreachable();
      } catch (err) {
        expect(isTilelogError(err, 'MERKLE_BAD_HASH')).toBe(true);
      }
    }
    expect(e.size).toBe(3);
    expect(toHex(e.root())).toBe(toHex(REF.root(3)));
    expect(e.append([])).toEqual([]);
    expect(() => TreeEdge.fromBytes(3, new Uint8Array(64))).toThrow(/bytes/);
    expect(() => TreeEdge.fromBytes(-1, new Uint8Array(0))).toThrow(/integer/);
    expect(TreeEdge.fromBytes(256, new Uint8Array(32)).size).toBe(256);
  });

  it('writes own their bytes; root() returns a copy', () => {
    const e = TreeEdge.empty();
    const w1 = e.append(LEAVES.slice(0, 300), nodeCryptoHasher);
    const snapshot = w1.map((w) => toHex(w.data));
    e.append(LEAVES.slice(300, 600), nodeCryptoHasher);
    expect(w1.map((w) => toHex(w.data))).toEqual(snapshot);
    const r = e.root(nodeCryptoHasher);
    r.fill(0);
    expect(toHex(e.root(nodeCryptoHasher))).toBe(toHex(REF.root(600)));
  });

  it('costs about one node hash per leaf', () => {
    let nodes = 0;
    const counting: Hasher = {
      leaf: (x) => nodeCryptoHasher.leaf(x),
      node: (l, r) => {
        nodes++;
        return nodeCryptoHasher.node(l, r);
      },
    };
    const e = TreeEdge.empty();
    const leaves = makeLeaves(70000, 1);
    for (let i = 0; i < leaves.length; i += 1000) {
      e.append(leaves.slice(i, i + 1000), counting);
      e.root(counting);
    }
    // 70000 − popcount-ish internal nodes, plus at most ~20 per root over 70 batches
    expect(nodes).toBeLessThan(70000 * 1.0 + 70 * 25);
    expect(nodes).toBeGreaterThanOrEqual(70000 - 3 * 8);
  });

  it('works near 2^53 without overflow', () => {
    const start = Number.MAX_SAFE_INTEGER - 600; // 2^53 − 601
    // partial tiles of arbitrary hashes (the edge does not know the older tree)
    let len = 0;
    for (let l = 0; l < 8; l++) len += (Math.floor(start / 256 ** l) % 256) * 32;
    const bytes = new Uint8Array(len).map((_, i) => (i * 7) % 251);
    const e = TreeEdge.fromBytes(start, bytes);
    expect(toHex(e.toBytes())).toBe(toHex(bytes));
    const writes: TileWrite[] = e.append(LEAVES.slice(0, 600));
    expect(e.size).toBe(Number.MAX_SAFE_INTEGER);
    expect(writes.map((w) => tilePath(w.tile))).toEqual(newTiles(start, e.size).filter((t) => t.level >= 0).map(tilePath));
    expect(writes.map((w) => tilePath(w.tile))).toContain('tile/0/x035/x184/x372/x088/831.p/255');
    for (const w of writes) expect(w.data.length).toBe(w.tile.width * 32);
    expect(e.root().length).toBe(32);
    try {
      e.append([LEAVES[0]!]);
      expect.unreachable();
    } catch (err) {
      expect(isTilelogError(err, 'MERKLE_RANGE')).toBe(true);
    }
  });
});
