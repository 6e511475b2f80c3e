// Tile summaries through a file log (SQLite + files): the log writes one per
// full hash tile into <state>/tile-summaries as it writes the tiles; proofs
// verify (RFC 9162) with them, with them damaged or deleted (then proofs
// repair them), and with a store that fails every call (a warning, once).
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { createLogApp } from '../../src/http/index.js';
import { openFileLog, type Log } from '../../src/log/index.js';
import { fromBase64Strict, leafHash, tilePath, verifyConsistency, verifyInclusion } from '../../src/merkle/index.js';
import { SUMMARY_BYTES, tileSummary } from '../../src/merkle/tile-summary.js';
import type { TileSummaryStore } from '../../src/storage/tile-summary-store.js';
import { quietLogger, tempDir, testSigner, ORIGIN } from './helpers.js';

const N = 70_000;
const entries = Array.from({ length: N }, (_, i) => new TextEncoder().encode(`summary test entry ${i}`));
const tmp = tempDir('tilelog-summaries-log-');
afterAll(() => tmp.cleanup());
const stateDir = path.join(tmp.dir, 'state');
const tilesDir = path.join(tmp.dir, 'tiles');
const summariesDir = path.join(stateDir, 'tile-summaries');

const open = (extra: { tileSummaries?: TileSummaryStore; logger?: typeof quietLogger; backfillTileSummaries?: boolean } = {}): Promise<Log> =>
  openFileLog({ origin: ORIGIN, signer: testSigner, stateDir, tilesDir, batchMaxEntries: N, maxPendingEntries: N, integrateMaxEntries: N, logger: quietLogger, ...extra });

const tileFile = (level: number, index: number): Uint8Array => new Uint8Array(readFileSync(path.join(tilesDir, tilePath({ level, index, width: 256 }))));
const record = (level: number, index: number): Uint8Array =>
  new Uint8Array(readFileSync(path.join(summariesDir, `level-${level}.bin`)).subarray(index * SUMMARY_BYTES, (index + 1) * SUMMARY_BYTES));

/** Inclusion and consistency proofs at spread indexes, each verified against the log's checkpoint. */
async function checkProofs(log: Log): Promise<void> {
  const cp = log.checkpoint();
  for (const i of [0, 17, 4_096, 33_333, 65_535, 65_536, N - 1]) {
    verifyInclusion(undefined, i, cp.size, leafHash(entries[i]!), await log.inclusionProof(i, cp.size), cp.root);
  }
  for (const m of [1, 300, 4_096, 40_000, 65_536, N - 5]) {
    verifyConsistency(undefined, m, cp.size, await log.consistencyProof(m, cp.size), await log.treeHash(m), cp.root);
  }
}

