// The partial-tile collector on real files: the worst add pattern (one add
// per checkpoint) leaves the public tree within 1.5x of its minimal size after
// collection, the tree still audits and the engine serves every proof; held
// sizes (grace, a lagging public checkpoint) keep their partials; a run cut
// short leaves nothing a reader needs deleted, and the next one finishes.
import { mkdirSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { openFileLog, openLog, type Log } from '../../src/log/index.js';
import { collectablePartials, minimalTreeBytes, TileGc } from '../../src/log/tile-gc.js';
import { TileCache, publishedHashReader } from '../../src/log/tile-reader.js';
import { makeHasher } from '../../src/merkle/hash.js';
import { partialTiles, tilePath } from '../../src/merkle/layout.js';
import { inclusionProof } from '../../src/merkle/proof.js';
import { verifyConsistency, verifyInclusion } from '../../src/merkle/verify.js';
import { nodeSha256 } from '../../src/log/options.js';
import { FileTileStore } from '../../src/storage/file-tile-store.js';
import { SqliteSequenceDB } from '../../src/storage/sqlite-sequence-db.js';
import { SqliteLogStore } from '../../src/storage/sqlite-log-store.js';
import type { TileStore } from '../../src/storage/tile-store.js';
import { runCli } from '../cli/helpers.js';
import { ORIGIN, quietLogger, tempDir, testKey, testSigner, treeBytes } from './helpers.js';

const fence = { epoch: 1, holder: 'test' };

const hasher = makeHasher(nodeSha256);
const ENTRIES = 260;
const ENTRY_SIZE = 1024;

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir('tilelog-gc-');
});
afterEach(() => tmp.cleanup());

const dirs = () => ({ stateDir: path.join(tmp.dir, 'state'), tilesDir: path.join(tmp.dir, 'tiles') });

function entry(i: number): Uint8Array {
  const e = new Uint8Array(ENTRY_SIZE);
  new DataView(e.buffer).setUint32(0, i);
  e.fill(i & 0xff, 4);
  return e;
}

/** One add per checkpoint: the pattern that leaves the most partials behind. */
async function addOneByOne(log: Log, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i++) {
    const { index } = await log.add(entry(i));
    await log.waitForCheckpoint(index);
  }
}

async function openGcLog(graceMs: number, tiles?: TileStore): Promise<Log> {
  const { stateDir, tilesDir } = dirs();
  if (tiles === undefined) {
    return openFileLog({ origin: ORIGIN, signer: testSigner, stateDir, tilesDir, logger: quietLogger, partialGraceMs: graceMs, partialGcIntervalMs: 3_600_000 });
  }
  mkdirSync(stateDir, { recursive: true });
  const db = new SqliteSequenceDB(path.join(stateDir, 'log.db'), { origin: ORIGIN });
  const log = await openLog({ origin: ORIGIN, signer: testSigner, db, tiles, logger: quietLogger, partialGraceMs: graceMs, partialGcIntervalMs: 3_600_000 });
  const close = log.close.bind(log);
  log.close = async () => {
    await close();
    db.close();
  };
  return log;
}

/** Every inclusion proof at the published size and every consistency proof into it verifies. */
async function checkEveryProof(log: Log): Promise<void> {
  const { size, root } = log.checkpoint();
  for (let i = 0; i < size; i++) {
    verifyInclusion(hasher, i, size, hasher.leaf(entry(i)), await log.inclusionProof(i, size), root);
  }
  for (let m = 1; m <= size; m++) {
    verifyConsistency(hasher, m, size, await log.consistencyProof(m, size), await log.treeHash(m), root);
  }
}

