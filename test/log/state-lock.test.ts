// One open per state directory within one process too (we never assume one
// log per process): the engine's openFileLog and the witness's serving store
// refuse a second open on the same state (STORAGE_LOCKED) before writing
// anything, and allow it again once the first is closed.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { isTilelogError } from '../../src/errors.js';
import { openFileLog } from '../../src/log/index.js';
import { SqliteWitnessStore } from '../../src/witness/index.js';
import { ORIGIN, quietLogger, tempDir, testSigner } from './helpers.js';

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir('tilelog-state-lock-');
});
afterEach(() => tmp.cleanup());

const open = (state: string, tiles: string) =>
  openFileLog({ origin: ORIGIN, signer: testSigner, stateDir: path.join(tmp.dir, state), tilesDir: path.join(tmp.dir, tiles), logger: quietLogger });

describe('openFileLog holds its stateDir', () => {
  test('a second open of the same stateDir in this process is refused, before any write; it opens once the first is closed', async () => {
    const first = await open('state', 'tiles');
    try {
      const err = await open('state', 'other-tiles').then(
        async (l) => {
          await l.close();
          return null;
        },
        (e: unknown) => e,
      );
      expect(isTilelogError(err, 'STORAGE_LOCKED'), String(err)).toBe(true);
      expect((err as Error).message).toContain(`in use by this process (pid ${process.pid}`);
      expect(fs.existsSync(path.join(tmp.dir, 'other-tiles'))).toBe(false);
      // Another state directory is another log: fine side by side.
      const other = await open('state2', 'tiles2');
      await other.close();
    } finally {
      await first.close();
    }
    const again = await open('state', 'tiles');
    await again.close();
  });
});

describe('SqliteWitnessStore serving lock', () => {
  test('a second serving store on one state is refused; a configuration edit (not serving) is not', () => {
    const file = path.join(tmp.dir, 'witness.db');
    const serving = new SqliteWitnessStore(file, { serving: true });
    try {
      let err: unknown = null;
      try {
        new SqliteWitnessStore(file, { serving: true }).close();
      } catch (e) {
        err = e;
      }
      expect(isTilelogError(err, 'STORAGE_LOCKED'), String(err)).toBe(true);
      const editor = new SqliteWitnessStore(file);
      editor.addLog('o.example/log', 'o.example/log+00000000+AQAA');
      editor.close();
    } finally {
      serving.close();
    }
    new SqliteWitnessStore(file, { serving: true }).close();
  });
});
