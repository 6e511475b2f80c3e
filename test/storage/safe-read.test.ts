// readInside and readInsideSync (safe-read.ts) give the same answer for every
// kind of file planted in a tree: regular files are read; a symlink (last
// component or any directory below the root), a FIFO, a socket or a directory
// is refused; a missing file is absent. FileTileStore reads full hash tiles
// through the synchronous one, so the same plants are checked through it.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { FileTileStore } from '../../src/storage/file-tile-store.js';
import { readInside, readInsideSync, realRoot, type SafeRead } from '../../src/storage/safe-read.js';
import { tempDir } from '../log/helpers.js';

const SECRET = 'not for the public tree';
let tmp: ReturnType<typeof tempDir>;
let root: string;
let sock: net.Server | null = null;

beforeEach(async () => {
  tmp = tempDir('tilelog-safe-read-');
  root = path.join(tmp.dir, 'tiles');
  const outside = path.join(tmp.dir, 'outside');
  fs.mkdirSync(path.join(root, 'tile/0/x001'), { recursive: true });
  fs.mkdirSync(path.join(outside, 'dir'), { recursive: true });
  fs.writeFileSync(path.join(outside, 'secret'), SECRET);
  fs.writeFileSync(path.join(outside, 'dir/002'), SECRET);
  fs.writeFileSync(path.join(root, 'tile/0/000'), new Uint8Array(8192).fill(7));
  fs.symlinkSync(path.join(outside, 'secret'), path.join(root, 'tile/0/001')); // the last component
  fs.symlinkSync(path.join(outside, 'dir'), path.join(root, 'tile/1')); // a directory on the way
  fs.symlinkSync('000', path.join(root, 'tile/0/003')); // a symlink that stays inside the tree
  execFileSync('mkfifo', [path.join(root, 'tile/0/004')]);
  fs.mkdirSync(path.join(root, 'tile/0/005'));
  sock = net.createServer();
  await new Promise<void>((resolve) => sock!.listen(path.join(root, 'tile/0/006'), resolve));
});
afterEach(async () => {
  await new Promise((resolve) => sock!.close(resolve));
  tmp.cleanup();
});

// The answer without the bytes (compared across both readers) and the bytes' length.
const shape = (r: SafeRead): string => (r.kind === 'file' ? `file ${r.data.length}` : r.kind === 'refused' ? `refused: ${r.reason.replace(/ \(it is .*\)/, '')}` : 'absent');

const CASES: [rel: string, want: string][] = [
  ['tile/0/000', 'file 8192'],
  ['tile/0/001', 'refused: a symlink'],
  ['tile/1/002', 'refused: reached through a symlink'],
  ['tile/0/003', 'refused: a symlink'],
  ['tile/0/004', 'refused: not a regular file'],
  ['tile/0/005', 'refused: not a regular file'],
  ['tile/0/006', 'refused: not a regular file (a socket)'],
  ['tile/0/007', 'absent'],
  ['tile/0/000/x', 'absent'],
  ['../outside/secret', 'refused: not a path inside the root'],
];

describe.each([
  ['readInside', (r: string, rel: string) => readInside(r, rel)],
  ['readInsideSync', (r: string, rel: string) => Promise.resolve(readInsideSync(r, rel))],
])('%s', (_name, read) => {
  test.each(CASES)('%s: %s', async (rel, want) => {
    expect(shape(await read(realRoot(root), rel))).toBe(want);
  });
});

test('FileTileStore: full hash tiles (read synchronously) are refused as other paths are, and counted', async () => {
  const seen: string[] = [];
  const s = new FileTileStore(root, { onRefused: (p, why) => seen.push(`${p}: ${why}`) });
  expect(await s.read('tile/0/000')).toEqual(new Uint8Array(8192).fill(7));
  for (const p of ['tile/0/001', 'tile/1/002', 'tile/0/003', 'tile/0/004', 'tile/0/005', 'tile/0/006']) expect(await s.read(p)).toBeNull();
  expect(await s.read('tile/0/007')).toBeNull();
  expect(s.refusedReads).toBe(6);
  expect(seen.join('\n')).not.toContain(SECRET);
  expect(seen[1]).toMatch(/^tile\/1\/002: reached through a symlink/);
});
