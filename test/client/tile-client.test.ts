// TileClient over a static HTTP server of the shared golden tree (70,000
// entries, checkpoints at 10 sizes): it proves inclusion and consistency from
// tiles alone, and the proofs verify against the signed roots; it reads the
// fewest tiles, falls back to full tiles when a partial one is gone, keeps its
// cache bounded, reads gzip bundles and refuses tiles that do not match.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TileClient, trustPolicy, verifyBundle, verifyCheckpoint, verifyConsistency, verifyInclusion, type VerifiedCheckpoint } from '../../src/client/index.js';
import { Lru } from '../../src/client/lru.js';
import { consistencyProofIndexes } from '../../src/merkle/index.js';
import { COSIGNED_1000, COSIGNED_1000_TIME, expectCode, goldenEntries, LOG_VKEY, serveDir, TREE, vector, WITNESS_VKEY, type StaticServer } from './helpers.js';

const SIZES = [1, 2, 3, 255, 256, 257, 1000, 65535, 65536, 70000];
const policy = trustPolicy({ logKey: LOG_VKEY });
const cp = (size: number): VerifiedCheckpoint => verifyCheckpoint(vector(`checkpoints/${size}`), policy);

let s: StaticServer;
beforeAll(async () => {
  s = await serveDir(TREE);
});
afterAll(() => s.close());

const tileRequests = () => s.requests.filter((p) => p.startsWith('tile/') && !p.startsWith('tile/entries/'));

