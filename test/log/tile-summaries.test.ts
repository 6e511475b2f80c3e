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

const open = (extra: { tileSummaries?: TileSummaryStore; logger?: typeof quietLogger } = {}): Promise<Log> =>
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
    expect(log.stats().tileSummaries).toEqual({ written: 274, learned: 0, replaced: 0, failures: 0 });
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
    const log = await open();
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
