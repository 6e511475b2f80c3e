// The fenced public checkpoint (src/log/public-checkpoint.ts): only one
// writer per Log, conditional on the version it last saw; a stale writer is
// refused, reconciles, and stops publishing when another writer is ahead, the
// store holds another log's checkpoint, or a tile conflicts. Two logs run in
// this process on copies of one state, sharing one MemoryTileStore.
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { createLogApp } from '../../src/http/index.js';
import { openLog, type Log } from '../../src/log/index.js';
import { signTreeHead } from '../../src/log/publisher.js';
import { TileCache } from '../../src/log/tile-cache.js';
import { generateSignerKey, parseSignerKey } from '../../src/note/keys.js';
import { MemoryTileStore } from '../../src/storage/memory-tile-store.js';
import { SqliteSequenceDB } from '../../src/storage/sqlite-sequence-db.js';
import { ORIGIN, tempDir, testSigner, utf8 } from './helpers.js';

/** A MemoryTileStore that records the size of every checkpoint write that succeeded, in order. */
class RecordingTiles extends MemoryTileStore {
  readonly sizes: number[] = [];
  override async overwrite(p: string, data: Uint8Array): Promise<void> {
    if (p === 'checkpoint') throw new Error('the engine overwrote the checkpoint unconditionally');
    return super.overwrite(p, data);
  }
  override async replaceIfMatch(p: string, data: Uint8Array, etag: string | null): Promise<string> {
    const next = await super.replaceIfMatch(p, data, etag);
    this.sizes.push(sizeOf(data));
    return next;
  }
  /** Plant an object behind the log's back (another writer, an operator). */
  plant(p: string, data: Uint8Array): void {
    this.objects.set(p, data);
  }
}

const sizeOf = (cp: Uint8Array | string): number =>
  Number((typeof cp === 'string' ? cp : new TextDecoder().decode(cp)).split('\n')[1]);

const increasing = (sizes: number[]): boolean => sizes.every((s, i) => i === 0 || s >= sizes[i - 1]!);

let tmp: ReturnType<typeof tempDir>;
let messages: string[];
const logger = {
  info: () => undefined,
  warn: (m: string) => void messages.push(m),
  error: (m: string, err?: unknown) => void messages.push(`${m}: ${err instanceof Error ? err.message : ''}`),
};
const toClose: (() => Promise<void> | void)[] = [];
beforeEach(() => {
  tmp = tempDir('tilelog-fenced-');
  messages = [];
});
afterEach(async () => {
  for (const close of toClose.splice(0).reverse()) await close();
  tmp.cleanup();
});

async function open(dir: string, tiles: MemoryTileStore): Promise<Log> {
  mkdirSync(dir, { recursive: true });
  const db = new SqliteSequenceDB(path.join(dir, 'log.db'), { origin: ORIGIN });
  const log = await openLog({ origin: ORIGIN, signer: testSigner, db, tiles, logger });
  toClose.push(() => db.close(), () => log.close());
  return log;
}

// addAll: one batch (added together), then the checkpoint that covers it.
async function addAll(log: Log, entries: string[]): Promise<number> {
  const added = await Promise.all(entries.map((e) => log.add(utf8(e))));
  return (await log.waitForCheckpoint(Math.max(...added.map((r) => r.index)))).size;
}