describe('tile summaries in a file log', () => {
  test('written for every full hash tile as the tiles are; proofs verify with them', async () => {
    const log = await open();
    await Promise.all(entries.map((e) => log.add(e)));
    await log.waitForCheckpoint(N - 1);
    await checkProofs(log);
    expect(log.stats().tileSummaries).toEqual({ written: 274, learned: 0, replaced: 0, failures: 0, backfilled: 0 });
    await log.close();
    // 273 full level-0 tiles and one full level-1 tile; nothing for partial tiles or bundles.
    expect(statSync(path.join(summariesDir, 'level-0.bin')).size).toBe(Math.floor(N / 256) * SUMMARY_BYTES);
    expect(statSync(path.join(summariesDir, 'level-1.bin')).size).toBe(SUMMARY_BYTES);
    for (const index of [0, 100, 272]) expect(record(0, index)).toEqual(tileSummary(tileFile(0, index)));
    expect(record(1, 0)).toEqual(tileSummary(tileFile(1, 0)));
  });

  test('damaged and deleted summaries: proofs still verify, and repair the records they read', async () => {
    const level0 = path.join(summariesDir, 'level-0.bin');
    const bytes = readFileSync(level0);
    for (let i = 0; i < bytes.length; i += 97) bytes[i] = bytes[i]! ^ 0x55;
    writeFileSync(level0, bytes);
    rmSync(path.join(summariesDir, 'level-1.bin'));
    const log = await open({ backfillTileSummaries: false }); // here proofs alone repair (the next test fills in at open)
    await checkProofs(log);
    // Operators see the damage: level-0 records replaced, level-1's (deleted) learned.
    const metrics = await (await createLogApp(log).request('/metrics')).text();
    const { learned, replaced } = log.stats().tileSummaries!;
    expect(replaced).toBeGreaterThan(0);
    expect(learned).toBeGreaterThan(replaced);
    expect(metrics).toContain(`tilelog_tile_summaries_total{event="replaced"} ${replaced}`);
    expect(metrics).toContain(`tilelog_tile_summaries_total{event="learned"} ${learned - replaced}`);
    await log.close();
    // The tiles those proofs read have their right summaries again.
    for (const index of [0, 16, 130, 256]) expect(record(0, index)).toEqual(tileSummary(tileFile(0, index)));
    expect(record(1, 0)).toEqual(tileSummary(tileFile(1, 0)));
  });

  test('missing summaries are filled in at open, in the background, with progress; damaged tiles are left out', async () => {
    // One more checkpoint, so that the last integration step (which an open replays, repairing its tiles) is not the whole log.
    const before = await open({ backfillTileSummaries: false });
    await before.add(new TextEncoder().encode('a later step'));
    await before.waitForCheckpoint(N);
    await before.close();
    rmSync(summariesDir, { recursive: true });
    // A damaged full tile: its summary would not match its parent, so none is kept for it.
    const damaged = path.join(tilesDir, tilePath({ level: 0, index: 7, width: 256 }));
    const good = readFileSync(damaged);
    writeFileSync(damaged, Buffer.alloc(good.length, 1));
    const lines: string[] = [];
    try {
      const log = await open({ logger: { ...quietLogger, info: (m: string) => void lines.push(m) } });
      for (let i = 0; i < 400 && lines.every((l) => !/ filled in [0-9.]+ s$/.test(l)); i++) await new Promise((r) => setTimeout(r, 25));
      expect(log.stats().tileSummaries!.backfilled).toBe(273);
      await log.close();
    } finally {
      writeFileSync(damaged, good);
    }
    expect(lines.filter((l) => l.startsWith('tile summaries:'))).toEqual([
      'tile summaries: filling in 274 of them (proofs about those tiles hash more until then)',
      expect.stringMatching(/^tile summaries: 273 of 274 filled in [0-9.]+ s$/),
    ]);
    for (const index of [0, 8, 272]) expect(record(0, index)).toEqual(tileSummary(tileFile(0, index)));
    expect(record(0, 7)).toEqual(new Uint8Array(SUMMARY_BYTES)); // a hole: absent
    expect(record(1, 0)).toEqual(tileSummary(tileFile(1, 0)));
    // The repaired tile's summary on the next open (level 0 deleted again), then nothing missing: an open says nothing about summaries.
    rmSync(path.join(summariesDir, 'level-0.bin'));
    const again: string[] = [];
    const filled = await open({ logger: { ...quietLogger, info: (m: string) => void again.push(m) } });
    for (let i = 0; i < 400 && again.every((l) => !/ filled in [0-9.]+ s$/.test(l)); i++) await new Promise((r) => setTimeout(r, 25));
    expect(filled.stats().tileSummaries!.backfilled).toBe(273);
    await filled.close();
    const quiet: string[] = [];
    await (await open({ logger: { ...quietLogger, info: (m: string) => void quiet.push(m) } })).close();
    expect(quiet.filter((l) => l.startsWith('tile summaries:'))).toEqual([]);
  });

  test('a store that fails every call: proofs verify from the tiles, one warning', async () => {
    const warnings: string[] = [];
    const failing: TileSummaryStore = {
      read: () => Promise.reject(new Error('EIO: read failed')),
      write: () => Promise.reject(new Error('ENOSPC: no space left')),
      close: () => Promise.resolve(),
    };
    const log = await open({ tileSummaries: failing, logger: { ...quietLogger, warn: (m: string) => void warnings.push(m) } });
    await checkProofs(log);
    await log.add(new TextEncoder().encode('one more'));
    expect(log.stats().tileSummaries!.failures).toBeGreaterThan(0);
    await log.close();
    expect(warnings.filter((w) => /tile summary/.test(w))).toEqual([expect.stringMatching(/could not read a tile summary \(EIO: read failed\); proofs compute them from the tiles/)]);
  });

  test('the summaries a proof is served from match the hashes in the public tiles (a leaf hash from the tile, the root from the checkpoint)', async () => {
    const log = await open();
    const cp = log.checkpoint();
    const i = 12_345;
    const leaf = await log.leafHash!(i, cp.size);
    expect(leaf).toEqual(fromBase64Strict(Buffer.from(tileFile(0, Math.floor(i / 256)).subarray((i % 256) * 32, (i % 256) * 32 + 32)).toString('base64')));
    verifyInclusion(undefined, i, cp.size, leaf, await log.inclusionProof(i, cp.size), cp.root);
    await log.close();
  });
});