describe('TileClient on the golden tree', () => {
  it('reads and verifies the latest checkpoint', async () => {
    const c = new TileClient({ baseUrl: s.url, policy });
    const latest = await c.checkpoint();
    expect(latest.size).toBe(70000);
    expect(latest.note).toBe(vector('checkpoints/70000'));
  });

  it('proves inclusion at every golden size, and each proof verifies against the signed root', async () => {
    const c = new TileClient({ baseUrl: s.url, policy });
    const entries = goldenEntries();
    for (const size of SIZES) {
      const checkpoint = cp(size);
      for (const index of new Set([0, size - 1, Math.floor(size / 2), Math.min(size - 1, 256), Math.min(size - 1, 65535)])) {
        const proof = await c.inclusionProof(index, checkpoint);
        verifyInclusion(checkpoint, index, { entry: entries[index]! }, proof);
      }
    }
  });

  it('proves consistency between every pair of golden checkpoints', async () => {
    const c = new TileClient({ baseUrl: s.url, policy });
    for (const a of SIZES) {
      for (const b of SIZES.filter((x) => x >= a)) {
        const proof = await c.consistencyProof(cp(a), cp(b));
        verifyConsistency(cp(a), cp(b), proof);
      }
    }
  });

  it('computes the root of every older golden size from the tiles of a newer one', async () => {
    const c = new TileClient({ baseUrl: s.url, policy });
    for (const b of SIZES) {
      for (const a of [0, ...SIZES.filter((x) => x <= b)]) {
        const root = await c.treeHash(a, cp(b));
        expect(Buffer.from(root).toString('base64'), `size ${a} from ${b}`).toBe(a === 0 ? '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=' : Buffer.from(cp(a).root).toString('base64'));
      }
    }
    await expectCode(() => c.treeHash(1001, cp(1000)), 'CLIENT_NOT_FOUND');
  });

  it('proves inclusion and consistency in older sizes from the tiles of a newer checkpoint', async () => {
    const c = new TileClient({ baseUrl: s.url, policy });
    const entries = goldenEntries();
    const newest = cp(70000);
    for (const a of SIZES) {
      for (const index of new Set([0, a - 1, Math.floor(a / 2)])) {
        verifyInclusion(cp(a), index, { entry: entries[index]! }, await c.inclusionProof(index, newest, a));
      }
      for (const b of SIZES.filter((x) => x >= a)) verifyConsistency(cp(a), cp(b), await c.prefixConsistencyProof(a, b, newest));
    }
    await expectCode(() => c.inclusionProof(5, cp(1000), 5), 'CLIENT_NOT_FOUND');
    await expectCode(() => c.inclusionProof(0, cp(1000), 1001), 'CLIENT_NOT_FOUND');
    await expectCode(() => c.prefixConsistencyProof(3, 2, cp(1000)), 'CLIENT_NOT_FOUND');
  });

  it('reports a rollback and a fork as InconsistencyError with both checkpoints', async () => {
    const c = new TileClient({ baseUrl: s.url, policy });
    const err = (await expectCode(() => c.consistencyProof(cp(1000), cp(257)), 'CLIENT_INCONSISTENT')) as unknown as { older: { size: number }; newer: { size: number } };
    expect([err.older.size, err.newer.size]).toEqual([1000, 257]);
    // An older checkpoint whose root is not a prefix of the newer tree.
    const forged = { ...cp(1000), root: cp(257).root };
    await expectCode(() => c.consistencyProof(forged, cp(70000)), 'CLIENT_INCONSISTENT');
  });

  it('reads entries and bundles (also gzip-encoded) checked against the tiles', async () => {
    const c = new TileClient({ baseUrl: s.url, policy });
    const entries = goldenEntries();
    s.gzipBundles = true;
    try {
      expect(await c.entries(65530, 65540, cp(70000))).toEqual(entries.slice(65530, 65540));
      expect(await c.entries(990, 1000, cp(1000))).toEqual(entries.slice(990, 1000));
      const bundle = await c.proofBundle(69999, cp(70000));
      expect(verifyBundle(bundle, policy).index).toBe(69999);
    } finally {
      s.gzipBundles = false;
    }
  });

  it('proveEntry proves an entry in the latest checkpoint', async () => {
    const c = new TileClient({ fetch: (u, init) => fetch(`${s.url}/${u}`, init), policy });
    const bundle = await c.proveEntry(12345);
    expect(bundle.entry).toEqual(goldenEntries()[12345]);
    expect(verifyBundle(bundle, policy).checkpoint.size).toBe(70000);
  });

  it('verifies the cosigned checkpoint and proves in it', async () => {
    const wp = trustPolicy({ logKey: LOG_VKEY, witnesses: [WITNESS_VKEY], quorum: 1 });
    const checkpoint = verifyCheckpoint(COSIGNED_1000, wp, COSIGNED_1000_TIME);
    const c = new TileClient({ baseUrl: s.url, policy: wp });
    const b = await c.proofBundle(500, checkpoint);
    expect(verifyBundle(b, wp, COSIGNED_1000_TIME).checkpoint.cosigners.map((x) => x.timestamp)).toEqual([COSIGNED_1000_TIME]);
  });
});

