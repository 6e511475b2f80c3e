// Tile hash readers over the golden tree: proofs verify against the signed
// checkpoint roots, and a tampered tile is rejected.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isTilelogError } from '../../src/errors.js';
import type { Hash, TileId } from '../../src/merkle/index.js';
import {
  consistencyProof,
  hashFromTile,
  inclusionProof,
  inclusionProofIndexes,
  storedHashCount,
  storedHashIndex,
  tileHashReader,
  tilePath,
  toHex,
  treeHash,
  unauthenticatedTileHashReader,
  verifyConsistency,
  verifyInclusion,
} from '../../src/merkle/index.js';
import { MemoryHashStore, checkpointRoot, loadEntries, nodeCryptoHasher, vectorsDir } from './helpers.js';

const H = nodeCryptoHasher;
const SIZES = [1, 2, 3, 255, 256, 257, 1000, 65535, 65536, 70000];
const entries = loadEntries();
const leafHashes = entries.map((e) => H.leaf(e));
const roots = new Map(SIZES.map((s) => [s, checkpointRoot(s).root]));

const fileCache = new Map<string, Uint8Array>();
function readTile(t: TileId): Uint8Array {
  const p = tilePath(t);
  let d = fileCache.get(p);
  if (d === undefined) {
    d = new Uint8Array(readFileSync(path.join(vectorsDir, 'tree', p)));
    fileCache.set(p, d);
  }
  return d;
}

// A tile source over the golden files that logs requests and can tamper.
function source(tamper?: (t: TileId, d: Uint8Array) => Uint8Array) {
  const calls: string[][] = [];
  const read = async (tiles: TileId[]) => {
    calls.push(tiles.map(tilePath));
    return tiles.map((t) => (tamper ? tamper(t, readTile(t)) : readTile(t)));
  };
  return { calls, read };
}

function flipByte(d: Uint8Array, i = 0): Uint8Array {
  const c = new Uint8Array(d);
  c[i]! ^= 1;
  return c;
}

async function expectInvalid(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (e) {
    expect(isTilelogError(e, 'MERKLE_PROOF_INVALID'), String(e)).toBe(true);
    return;
  }
  expect.unreachable('tampered tile accepted');
}

describe('tileHashReader over the golden tree', () => {
  it.each(SIZES)('size %i: tree hash, proofs verify against the checkpoint root', async (size) => {
    const root = roots.get(size)!;
    const src = source();
    const reader = tileHashReader(size, root, src.read, H);
    expect(toHex(await treeHash(size, reader, H))).toBe(toHex(root));
    const picks = [0, size - 1, Math.floor(size / 2), 255, 256, 65535].filter((i) => i < size);
    for (const i of picks) {
      const proof = await inclusionProof(size, i, reader, H);
      verifyInclusion(H, i, size, leafHashes[i]!, proof, root);
    }
    for (const old of SIZES.filter((s) => s <= size)) {
      const proof = await consistencyProof(old, size, reader, H);
      verifyConsistency(H, old, size, proof, roots.get(old)!, root);
    }
    // one readTiles call per readHashes batch
    expect(src.calls.length).toBe(1 + picks.filter(() => size > 1).length + SIZES.filter((s) => s < size).length);
  });

  it('reads the fewest tiles: the right edge plus the path to the index', async () => {
    const src = source();
    const reader = tileHashReader(70000, roots.get(70000)!, src.read, H);
    await reader.readHashes([storedHashIndex(0, 5)]);
    expect(src.calls[0]!.sort()).toEqual(['tile/0/000', 'tile/0/273.p/112', 'tile/1/000', 'tile/1/001.p/17', 'tile/2/000.p/1'].sort());
    await reader.readHashes([storedHashIndex(0, 69999), storedHashIndex(16, 0)]);
    expect(src.calls[1]!.sort()).toEqual(['tile/0/273.p/112', 'tile/1/001.p/17', 'tile/2/000.p/1'].sort());
  });

  it('random proofs at 70000 agree with proofs from a full in-memory store', async () => {
    const store = new MemoryHashStore(leafHashes, H);
    const reader = tileHashReader(70000, roots.get(70000)!, source().read, H);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 69999 }), async (i) => {
        const a = await inclusionProof(70000, i, reader, H);
        const b = await inclusionProof(70000, i, store, H);
        expect(a.map(toHex)).toEqual(b.map(toHex));
      }),
      { numRuns: 40 },
    );
  });

  it('rejects a tampered tile, a wrong-length tile and a wrong root', async () => {
    const size = 70000;
    const root = roots.get(size)!;
    const cases: [string, (t: TileId, d: Uint8Array) => Uint8Array, number][] = [
      ['tile/0/000', (t, d) => (tilePath(t) === 'tile/0/000' ? flipByte(d, 100) : d), 5],
      ['tile/0/273.p/112', (t, d) => (tilePath(t) === 'tile/0/273.p/112' ? flipByte(d, 3000) : d), 5],
      ['tile/1/000', (t, d) => (tilePath(t) === 'tile/1/000' ? flipByte(d, 32 * 7) : d), 5],
      ['tile/2/000.p/1', (t, d) => (tilePath(t) === 'tile/2/000.p/1' ? flipByte(d) : d), 5],
      ['short', (t, d) => (tilePath(t) === 'tile/0/000' ? d.subarray(0, 8160) : d), 5],
      ['tile/0/100', (t, d) => (tilePath(t) === 'tile/0/100' ? flipByte(d, 8191) : d), 100 * 256 + 3],
    ];
    for (const [, tamper, leaf] of cases) {
      const reader = tileHashReader(size, root, source(tamper).read, H);
      await expectInvalid(inclusionProof(size, leaf, reader, H));
    }
    // a tampered tile that the batch does not need goes unnoticed, as it should
    const other = tileHashReader(size, root, source((t, d) => (tilePath(t) === 'tile/0/100' ? flipByte(d) : d)).read, H);
    await inclusionProof(size, 5, other, H);
    const wrongRoot = tileHashReader(size, roots.get(65536)!, source().read, H);
    await expectInvalid(treeHash(size, wrongRoot, H));
  });

  it('checks every non-edge tile, even when the root needs several hashes from one edge tile', async () => {
    // At 70000 the root uses 6 subtree hashes from only 3 edge tiles. Go x/mod's
    // ReadHashes starts its parent check at len(stx) = 6, so tiles 3..5 of the
    // plan (tile/1/000, tile/0/000) would go unchecked; here they must not.
    const size = 70000;
    const forged0 = flipByte(readTile({ level: 0, index: 0, width: 256 }), 5 * 32);
    const forged1 = new Uint8Array(readTile({ level: 1, index: 0, width: 256 }));
    forged1.set(hashFromTile(forged0, 0, 256, H), 0); // consistent with the forged level-0 tile
    const reader = tileHashReader(size, roots.get(size)!, source((t, d) => {
      const p = tilePath(t);
      return p === 'tile/0/000' ? forged0 : p === 'tile/1/000' ? forged1 : d;
    }).read, H);
    await expectInvalid(reader.readHashes([storedHashIndex(0, 5)]));
  });

  it('rejects indexes outside the tree', async () => {
    const reader = tileHashReader(1000, roots.get(1000)!, source().read, H);
    await expect(reader.readHashes([storedHashCount(1000)])).rejects.toMatchObject({ code: 'MERKLE_RANGE' });
    await expect(reader.readHashes([-1])).rejects.toMatchObject({ code: 'MERKLE_RANGE' });
    expect(await reader.readHashes([])).toEqual([]);
  });
});

