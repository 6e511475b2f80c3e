import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { isTilelogError } from '../../src/errors.js';
import { openLog, type Log } from '../../src/log/index.js';
import type { LogOptions } from '../../src/log/options.js';
import { verifyConsistency, verifyInclusion } from '../../src/merkle/verify.js';
import { openCheckpoint } from '../../src/note/checkpoint.js';
import { parseVerifierKey } from '../../src/note/keys.js';
import { MemoryTileStore } from '../../src/storage/memory-tile-store.js';
import { SqliteSequenceDB } from '../../src/storage/sqlite-sequence-db.js';
import { ORIGIN, quietLogger, tempDir, testKey, testSigner, utf8 } from './helpers.js';
import { refLeaf, refRoot } from './reference.js';

let tmp: ReturnType<typeof tempDir>;
let db: SqliteSequenceDB;
let tiles: MemoryTileStore;
let log: Log;

async function open(extra: Partial<LogOptions> = {}): Promise<Log> {
  return openLog({ origin: ORIGIN, signer: testSigner, db, tiles, logger: quietLogger, ...extra });
}

beforeEach(() => {
  tmp = tempDir('tilelog-log-');
  db = new SqliteSequenceDB(path.join(tmp.dir, 'log.db'), { origin: ORIGIN });
  tiles = new MemoryTileStore();
});
afterEach(async () => {
  await log?.close();
  db.close();
  tmp.cleanup();
});

const rejects = async (p: Promise<unknown>, code: Parameters<typeof isTilelogError>[1]): Promise<void> => {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(isTilelogError(err, code), `expected ${code}, got ${String(err)}`).toBe(true);
};