describe('two writers on copies of one state, one store', () => {
  test('the stale writer is refused, finds a newer checkpoint, stops with LOG_SUPERSEDED; the checkpoint never moves back', async () => {
    const tiles = new RecordingTiles();
    const dirA = path.join(tmp.dir, 'a');
    const dirB = path.join(tmp.dir, 'b');
    // A publishes size 3, then is closed so its state can be copied.
    const first = await open(dirA, tiles);
    expect(await addAll(first, ['e0', 'e1', 'e2'])).toBe(3);
    await toClose.pop()!();
    await toClose.pop()!();
    mkdirSync(dirB);
    for (const f of ['log.db', 'log.db-wal', 'log.db-shm']) {
      if (existsSync(path.join(dirA, f))) copyFileSync(path.join(dirA, f), path.join(dirB, f));
    }
    const a = await open(dirA, tiles);
    const b = await open(dirB, tiles);
    // B moves on to size 5 (the same next entries as A will add, so no tile conflicts).
    expect(await addAll(b, ['e3', 'e4'])).toBe(5);
    // A, stale, integrates and signs size 4 in its own database; its public write is refused.
    const writesBefore = tiles.counts.replaceIfMatch;
    await a.add(utf8('e3'));
    await expect(a.waitForCheckpoint(3)).rejects.toMatchObject({ code: 'LOG_SUPERSEDED' });
    expect(tiles.counts.replaceIfMatch).toBe(writesBefore + 1); // refused once, then never again
    expect(a.stats().fatal).toMatch(/newer checkpoint of this log in an in-memory tile store \(size 5; this process was publishing size 4\).*Only one process may write a log/);
    expect(a.stats().publication).toEqual({ stopped: 'superseded', reconciled: 0 });
    expect(messages.some((m) => m.includes('the log stopped') && m.includes('newer checkpoint'))).toBe(true);
    // Adds are refused with a 503 carrying the reason; /readyz fails; B goes on.
    await expect(a.add(utf8('late'))).rejects.toMatchObject({ code: 'LOG_SUPERSEDED' });
    const app = createLogApp(a, { logError: () => undefined });
    const res = await app.request('/add', { method: 'POST', body: 'late' });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('LOG_SUPERSEDED');
    expect((await app.request('/readyz')).status).toBe(503);
    const metrics = await (await app.request('/metrics')).text();
    expect(metrics).toMatch(/tilelog_publication_stopped\{reason="superseded"\} 1/);
    expect(metrics).toMatch(/tilelog_publication_stopped\{reason="foreign"\} 0/);
    expect(await addAll(b, ['e5'])).toBe(6);
    expect(sizeOf(tiles.objects.get('checkpoint')!)).toBe(6);
    expect(tiles.sizes).not.toContain(4); // A's size 4 never became public
    expect(increasing(tiles.sizes)).toBe(true);
    expect(tiles.sizes.at(-1)).toBe(6);
  });

  test('a same-log older checkpoint in the store is adopted and publication continues', async () => {
    const tiles = new RecordingTiles();
    const log = await open(tmp.dir, tiles);
    expect(await addAll(log, ['a'])).toBe(1);
    const older = tiles.objects.get('checkpoint')!;
    expect(await addAll(log, ['b'])).toBe(2);
    tiles.plant('checkpoint', older); // an older checkpoint this log signed (a late write from a paused copy)
    expect(await addAll(log, ['c'])).toBe(3);
    expect(sizeOf(tiles.objects.get('checkpoint')!)).toBe(3);
    expect(log.stats().publication).toEqual({ stopped: null, reconciled: 1 });
    expect(log.stats().fatal).toBeNull();
    expect(messages.some((m) => m.includes('changed under this process (now size 1') && m.includes('publishing size 3'))).toBe(true);
    const app = createLogApp(log, { logError: () => undefined });
    expect(await (await app.request('/metrics')).text()).toMatch(/tilelog_checkpoint_reconciled_total 1/);
  });

  test("another log's checkpoint planted mid-run stops publication with LOG_FOREIGN_TILES and is left alone", async () => {
    const tiles = new RecordingTiles();
    const log = await open(tmp.dir, tiles);
    expect(await addAll(log, ['a'])).toBe(1);
    const other = parseSignerKey(generateSignerKey('other.example/log', new Uint8Array(32).fill(9)).signerKey);
    const foreign = signTreeHead('other.example/log', 7, new Uint8Array(32).fill(1), other);
    tiles.plant('checkpoint', utf8(foreign));
    await log.add(utf8('b'));
    const err = await log.waitForCheckpoint(1).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'LOG_FOREIGN_TILES' });
    expect((err as Error).message).toMatch(/holds the tree of origin other\.example\/log, size 7, signed by other\.example\/log\+[0-9a-f]{8}, but this process is the log of origin test\.tilelog\.example\/log/);
    expect(new TextDecoder().decode(tiles.objects.get('checkpoint')!)).toBe(foreign);
    expect(log.stats().publication.stopped).toBe('foreign');
    await expect(log.add(utf8('c'))).rejects.toMatchObject({ code: 'LOG_FOREIGN_TILES' });
  });

  test('a tile that exists with other bytes stops publication at once; nothing is signed beyond', async () => {
    const tiles = new RecordingTiles();
    const dir = tmp.dir;
    const log = await open(dir, tiles);
    expect(await addAll(log, ['a', 'b', 'c'])).toBe(3);
    tiles.plant('tile/0/000.p/4', new Uint8Array(4 * 32).fill(0xee)); // another writer's level-0 tile for size 4
    await log.add(utf8('d'));
    const err = await log.waitForCheckpoint(3).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'STORAGE_CONFLICT' });
    expect((err as Error).message).toMatch(/tile\/0\/000\.p\/4 already exists with different bytes.*rolled back.*never sign beyond size 3/);
    expect(log.stats().publication.stopped).toBe('tile_conflict');
    expect(log.stats().integrated).toBe(3);
    expect(log.stats().failedPasses).toBe(0); // stopped, not retried with backoff
    const writes = tiles.counts.createIdempotent;
    await expect(log.add(utf8('e'))).rejects.toMatchObject({ code: 'STORAGE_CONFLICT' });
    await new Promise((r) => setTimeout(r, 50));
    expect(tiles.counts.createIdempotent).toBe(writes);
    expect(sizeOf(tiles.objects.get('checkpoint')!)).toBe(3);
    // The database never signed size 4.
    const db = new SqliteSequenceDB(path.join(dir, 'log.db'), { origin: ORIGIN });
    try {
      expect(db.state()!.size).toBe(3);
      expect(db.rootForSize(4)).toBeNull();
    } finally {
      db.close();
    }
  });
});

