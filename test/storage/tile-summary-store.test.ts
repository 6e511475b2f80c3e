// FileTileSummaryStore: records at N·512 in one file per level; absent, short
// and all-zero records read as null; records survive a reopen; close waits
// for writes in flight; bad input is refused with a message.
import { existsSync, readFileSync, statSync, truncateSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { SUMMARY_BYTES } from '../../src/merkle/tile-summary.js';
import { FileTileSummaryStore } from '../../src/storage/tile-summary-store.js';
import { tempDir } from '../log/helpers.js';

const summary = (seed: number): Uint8Array => new Uint8Array(SUMMARY_BYTES).map((_, i) => (seed * 31 + i) & 0xff || 1);

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir('tilelog-summaries-');
});
afterEach(() => tmp.cleanup());

describe('FileTileSummaryStore', () => {
  test('writes land at N x 512 of level-<L>.bin; holes, the end of the file and cut records read as absent; a reopen keeps them', async () => {
    const dir = path.join(tmp.dir, 'state', 'tile-summaries');
    const s = new FileTileSummaryStore(dir);
    expect(await s.read([{ level: 0, index: 0 }])).toEqual([null]);
    await Promise.all([s.write({ level: 0, index: 3 }, summary(3)), s.write({ level: 1, index: 0 }, summary(9))]);
    expect(statSync(path.join(dir, 'level-0.bin')).size).toBe(4 * SUMMARY_BYTES);
    expect(statSync(path.join(dir, 'level-0.bin')).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(readFileSync(path.join(dir, 'level-0.bin')).subarray(3 * SUMMARY_BYTES)).toEqual(Buffer.from(summary(3)));
    const got = await s.read([{ level: 0, index: 3 }, { level: 0, index: 1 }, { level: 0, index: 4 }, { level: 1, index: 0 }, { level: 2, index: 0 }]);
    expect(got).toEqual([summary(3), null, null, summary(9), null]);
    await s.close();

    truncateSync(path.join(dir, 'level-1.bin'), SUMMARY_BYTES - 1);
    const again = new FileTileSummaryStore(dir);
    expect(await again.read([{ level: 0, index: 3 }, { level: 1, index: 0 }])).toEqual([summary(3), null]);
    await again.close();
  });

  test('close waits for writes in flight; a closed store reads nothing and refuses writes', async () => {
    const dir = path.join(tmp.dir, 'sums');
    const s = new FileTileSummaryStore(dir);
    const writes = Array.from({ length: 50 }, (_, i) => s.write({ level: 0, index: i }, summary(i)));
    await s.close();
    expect(statSync(path.join(dir, 'level-0.bin')).size).toBe(50 * SUMMARY_BYTES);
    await Promise.all(writes);
    expect(await s.read([{ level: 0, index: 0 }])).toEqual([null]);
    await expect(s.write({ level: 0, index: 0 }, summary(0))).rejects.toThrow(/closed/);
  });

  test('bad input: a summary of the wrong length, a level or index with no record', async () => {
    const dir = path.join(tmp.dir, 'sums');
    const s = new FileTileSummaryStore(dir);
    await expect(s.write({ level: 0, index: 0 }, new Uint8Array(511))).rejects.toThrow(/512 bytes/);
    await expect(s.write({ level: -1, index: 0 }, summary(1))).rejects.toThrow(/no record/);
    await expect(s.write({ level: 0, index: 2 ** 50 }, summary(1))).rejects.toThrow(/no record/);
    expect(await s.read([{ level: 64, index: 0 }, { level: 0, index: 1.5 }])).toEqual([null, null]);
    expect(existsSync(dir)).toBe(false); // nothing was opened for them
    await s.close();
  });
});
