import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { isTilelogError } from '../../src/errors.js';
import { FileTileStore } from '../../src/storage/file-tile-store.js';
import { MemoryTileStore } from '../../src/storage/memory-tile-store.js';
import type { TileStore } from '../../src/storage/tile-store.js';
import { tempDir } from '../log/helpers.js';

const bytes = (...b: number[]): Uint8Array => new Uint8Array(b);

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir('tilelog-store-');
});
afterEach(() => tmp.cleanup());

// The same contract for both stores.
const stores: [string, () => TileStore][] = [
  ['FileTileStore', () => new FileTileStore(path.join(tmp.dir, 'tiles'))],
  ['MemoryTileStore', () => new MemoryTileStore()],
];

describe.each(stores)('%s contract', (_name, make) => {
  test('read of an absent object is null', async () => {
    expect(await make().read('tile/0/000')).toBeNull();
    expect(await make().read('checkpoint')).toBeNull();
  });

  test('createIdempotent creates, accepts identical bytes, refuses different bytes', async () => {
    const s = make();
    await s.createIdempotent('tile/0/x001/234.p/5', bytes(1, 2, 3));
    expect(await s.read('tile/0/x001/234.p/5')).toEqual(bytes(1, 2, 3));
    await s.createIdempotent('tile/0/x001/234.p/5', bytes(1, 2, 3));
    const err = await s.createIdempotent('tile/0/x001/234.p/5', bytes(1, 2, 4)).catch((e: unknown) => e);
    expect(isTilelogError(err, 'STORAGE_CONFLICT')).toBe(true);
    expect(await s.read('tile/0/x001/234.p/5')).toEqual(bytes(1, 2, 3));
  });

  test('overwrite replaces; delete removes and tolerates absence', async () => {
    const s = make();
    await s.overwrite('checkpoint', bytes(1));
    await s.overwrite('checkpoint', bytes(2, 2));
    expect(await s.read('checkpoint')).toEqual(bytes(2, 2));
    await s.delete('checkpoint');
    await s.delete('checkpoint');
    expect(await s.read('checkpoint')).toBeNull();
  });

  test.each([
    '../escape',
    '/etc/passwd',
    'tile/../checkpoint',
    'tile/0/x000/001',
    'tile/0/1',
    'tile/0/000.p/0',
    'tile/0/000.p/256',
    'tile/00/000',
    'checkpoint/',
    '.state/db',
    'tile/entries/000/../../x',
    '',
  ])('refuses the non-public path %j', async (p) => {
    const s = make();
    for (const op of [() => s.read(p), () => s.createIdempotent(p, bytes(1)), () => s.overwrite(p, bytes(1)), () => s.delete(p)]) {
      const err = await op().catch((e: unknown) => e);
      expect(isTilelogError(err, 'LAYOUT_BAD_PATH')).toBe(true);
    }
  });
});

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
