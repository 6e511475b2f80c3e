// The tile cache's proof slots: partial hash tiles are kept for proofs only
// (a public read still reaches the store, so a collected partial is absent),
// never partial bundles, and only a bounded number of them.
import { describe, expect, test } from 'vitest';
import { TileCache } from '../../src/log/tile-cache.js';
import { MemoryTileStore } from '../../src/storage/memory-tile-store.js';

describe('TileCache.readForProof', () => {
  test('keeps partial hash tiles for proofs, not for public reads, not partial bundles', async () => {
    const tiles = new MemoryTileStore();
    await tiles.createIdempotent('tile/0/000.p/7', new Uint8Array(7 * 32).fill(7));
    await tiles.createIdempotent('tile/entries/000.p/7', new Uint8Array(20).fill(1));
    const cache = new TileCache();
    const r0 = tiles.counts.read;
    expect((await cache.readForProof(tiles, 'tile/0/000.p/7'))![0]).toBe(7);
    expect((await cache.readForProof(tiles, 'tile/0/000.p/7'))![0]).toBe(7);
    expect(tiles.counts.read).toBe(r0 + 1);
    await cache.read(tiles, 'tile/0/000.p/7');
    expect(tiles.counts.read).toBe(r0 + 2);
    await cache.readForProof(tiles, 'tile/entries/000.p/7');
    await cache.readForProof(tiles, 'tile/entries/000.p/7');
    expect(tiles.counts.read).toBe(r0 + 4);
    // Absent: not remembered.
    expect(await cache.readForProof(tiles, 'tile/1/000.p/3')).toBeNull();
    await tiles.createIdempotent('tile/1/000.p/3', new Uint8Array(3 * 32).fill(3));
    expect((await cache.readForProof(tiles, 'tile/1/000.p/3'))![0]).toBe(3);
  });

  test('holds a bounded number of partial tiles, least recently used out first', async () => {
    const tiles = new MemoryTileStore();
    for (let w = 1; w <= 40; w++) await tiles.createIdempotent(`tile/0/000.p/${w}`, new Uint8Array(w * 32).fill(w));
    const cache = new TileCache();
    for (let w = 1; w <= 40; w++) await cache.readForProof(tiles, `tile/0/000.p/${w}`);
    const r0 = tiles.counts.read;
    await cache.readForProof(tiles, 'tile/0/000.p/40');
    expect(tiles.counts.read).toBe(r0);
    await cache.readForProof(tiles, 'tile/0/000.p/1'); // evicted long ago
    expect(tiles.counts.read).toBe(r0 + 1);
  });

  test('caches nothing with maxBytes 0', async () => {
    const tiles = new MemoryTileStore();
    await tiles.createIdempotent('tile/0/000.p/2', new Uint8Array(64));
    const cache = new TileCache(0);
    const r0 = tiles.counts.read;
    await cache.readForProof(tiles, 'tile/0/000.p/2');
    await cache.readForProof(tiles, 'tile/0/000.p/2');
    expect(tiles.counts.read).toBe(r0 + 2);
  });
});
