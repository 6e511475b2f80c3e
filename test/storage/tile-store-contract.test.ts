// One contract for every TileStore (tile-store.ts): memory, files, and S3 on
// the test S3 server over real HTTP with the real AWS SDK.

import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { isTilelogError } from '../../src/errors.js';
import { FileTileStore } from '../../src/storage/file-tile-store.js';
import { MemoryTileStore } from '../../src/storage/memory-tile-store.js';
import type { TileStore } from '../../src/storage/tile-store.js';
import { tempDir } from '../log/helpers.js';
import { s3Fixture, type S3Fixture } from './s3-helpers.js';

const bytes = (...b: number[]): Uint8Array => new Uint8Array(b);
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

let tmp: ReturnType<typeof tempDir>;
let s3: S3Fixture;
beforeAll(async () => {
  s3 = await s3Fixture();
});
afterAll(async () => {
  await s3.server.close();
});
beforeEach(() => {
  tmp = tempDir('tilelog-contract-');
});
afterEach(() => {
  s3.closeStores();
  tmp.cleanup();
});

const stores: [string, () => Promise<TileStore>][] = [
  ['MemoryTileStore', async () => new MemoryTileStore()],
  ['FileTileStore', async () => new FileTileStore(path.join(tmp.dir, `tiles-${Math.random()}`))],
  ['S3TileStore', () => s3.open()],
];

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  return isTilelogError(err) ? err.code : err === undefined ? undefined : `uncoded: ${String(err)}`;
}

describe.each(stores)('%s contract', (_name, make) => {
  test('read of an absent object is null', async () => {
    const s = await make();
    expect(await s.read('tile/0/000')).toBeNull();
    expect(await s.read('checkpoint')).toBeNull();
    expect(await s.readWithEtag('checkpoint')).toBeNull();
  });

  test('createIdempotent creates, accepts identical bytes, refuses different bytes', async () => {
    const s = await make();
    await s.createIdempotent('tile/0/x001/234.p/5', bytes(1, 2, 3));
    expect(await s.read('tile/0/x001/234.p/5')).toEqual(bytes(1, 2, 3));
    await s.createIdempotent('tile/0/x001/234.p/5', bytes(1, 2, 3));
    expect(await codeOf(s.createIdempotent('tile/0/x001/234.p/5', bytes(1, 2, 4)))).toBe('STORAGE_CONFLICT');
    expect(await codeOf(s.createIdempotent('tile/0/x001/234.p/5', bytes(1, 2)))).toBe('STORAGE_CONFLICT');
    expect(await s.read('tile/0/x001/234.p/5')).toEqual(bytes(1, 2, 3));
  });

  test('replaceIfMatch: null creates only when absent, ETags chain, a stale ETag changes nothing', async () => {
    const s = await make();
    const e1 = await s.replaceIfMatch('checkpoint', text('one\n'), null);
    expect(await s.readWithEtag('checkpoint')).toEqual({ data: text('one\n'), etag: e1 });
    expect(await codeOf(s.replaceIfMatch('checkpoint', text('other\n'), null))).toBe('STORAGE_PRECONDITION');
    const e2 = await s.replaceIfMatch('checkpoint', text('two\n'), e1);
    expect(e2).not.toBe(e1);
    expect(await s.readWithEtag('checkpoint')).toEqual({ data: text('two\n'), etag: e2 });
    // A writer still holding e1 is refused, and the object stays at two.
    expect(await codeOf(s.replaceIfMatch('checkpoint', text('stale\n'), e1))).toBe('STORAGE_PRECONDITION');
    expect(await codeOf(s.replaceIfMatch('checkpoint', text('stale\n'), '"not-an-etag"'))).toBe('STORAGE_PRECONDITION');
    expect(await s.read('checkpoint')).toEqual(text('two\n'));
    const e3 = await s.replaceIfMatch('checkpoint', text('three\n'), e2);
    expect((await s.readWithEtag('checkpoint'))?.etag).toBe(e3);
  });

  test('replaceIfMatch with an ETag on an absent object is refused and creates nothing', async () => {
    const s = await make();
    const e = await s.replaceIfMatch('checkpoint', text('x\n'), null);
    await s.delete('checkpoint');
    expect(await codeOf(s.replaceIfMatch('checkpoint', text('y\n'), e))).toBe('STORAGE_PRECONDITION');
    expect(await s.read('checkpoint')).toBeNull();
  });

  test('overwrite replaces; delete removes and tolerates absence', async () => {
    const s = await make();
    await s.overwrite('checkpoint', bytes(1));
    await s.overwrite('checkpoint', bytes(2, 2));
    expect(await s.read('checkpoint')).toEqual(bytes(2, 2));
    await s.delete('checkpoint');
    await s.delete('checkpoint');
    expect(await s.read('checkpoint')).toBeNull();
    await s.delete('tile/entries/x001/000');
  });

  test('description names where the tree lives', async () => {
    const s = await make();
    expect(s.description).toMatch(/^(an in-memory tile store|the tiles directory \/.+|the bucket s3:\/\/tilelog-test\/t\d+\/log)$/);
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
    '.tilelog/probe-1',
    'tile/entries/000/../../x',
    '',
  ])('refuses the non-public path %j', async (p) => {
    const s = await make();
    const ops = [
      () => s.read(p),
      () => s.readWithEtag(p),
      () => s.createIdempotent(p, bytes(1)),
      () => s.overwrite(p, bytes(1)),
      () => s.replaceIfMatch(p, bytes(1), null),
      () => s.delete(p),
    ];
    for (const op of ops) expect(await codeOf(op())).toBe('LAYOUT_BAD_PATH');
  });
});