describe('unauthenticatedTileHashReader', () => {
  it('reads only the tiles holding the hashes, at their width for the size', async () => {
    const src = source();
    const reader = unauthenticatedTileHashReader(70000, src.read, H);
    const idx = [storedHashIndex(0, 5), storedHashIndex(0, 69999), storedHashIndex(3, 1), storedHashIndex(8, 3), storedHashIndex(8, 272)];
    const got = await reader.readHashes(idx);
    expect(src.calls).toEqual([['tile/0/000', 'tile/0/273.p/112', 'tile/1/000', 'tile/1/001.p/17']]);
    const store = new MemoryHashStore(leafHashes, H);
    expect(got.map(toHex)).toEqual((await store.readHashes(idx)).map(toHex));
    for (const size of SIZES) {
      const r = unauthenticatedTileHashReader(size, source().read, H);
      const i = size - 1;
      verifyInclusion(H, i, size, leafHashes[i]!, await inclusionProof(size, i, r, H), roots.get(size)!);
      expect(toHex(await treeHash(size, r, H))).toBe(toHex(roots.get(size)!));
    }
  });

  it('checks tile lengths but not contents', async () => {
    const short = unauthenticatedTileHashReader(1000, source((_t, d) => d.subarray(32)).read, H);
    await expectInvalid(short.readHashes(inclusionProofIndexes(1000, 3)));
    const flipped = unauthenticatedTileHashReader(1000, source((_t, d) => flipByte(d)).read, H);
    const p: Hash[] = await inclusionProof(1000, 3, flipped, H);
    expect(() => verifyInclusion(H, 3, 1000, leafHashes[3]!, p, roots.get(1000)!)).toThrow();
  });
});

describe('hashFromTile', () => {
  it('combines 2^r hashes into their perfect subtree', () => {
    const tile = readTile({ level: 0, index: 0, width: 256 });
    const store = new MemoryHashStore(leafHashes.slice(0, 256), H);
    for (let r = 0; r <= 8; r++) {
      for (const k of [0, 1, 256 / 2 ** r - 1]) {
        if (k * 2 ** r >= 256) continue;
        expect(toHex(hashFromTile(tile, k * 2 ** r, 2 ** r, H))).toBe(toHex(store.hashes.get(storedHashIndex(r, k))!));
      }
    }
    expect(() => hashFromTile(tile, 250, 8, H)).toThrow(/bad math/);
    expect(() => hashFromTile(tile, 0, 3, H)).toThrow(/bad math/);
  });
});