describe('Log', () => {
  test('a new log publishes the empty tree, signed and verifiable', async () => {
    log = await open();
    const cp = log.checkpoint();
    expect(cp.size).toBe(0);
    expect(log.verifierKey).toBe(testKey.verifierKey);
    const opened = openCheckpoint(cp.text, ORIGIN, [parseVerifierKey(testKey.verifierKey)]);
    expect(opened.checkpoint.size).toBe(0);
    expect(new TextDecoder().decode((await log.readPublic('checkpoint'))!)).toBe(cp.text);
  });

  test('adds get consecutive indexes, dedup returns the original index, and checkpoints cover them', async () => {
    log = await open();
    const r = await Promise.all(['a', 'b', 'c', 'a'].map((s) => log.add(utf8(s))));
    expect(r).toEqual([
      { index: 0, duplicate: false },
      { index: 1, duplicate: false },
      { index: 2, duplicate: false },
      { index: 0, duplicate: true },
    ]);
    expect(await log.add(utf8('b'))).toEqual({ index: 1, duplicate: true });
    const cp = await log.waitForCheckpoint(2);
    expect(cp.size).toBe(3);
    expect(cp.root).toEqual(refRoot(['a', 'b', 'c'].map((s) => refLeaf(utf8(s)))));
    expect(await log.entry(1)).toEqual(utf8('b'));
    expect(await log.lookup(refLeaf(utf8('c')))).toBe(2);
    expect(await log.lookup(refLeaf(utf8('zz')))).toBeNull();
    expect(log.stats()).toMatchObject({ sequenced: 3, published: 3, duplicates: 2 });
  });

  test('dedup can be turned off', async () => {
    log = await open({ dedup: false });
    const r = await Promise.all(['a', 'a'].map((s) => log.add(utf8(s))));
    expect(r.map((x) => x.index)).toEqual([0, 1]);
    expect(r.every((x) => !x.duplicate)).toBe(true);
  });

  test('entries must be 1..65535 bytes', async () => {
    log = await open();
    await rejects(log.add(new Uint8Array(0)), 'LOG_ENTRY_SIZE');
    await rejects(log.add(new Uint8Array(65536)), 'LOG_ENTRY_SIZE');
    expect((await log.add(new Uint8Array(65535).fill(1))).index).toBe(0);
    const cp = await log.waitForCheckpoint(0);
    expect(cp.size).toBe(1);
    expect((await log.readPublic('tile/entries/000.p/1'))!.length).toBe(65537);
  });

  test('too many pending entries: LOG_PUSHBACK', async () => {
    log = await open({ maxPendingEntries: 3, batchMaxEntries: 100, batchMaxDelayMs: 50 });
    const adds = [1, 2, 3].map((i) => log.add(utf8(`e${i}`)));
    await rejects(log.add(utf8('e4')), 'LOG_PUSHBACK');
    expect((await Promise.all(adds)).map((r) => r.index)).toEqual([0, 1, 2]);
  });

  test('the entry bytes are copied at add time', async () => {
    log = await open();
    const buf = utf8('original');
    const p = log.add(buf);
    buf.fill(0x41);
    await p;
    await log.waitForCheckpoint(0);
    expect(await log.entry(0)).toEqual(utf8('original'));
  });

  test('proofs for every size up to the published one verify against reference roots', async () => {
    log = await open({ batchMaxEntries: 64 });
    const leaves: Uint8Array[] = [];
    // Publish in uneven steps so older partial tiles must serve old sizes.
    for (const step of [1, 6, 250, 3, 300, 40]) {
      const adds: Promise<unknown>[] = [];
      for (let k = 0; k < step; k++) {
        const e = utf8(`entry ${leaves.length}`);
        leaves.push(refLeaf(e));
        adds.push(log.add(e));
      }
      await Promise.all(adds);
      await log.waitForCheckpoint(leaves.length - 1);
    }
    const n = leaves.length;
    expect(log.checkpoint().size).toBe(n);
    const roots = [refRoot([])];
    for (let m = 1; m <= n; m++) roots.push(refRoot(leaves, 0, m));
    for (const m of [1, 2, 3, 7, 255, 256, 257, 511, 512, 513, 599, n]) {
      expect(await log.treeHash(m)).toEqual(roots[m]);
      for (const i of [0, 1, Math.floor(m / 2), m - 1]) {
        if (i >= m) continue;
        verifyInclusion(undefined, i, m, leaves[i]!, await log.inclusionProof(i, m), roots[m]!);
      }
      for (const old of [1, 2, 5, 256, 300, m]) {
        if (old > m) continue;
        verifyConsistency(undefined, old, m, await log.consistencyProof(old, m), roots[old]!, roots[m]!);
      }
    }
    expect(await log.sizeForRoot(roots[n]!)).toBe(n);
    expect(await log.sizeForRoot(roots[7]!)).toBe(7);
    expect(await log.sizeForRoot(roots[8]!)).toBeNull(); // never published
    await rejects(log.inclusionProof(0, n + 1), 'LOG_NOT_FOUND');
    await rejects(log.treeHash(n + 1), 'LOG_NOT_FOUND');
    await rejects(log.entry(n), 'LOG_NOT_FOUND');
    await rejects(log.inclusionProof(5, 5), 'MERKLE_RANGE');
    await rejects(log.treeHash(-1), 'MERKLE_RANGE');
  });

  test('waitForCheckpoint honours an abort signal', async () => {
    log = await open();
    const ac = new AbortController();
    const p = log.waitForCheckpoint(10, ac.signal);
    ac.abort(new Error('gone'));
    await expect(p).rejects.toThrow('gone');
  });

  test('readPublic refuses non-public paths', async () => {
    log = await open();
    await rejects(log.readPublic('../log.db'), 'LAYOUT_BAD_PATH');
    await rejects(log.readPublic('tile/0/x000/001'), 'LAYOUT_BAD_PATH');
    expect(await log.readPublic('tile/0/000')).toBeNull();
  });

  test('close flushes pooled adds and publishes them; later adds fail with LOG_CLOSED', async () => {
    log = await open({ batchMaxDelayMs: 10_000 });
    const p = log.add(utf8('late'));
    await log.close();
    expect((await p).index).toBe(0);
    expect(log.checkpoint().size).toBe(1);
    await rejects(log.add(utf8('after')), 'LOG_CLOSED');
    await rejects(log.waitForCheckpoint(5), 'LOG_CLOSED');
  });

  test('reopening continues the same log', async () => {
    log = await open();
    await Promise.all(['a', 'b'].map((s) => log.add(utf8(s))));
    await log.waitForCheckpoint(1);
    const first = log.checkpoint();
    await log.close();
    log = await open();
    expect(log.checkpoint()).toEqual(first);
    expect(await log.add(utf8('a'))).toEqual({ index: 0, duplicate: true });
    expect((await log.add(utf8('c'))).index).toBe(2);
    const cp = await log.waitForCheckpoint(2);
    expect(cp.root).toEqual(refRoot(['a', 'b', 'c'].map((s) => refLeaf(utf8(s)))));
  });

  test('checkpointIntervalMs coalesces many batches into few checkpoints', async () => {
    log = await open({ checkpointIntervalMs: 200, batchMaxEntries: 1 });
    await log.add(utf8('first'));
    await log.waitForCheckpoint(0);
    for (let i = 0; i < 20; i++) await log.add(utf8(`x${i}`));
    await log.waitForCheckpoint(20);
    expect(log.stats().batches).toBeGreaterThanOrEqual(20);
    expect(log.stats().checkpoints).toBeLessThanOrEqual(3);
  });
});