describe('reads through the tile cache', () => {
  test('a full tile is read from the store once; partials and the checkpoint every time', async () => {
    const tiles = new MemoryTileStore();
    const log = await open(tmp.dir, tiles);
    expect(await addAll(log, Array.from({ length: 300 }, (_, i) => `e${i}`))).toBe(300);
    const reads = (): number => tiles.counts.read;
    let before = reads();
    const full = await log.readPublic('tile/0/000');
    expect(full!.length).toBe(256 * 32);
    expect(await log.readPublic('tile/0/000')).toEqual(full);
    expect(await log.readPublic('tile/entries/000')).not.toBeNull();
    expect(await log.readPublic('tile/entries/000')).not.toBeNull();
    expect(reads() - before).toBe(2);
    before = reads();
    for (let i = 0; i < 2; i++) {
      expect(await log.readPublic('tile/0/001.p/44')).not.toBeNull();
      expect(await log.readPublic('checkpoint')).not.toBeNull();
    }
    expect(reads() - before).toBe(4);
    expect(log.stats().tileCache).toMatchObject({ hits: 2, misses: 2 });
  });

  test('the cache holds at most maxBytes, dropping the least recently used', async () => {
    const tiles = new MemoryTileStore();
    for (const n of ['000', '001', '002']) await tiles.createIdempotent(`tile/0/${n}`, new Uint8Array(8192).fill(Number(n) + 1));
    const cache = new TileCache(2 * 8192);
    await cache.read(tiles, 'tile/0/000');
    await cache.read(tiles, 'tile/0/001');
    await cache.read(tiles, 'tile/0/000'); // 000 is now the most recently used
    await cache.read(tiles, 'tile/0/002'); // evicts 001
    expect(cache.bytes).toBe(2 * 8192);
    const before = tiles.counts.read;
    await cache.read(tiles, 'tile/0/000');
    await cache.read(tiles, 'tile/0/002');
    expect(tiles.counts.read).toBe(before);
    expect((await cache.read(tiles, 'tile/0/001'))![0]).toBe(2);
    expect(tiles.counts.read).toBe(before + 1);
    // Concurrent misses share one read; an absent object is not remembered.
    const c2 = new TileCache();
    const r0 = tiles.counts.read;
    await Promise.all([c2.read(tiles, 'tile/0/001'), c2.read(tiles, 'tile/0/001')]);
    expect(tiles.counts.read).toBe(r0 + 1);
    expect(await c2.read(tiles, 'tile/0/003')).toBeNull();
    await tiles.createIdempotent('tile/0/003', new Uint8Array(8192));
    expect(await c2.read(tiles, 'tile/0/003')).not.toBeNull();
  });
});