async function audit(tilesDir: string): Promise<void> {
  const r = await runCli(['audit', tilesDir, '--log-key', testKey.verifierKey, '--json']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
}

describe('partial-tile collection', () => {
  test('one add per checkpoint: within 1.5x of the minimal tree after collection; audits; every proof served', async () => {
    const log = await openGcLog(0);
    await addOneByOne(log, 0, ENTRIES);
    const { tilesDir } = dirs();
    const budget = minimalTreeBytes(ENTRIES, ENTRIES * ENTRY_SIZE);
    const before = treeBytes(tilesDir);
    expect(before).toBeGreaterThan(10 * budget); // the quadratic pile the collector exists for

    const run = await log.collectPartialTiles();
    const after = treeBytes(tilesDir);
    expect(run.objects).toBeGreaterThan(ENTRIES);
    expect(after).toBeLessThanOrEqual(1.5 * budget);
    expect(log.stats().gc.deletedObjects).toBe(run.objects);
    // Only the right edge of the public size stays partial.
    const left = (readdirSync(tilesDir, { recursive: true }) as string[]).filter((p) => /\.p\/\d+$/.test(p));
    expect(left.map((p) => p.split(path.sep).join('/')).sort()).toEqual(partialTiles(ENTRIES).map(tilePath).sort());

    await checkEveryProof(log);
    // A second run finds nothing, and the cursor is durable.
    expect((await log.collectPartialTiles()).objects).toBe(0);
    await log.close();
    await audit(tilesDir);
  }, 30_000);

  test('partials of checkpoints replaced within the grace period stay, across a restart too', async () => {
    let log = await openGcLog(3_600_000);
    await addOneByOne(log, 0, 40);
    expect((await log.collectPartialTiles()).objects).toBe(0);
    await log.close();
    // After a restart only the history's commit times tell how recent a checkpoint is.
    log = await openGcLog(3_600_000);
    expect((await log.collectPartialTiles()).objects).toBe(0);
    const tiles = new FileTileStore(dirs().tilesDir);
    for (let size = 1; size <= 40; size++) {
      for (const t of partialTiles(size)) expect(await tiles.read(tilePath(t)), `${tilePath(t)} of size ${size}`).not.toBeNull();
    }
    await log.close();
  });

  test('a held size (a public checkpoint lagging the signed one) keeps its partials and its proofs', async () => {
    const log = await openGcLog(0);
    await addOneByOne(log, 0, 70);
    await log.close();
    // The collector as the log runs it while witnesses cosign: public size 23, signed 70.
    const { stateDir, tilesDir } = dirs();
    const db = new SqliteSequenceDB(path.join(stateDir, 'log.db'), { origin: ORIGIN });
    const tiles = new FileTileStore(tilesDir);
    try {
      const gc = new TileGc({ store: new SqliteLogStore(db), fence, tiles, graceMs: 0, intervalMs: 3_600_000, logger: quietLogger, pinnedSizes: () => [23, 70] }, 23);
      const run = await gc.collect();
      expect(run.objects).toBeGreaterThan(50);
      for (const t of partialTiles(23)) expect(await tiles.read(tilePath(t))).not.toBeNull();
      const reader = publishedHashReader(23, tiles, hasher, new TileCache());
      const root23 = db.rootForSize(23)!;
      for (let i = 0; i < 23; i++) verifyInclusion(hasher, i, 23, hasher.leaf(entry(i)), await inclusionProof(23, i, reader, hasher), root23);
      // The public checkpoint moves on: size 23 was public until now, so its partials keep their grace
      // even though the checkpoint after it was signed long ago (the clock here is 2 h ahead).
      const later = () => Date.now() + 7_200_000;
      const graced = new TileGc({ store: new SqliteLogStore(db), fence, tiles, graceMs: 3_600_000, intervalMs: 3_600_000, logger: quietLogger, pinnedSizes: () => [70], now: later }, 23);
      graced.published(70);
      await graced.collect();
      for (const t of partialTiles(23)) expect(await tiles.read(tilePath(t))).not.toBeNull();
      // Once that grace (0 here) is over, size 23's partials go too.
      const pinned = [70];
      const gc2 = new TileGc({ store: new SqliteLogStore(db), fence, tiles, graceMs: 0, intervalMs: 3_600_000, logger: quietLogger, pinnedSizes: () => pinned }, 70);
      await gc2.collect();
      const gone = collectablePartials([23], [70]);
      expect(gone.length).toBeGreaterThan(0);
      for (const t of gone) expect(await tiles.read(tilePath(t))).toBeNull();
      // A proof that started at size 23 (grace 0) reads the deleted partials from the wider tiles of size 70.
      const late = publishedHashReader(23, tiles, hasher, new TileCache(), () => 70);
      for (let i = 0; i < 23; i++) verifyInclusion(hasher, i, 23, hasher.leaf(entry(i)), await inclusionProof(23, i, late, hasher), root23);
    } finally {
      db.close();
    }
  });

  test('a run cut short (deletes fail midway) deletes nothing needed; the next run finishes', async () => {
    const { tilesDir } = dirs();
    const inner = new FileTileStore(tilesDir);
    let deletesLeft = Infinity;
    const flaky: TileStore = {
      description: 'a tiles directory whose deletes fail',
      read: (p) => inner.read(p),
      readWithEtag: (p) => inner.readWithEtag(p),
      replaceIfMatch: (p, d, e) => inner.replaceIfMatch(p, d, e),
      createIdempotent: (p, d) => inner.createIdempotent(p, d),
      overwrite: (p, d) => inner.overwrite(p, d),
      delete: async (p) => {
        if (deletesLeft-- <= 0) throw Object.assign(new Error(`EIO: i/o error, unlink '${p}'`), { code: 'EIO' });
        return inner.delete(p);
      },
    };
    const log = await openGcLog(0, flaky);
    await addOneByOne(log, 0, 100);
    deletesLeft = 30;
    await expect(log.collectPartialTiles()).rejects.toThrow(/EIO/);
    expect(log.stats().gc.failedRuns).toBe(1);
    expect(log.writable()).toBe(false); // a failed delete is a disk failure too
    await checkEveryProof(log);
    await log.close();

    // As after a SIGKILL: a new process starts from the durable cursor.
    const again = await openGcLog(0);
    expect(again.writable()).toBe(true);
    await again.collectPartialTiles();
    expect(treeBytes(tilesDir)).toBeLessThanOrEqual(1.5 * minimalTreeBytes(100, 100 * ENTRY_SIZE));
    await addOneByOne(again, 100, 110);
    await again.collectPartialTiles();
    await checkEveryProof(again);
    await again.close();
    await audit(tilesDir);
  }, 30_000);
});

describe('collectablePartials', () => {
  test('never a partial that a kept size shares (same hash count at its level)', () => {
    // 256·3 + 5 and 256·3 + 10 share tile/1/000.p/3; 256·3 + 5 and 256·4 do not.
    const shared = collectablePartials([256 * 3 + 5], [256 * 3 + 10]).map(tilePath);
    expect(shared).toEqual(['tile/0/003.p/5', 'tile/entries/003.p/5']);
    const all = collectablePartials([256 * 3 + 5], [256 * 4]).map(tilePath);
    expect(all.sort()).toEqual(['tile/0/003.p/5', 'tile/1/000.p/3', 'tile/entries/003.p/5'].sort());
  });
});
