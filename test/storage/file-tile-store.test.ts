import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { isTilelogError } from '../../src/errors.js';
import { FileTileStore } from '../../src/storage/file-tile-store.js';
import { tempDir } from '../log/helpers.js';

const bytes = (...b: number[]): Uint8Array => new Uint8Array(b);

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir('tilelog-store-');
});
afterEach(() => tmp.cleanup());

// The contract every store shares is in tile-store-contract.test.ts.

describe('FileTileStore files', () => {
  test('writes land at the public layout and leave no temp files', async () => {
    const root = path.join(tmp.dir, 'tiles');
    const s = new FileTileStore(root);
    await Promise.all([
      s.createIdempotent('tile/entries/000.p/3', bytes(0, 1, 9)),
      s.createIdempotent('tile/1/000.p/1', new Uint8Array(32)),
      s.overwrite('checkpoint', bytes(65, 10)),
    ]);
    expect(readFileSync(path.join(root, 'tile/entries/000.p/3'))).toEqual(Buffer.from([0, 1, 9]));
    expect(readFileSync(path.join(root, 'checkpoint'), 'utf8')).toBe('A\n');
    expect(readdirSync(root).sort()).toEqual(['checkpoint', 'tile']);
    expect(readdirSync(path.join(root, 'tile/entries/000.p'))).toEqual(['3']);
  });

  test('createIdempotent detects a damaged existing file', async () => {
    const root = path.join(tmp.dir, 'tiles');
    const s = new FileTileStore(root);
    await s.createIdempotent('tile/0/000', new Uint8Array(8192).fill(1));
    writeFileSync(path.join(root, 'tile/0/000'), new Uint8Array(100));
    const err = await s.createIdempotent('tile/0/000', new Uint8Array(8192).fill(1)).catch((e: unknown) => e);
    expect(isTilelogError(err, 'STORAGE_CONFLICT')).toBe(true);
    await s.overwrite('tile/0/000', new Uint8Array(8192).fill(1));
    expect((await s.read('tile/0/000'))!.length).toBe(8192);
  });

  test('a store never writes outside its root', async () => {
    const s = new FileTileStore(path.join(tmp.dir, 'tiles'));
    await s.overwrite('checkpoint', bytes(1)).catch(() => undefined);
    expect(existsSync(path.join(tmp.dir, 'checkpoint'))).toBe(false);
  });
});
