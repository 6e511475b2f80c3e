// Tile summaries: every hash of height >= 4 read from a summary equals the one
// hashed from the tile, and the tile hash reader with summaries serves the
// same proofs as without (verified against the golden checkpoints), with far
// fewer node hashes, whatever the summary source holds: nothing, the right
// summaries, or damaged ones (which it replaces).
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Hash, TileId } from '../../src/merkle/index.js';
import {
  consistencyProof,
  hashEqual,
  hashFromTile,
  inclusionProof,
  makeHasher,
  tilePath,
  unauthenticatedTileHashReader,
  verifyConsistency,
  verifyInclusion,
} from '../../src/merkle/index.js';
import { hashFromSummary, SUMMARY_BYTES, summaryRoot, tileSummary, type TileSummarySource } from '../../src/merkle/tile-summary.js';
import { checkpointRoot, loadEntries, nodeCryptoHasher, vectorsDir } from './helpers.js';

const H = nodeCryptoHasher;
const SIZES = [256, 257, 1000, 65535, 65536, 70000];
const leafHashes = loadEntries().map((e) => H.leaf(e));

const files = new Map<string, Uint8Array>();
function golden(t: TileId): Uint8Array {
  const p = tilePath(t);
  let d = files.get(p);
  if (d === undefined) files.set(p, (d = new Uint8Array(readFileSync(path.join(vectorsDir, 'tree', p)))));
  return d;
}
const readTiles = (tamper?: (t: TileId, d: Uint8Array) => Uint8Array) => async (tiles: TileId[]) =>
  tiles.map((t) => (tamper === undefined ? golden(t) : tamper(t, golden(t))));

/** A hasher over node:crypto that counts SHA-256 calls (the plain-JS adjacentInto is off: it would bypass the count). */
function countingHasher() {
  const counter = { calls: 0 };
  const hasher = makeHasher((data) => {
    counter.calls++;
    return H.node(data.subarray(1, 33), data.subarray(33, 65));
  });
  return { counter, hasher };
}

/** An in-memory summary source that records what the reader hands back. */
function memorySource(initial = new Map<string, Uint8Array>()) {
  const stored = initial;
  const learned: { tile: string; replaced: boolean }[] = [];
  const key = (t: { level: number; index: number }) => `${t.level}/${t.index}`;
  const source: TileSummarySource = {
    read: async (tiles) => tiles.map((t) => stored.get(key(t)) ?? null),
    learned: (tile, summary, replaced) => {
      learned.push({ tile: key(tile), replaced });
      stored.set(key(tile), summary);
    },
  };
  return { stored, learned, source };
}

/** Inclusion proofs at sample indexes and consistency proofs at sample old sizes, for one size. */
async function proofsAt(size: number, reader: ReturnType<typeof unauthenticatedTileHashReader>, hasher = H): Promise<Hash[][]> {
  const out: Hash[][] = [];
  for (const i of [0, 15, 16, 255, 256, 4095, 4096, 33_333, size - 1].filter((i) => i < size)) out.push(await inclusionProof(size, i, reader, hasher));
  for (const m of [1, 16, 17, 255, 256, 4096, 33_333, size - 1].filter((m) => m >= 1 && m <= size)) out.push(await consistencyProof(m, size, reader, hasher));
  return out;
}

