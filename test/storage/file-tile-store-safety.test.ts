// FileTileStore never writes or deletes through a symlink planted in its
// tree, resolves a symlinked root once, and creates its tree with exact modes
// (directories 0755, files 0644) whatever the umask; openFileLog makes the
// state directory 0700 and writeKeyFile keys 0600 likewise.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { writeKeyFile } from '../../src/cli/key-file.js';
import { isTilelogError } from '../../src/errors.js';
import { openFileLog } from '../../src/log/index.js';
import { FileTileStore } from '../../src/storage/file-tile-store.js';
import { ORIGIN, quietLogger, tempDir, testKey, testSigner, utf8 } from '../log/helpers.js';

let tmp: ReturnType<typeof tempDir>;
let root: string;
let outside: string;
beforeEach(() => {
  tmp = tempDir('tilelog-store-safety-');
  root = path.join(tmp.dir, 'tiles');
  outside = path.join(tmp.dir, 'outside');
  fs.mkdirSync(root);
  fs.mkdirSync(outside);
});
afterEach(() => tmp.cleanup());

const bytes = (...b: number[]) => new Uint8Array(b);
const mode = (p: string) => fs.statSync(p).mode & 0o777;

async function unsafe(op: Promise<unknown>): Promise<void> {
  const err = await op.then(() => null, (e: unknown) => e);
  expect(isTilelogError(err, 'STORAGE_UNSAFE_PATH'), String(err)).toBe(true);
  expect((err as Error).message).toMatch(/remove the symlink/);
}

describe('FileTileStore writes stay inside the real tree', () => {
  test('a symlinked directory (tile/entries -> outside): writes and deletes are refused, nothing lands outside', async () => {
    fs.mkdirSync(path.join(root, 'tile'));
    fs.symlinkSync(outside, path.join(root, 'tile/entries'));
    fs.mkdirSync(path.join(outside, '000.p'));
    fs.writeFileSync(path.join(outside, '000.p/1'), 'keep me');
    const s = new FileTileStore(root);
    await unsafe(s.createIdempotent('tile/entries/000.p/2', bytes(1)));
    await unsafe(s.overwrite('tile/entries/001', bytes(1)));
    await unsafe(s.delete('tile/entries/000.p/1'));
    expect(fs.readdirSync(outside).sort()).toEqual(['000.p']);
    expect(fs.readdirSync(path.join(outside, '000.p'))).toEqual(['1']);
  });

  test('a symlink planted one level deeper, after the directory was first used, is caught on the next write', async () => {
    const s = new FileTileStore(root);
    await s.createIdempotent('tile/0/x001/000', bytes(1));
    fs.renameSync(path.join(root, 'tile/0/x001'), path.join(outside, 'x001'));
    fs.symlinkSync(path.join(outside, 'x001'), path.join(root, 'tile/0/x001'));
    await unsafe(s.createIdempotent('tile/0/x001/001', bytes(2)));
    expect(fs.readdirSync(path.join(outside, 'x001'))).toEqual(['000']);
  });

  test('a symlinked file is replaced by a real file on write, its target untouched', async () => {
    fs.writeFileSync(path.join(outside, 'target'), 'outside');
    fs.symlinkSync(path.join(outside, 'target'), path.join(root, 'checkpoint'));
    const s = new FileTileStore(root);
    await s.overwrite('checkpoint', utf8('ours\n'));
    expect(fs.lstatSync(path.join(root, 'checkpoint')).isSymbolicLink()).toBe(false);
    expect(fs.readFileSync(path.join(outside, 'target'), 'utf8')).toBe('outside');
  });

  test('the root itself may be a symlink (the operator chose it): resolved once, served and written', async () => {
    const link = path.join(tmp.dir, 'tiles-link');
    fs.symlinkSync(root, link);
    const s = new FileTileStore(link);
    expect(s.root).toBe(fs.realpathSync(root));
    await s.createIdempotent('tile/entries/000.p/1', bytes(0, 1, 7));
    expect(await s.read('tile/entries/000.p/1')).toEqual(bytes(0, 1, 7));
    expect(fs.existsSync(path.join(root, 'tile/entries/000.p/1'))).toBe(true);
  });

  test('a unix socket or a directory planted as a tile reads as absent (refused), not an error', async () => {
    fs.mkdirSync(path.join(root, 'tile/entries/x900/006'), { recursive: true });
    const sock = net.createServer();
    await new Promise<void>((resolve) => sock.listen(path.join(root, 'tile/entries/x900/005'), resolve));
    try {
      const s = new FileTileStore(root);
      expect(await s.read('tile/entries/x900/005')).toBeNull();
      expect(await s.read('tile/entries/x900/006')).toBeNull();
      expect(s.refusedReads).toBe(2);
    } finally {
      await new Promise((resolve) => sock.close(resolve));
    }
  });

  test('reads below a symlinked tile/ directory are refused and counted', async () => {
    fs.mkdirSync(path.join(outside, '0'));
    fs.writeFileSync(path.join(outside, '0/000'), 'x');
    fs.symlinkSync(outside, path.join(root, 'tile'));
    const seen: string[] = [];
    const s = new FileTileStore(root, { onRefused: (p, why) => seen.push(`${p}: ${why}`) });
    expect(await s.read('tile/0/000')).toBeNull();
    expect(s.refusedReads).toBe(1);
    expect(seen[0]).toMatch(/^tile\/0\/000: reached through a symlink/);
  });
});

describe.each([0o077, 0o000])('modes under umask %o', (umask) => {
  let saved: number;
  beforeAll(() => {
    saved = process.umask(umask);
  });
  afterAll(() => {
    process.umask(saved);
  });

  test('the log: state 0700, tiles directories 0755, tiles 0644, key 0600', async () => {
    const stateDir = path.join(tmp.dir, 'new/state');
    const tilesDir = path.join(tmp.dir, 'pub/tiles');
    const log = await openFileLog({ origin: ORIGIN, signer: testSigner, stateDir, tilesDir, logger: quietLogger });
    try {
      await log.waitForCheckpoint((await log.add(utf8('hello'))).index);
    } finally {
      await log.close();
    }
    writeKeyFile(path.join(stateDir, 'log.key'), testKey.signerKey, false);
    expect(mode(stateDir).toString(8)).toBe('700');
    expect(mode(path.join(stateDir, 'log.key')).toString(8)).toBe('600');
    for (const d of [path.join(tmp.dir, 'pub'), tilesDir, path.join(tilesDir, 'tile'), path.join(tilesDir, 'tile/0'), path.join(tilesDir, 'tile/entries')]) {
      expect(mode(d).toString(8), d).toBe('755');
    }
    for (const f of ['checkpoint', 'tile/0/000.p/1', 'tile/entries/000.p/1']) {
      expect(mode(path.join(tilesDir, f)).toString(8), f).toBe('644');
    }
  });
});