describe('fetching', () => {
  it('fetches exactly the tiles tileHashReader plans: the right edge plus the needed tile and its ancestors', async () => {
    const c = new TileClient({ baseUrl: s.url, policy });
    s.requests.length = 0;
    await c.inclusionProof(12345, cp(70000));
    // Edge tiles of 70000: 2/000.p/1, 1/001.p/17, 0/273.p/112; leaf 12345 lives in 0/048 under 1/000.
    expect(tileRequests().sort()).toEqual(['tile/0/048', 'tile/0/273.p/112', 'tile/1/000', 'tile/1/001.p/17', 'tile/2/000.p/1']);

    // A second proof in the same leaf tile needs nothing new: all tiles are cached.
    s.requests.length = 0;
    await c.inclusionProof(12300, cp(70000));
    expect(tileRequests()).toEqual([]);
  });

  it('a consistency proof reads each tile once, in one batch', async () => {
    const c = new TileClient({ baseUrl: s.url, policy, tileCacheSize: 0 });
    s.requests.length = 0;
    await c.consistencyProof(cp(1000), cp(70000));
    const t = tileRequests();
    expect(new Set(t).size).toBe(t.length);
    expect(consistencyProofIndexes(1000, 70000).length).toBeGreaterThan(0);
    expect(t.length).toBeLessThanOrEqual(6);
  });

  it('without a cache, the same proof fetches its tiles again', async () => {
    const c = new TileClient({ baseUrl: s.url, policy, tileCacheSize: 0 });
    s.requests.length = 0;
    await c.inclusionProof(5, cp(1000));
    const first = tileRequests().length;
    await c.inclusionProof(5, cp(1000));
    expect(tileRequests().length).toBe(2 * first);
    expect(c.cachedTiles).toBe(0);
  });

  it('falls back to the full tile when a partial tile is gone (404)', async () => {
    // Size 1000 = 3·256 + 232: its level-0 edge tile is 0/003.p/232; delete it.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tilelog-client-'));
    try {
      fs.cpSync(TREE, dir, { recursive: true });
      fs.rmSync(path.join(dir, 'tile/0/003.p/232'));
      fs.rmSync(path.join(dir, 'tile/entries/003.p/232'));
      const local = await serveDir(dir);
      try {
        const c = new TileClient({ baseUrl: local.url, policy });
        const checkpoint = cp(1000);
        const proof = await c.inclusionProof(999, checkpoint);
        verifyInclusion(checkpoint, 999, { entry: goldenEntries()[999]! }, proof);
        expect(local.requests).toContain('tile/0/003.p/232');
        expect(local.requests).toContain('tile/0/003');
        expect(await c.entries(995, 1000, checkpoint)).toEqual(goldenEntries().slice(995, 1000));
        expect(local.requests).toContain('tile/entries/003');
      } finally {
        await local.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps the tile cache within its bound', async () => {
    const c = new TileClient({ baseUrl: s.url, policy, tileCacheSize: 3 });
    for (const i of [0, 300, 5000, 20000, 40000, 66000, 69999]) {
      await c.inclusionProof(i, cp(70000));
      expect(c.cachedTiles).toBeLessThanOrEqual(3);
    }
    expect(c.cachedTiles).toBe(3);
  });

  it('refuses a tile that does not match the signed root, and does not cache it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tilelog-client-'));
    try {
      fs.cpSync(TREE, dir, { recursive: true });
      const f = path.join(dir, 'tile/0/048');
      const b = fs.readFileSync(f);
      b[100]! ^= 1;
      fs.writeFileSync(f, b);
      const e = path.join(dir, 'tile/entries/049');
      const eb = fs.readFileSync(e);
      eb[eb.length - 1]! ^= 1;
      fs.writeFileSync(e, eb);
      const local = await serveDir(dir);
      try {
        const c = new TileClient({ baseUrl: local.url, policy });
        await expectCode(() => c.inclusionProof(12345, cp(70000)), 'CLIENT_TILE_INVALID');
        expect(c.cachedTiles).toBe(0);
        await expectCode(() => c.entries(49 * 256, 50 * 256, cp(70000)), 'CLIENT_TILE_INVALID');
        await expectCode(() => c.inclusionProof(70000, cp(70000)), 'CLIENT_NOT_FOUND');
      } finally {
        await local.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names fetch failures', async () => {
    const c = new TileClient({ fetch: async () => new Response('nope', { status: 500 }), policy });
    await expectCode(() => c.checkpoint(), 'CLIENT_FETCH');
    const d = new TileClient({ fetch: async () => { throw new Error('connection refused'); }, policy });
    await expectCode(() => d.checkpoint(), 'CLIENT_FETCH');
    const e = new TileClient({ fetch: async () => new Response('x', { status: 404 }), policy });
    await expectCode(() => e.checkpoint(), 'CLIENT_NOT_FOUND');
  });
});

describe('Lru', () => {
  it('evicts the least recently used entry and never exceeds its bound', () => {
    const l = new Lru<string, number>(2);
    l.set('a', 1);
    l.set('b', 2);
    expect(l.get('a')).toBe(1); // a is now newest
    l.set('c', 3);
    expect(l.get('b')).toBeUndefined();
    expect([l.get('a'), l.get('c'), l.size]).toEqual([1, 3, 2]);
    const z = new Lru<string, number>(0);
    z.set('a', 1);
    expect(z.size).toBe(0);
  });
});