describe('tile summaries', () => {
  const fullTiles = Array.from({ length: Math.floor(70_000 / 256) }, (_, index) => golden({ level: 0, index, width: 256 }));

  it('a hash of height >= 4 from the summary equals the one hashed from the tile; the summary root is the tile hash', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: fullTiles.length - 1 }), fc.integer({ min: 4, max: 8 }), fc.nat(), (t, height, k) => {
        const tile = fullTiles[t]!;
        const s = tileSummary(tile, H);
        expect(s.length).toBe(SUMMARY_BYTES);
        const count = 1 << height;
        const offset = (k % (256 / count)) * count;
        expect(hashEqual(hashFromSummary(s, offset, count, H), hashFromTile(tile, offset, count, H))).toBe(true);
        expect(hashEqual(summaryRoot(s, H), hashFromTile(tile, 0, 256, H))).toBe(true);
      }),
      { numRuns: 200 },
    );
    // The level-1 tile's hash 0 is the root of level-0 tile 0: the check a reader makes.
    expect(hashEqual(summaryRoot(tileSummary(fullTiles[0]!, H), H), golden({ level: 1, index: 0, width: 256 }).subarray(0, 32))).toBe(true);
  });

  it('refuses what is not a full tile or not an aligned height >= 4', () => {
    expect(() => tileSummary(new Uint8Array(255 * 32), H)).toThrow(/full tile/);
    const s = tileSummary(fullTiles[0]!, H);
    expect(() => hashFromSummary(s, 0, 8, H)).toThrow(/bad math/);
    expect(() => hashFromSummary(s, 16, 32, H)).toThrow(/bad math/);
  });

  it('the reader serves the same verified proofs with no summaries, the right ones and damaged ones; it fills the source', async () => {
    for (const size of SIZES) {
      const root = checkpointRoot(size).root;
      const plain = countingHasher();
      const want = await proofsAt(size, unauthenticatedTileHashReader(size, readTiles(), plain.hasher), plain.hasher);

      // 1. An empty source: every full tile a hash of height >= 4 came from is computed and handed back.
      const mem = memorySource();
      const cold = countingHasher();
      expect(await proofsAt(size, unauthenticatedTileHashReader(size, readTiles(), cold.hasher, mem.source), cold.hasher)).toEqual(want);
      if (size >= 256) expect(mem.learned.length).toBeGreaterThan(0);
      expect(mem.learned.every((l) => !l.replaced)).toBe(true);

      // 2. The summaries it learned: nothing more learned, and many fewer node hashes than from the tiles alone.
      const learnedBefore = mem.learned.length;
      const warm = countingHasher();
      expect(await proofsAt(size, unauthenticatedTileHashReader(size, readTiles(), warm.hasher, mem.source), warm.hasher)).toEqual(want);
      expect(mem.learned.length).toBe(learnedBefore);
      expect(warm.counter.calls).toBeLessThan(plain.counter.calls);

      // 3. Damaged summaries (one byte flipped, or cut short): detected against the parent tile, replaced, same proofs.
      const damaged = memorySource(new Map([...mem.stored].map(([k, s], n) => [k, n % 2 === 0 ? flip(s, n % SUMMARY_BYTES) : s.subarray(0, 100)])));
      expect(await proofsAt(size, unauthenticatedTileHashReader(size, readTiles(), H, damaged.source))).toEqual(want);
      expect(damaged.learned.length).toBe(mem.stored.size);
      expect(damaged.learned.every((l) => l.replaced)).toBe(true);

      // Every answer verifies against the golden checkpoint (RFC 9162 verification).
      const i = Math.min(4096, size - 1);
      const reader = unauthenticatedTileHashReader(size, readTiles(), H, mem.source);
      verifyInclusion(H, i, size, leafHashes[i]!, await inclusionProof(size, i, reader, H), root);
      verifyConsistency(H, 256, size, await consistencyProof(256, size, reader, H), checkpointRoot(256).root, root);
    }
  });

  it('an inclusion proof in a perfect tree of 65,536: 494 node hashes from the tiles, 2 x (22 + 15 for the check) with summaries', async () => {
    const mem = memorySource();
    await inclusionProof(65_536, 33_333, unauthenticatedTileHashReader(65_536, readTiles(), H, mem.source), H);
    const counts = [];
    for (const source of [undefined, mem.source]) {
      const c = countingHasher();
      await inclusionProof(65_536, 33_333, unauthenticatedTileHashReader(65_536, readTiles(), c.hasher, source), c.hasher);
      counts.push(c.counter.calls);
    }
    // Heights 0..7 in the level-0 tile and 8..15 in the level-1 tile: 247 each from tiles (2^r - 1 per height r).
    expect(counts).toEqual([2 * 247, 2 * (22 + 15)]);
  });

  it('a tile that does not match its parent is served as it is (as without summaries), and its summary is not kept', async () => {
    const size = 70_000;
    const tamper = (t: TileId, d: Uint8Array) => (t.level === 0 && t.index === 16 ? flip(d, 5) : d);
    const want = await inclusionProof(size, 16 * 256 + 3, unauthenticatedTileHashReader(size, readTiles(tamper), H), H);
    const mem = memorySource();
    expect(await inclusionProof(size, 16 * 256 + 3, unauthenticatedTileHashReader(size, readTiles(tamper), H, mem.source), H)).toEqual(want);
    expect(mem.learned.map((l) => l.tile)).not.toContain('0/16');
    expect(mem.learned.map((l) => l.tile)).toContain('1/0');
  });
});

function flip(d: Uint8Array, i: number): Uint8Array {
  const c = new Uint8Array(d);
  c[i]! ^= 0x80;
  return c;
}
