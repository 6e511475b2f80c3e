// The state-directory lock (src/storage/state-lock.ts): one holder across
// processes and within one process, released by the kernel on SIGKILL.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { takeStateLock } from '../../src/storage/state-lock.js';
import { holdLockInChild, killHard } from './lock-child.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tilelog-lock-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('takeStateLock', () => {
  test('a second take in the same process is refused until the first is released', () => {
    const file = path.join(dir, 'x.lock');
    const first = takeStateLock(file);
    expect('release' in first).toBe(true);
    expect(takeStateLock(file)).toEqual({ heldBy: process.pid });
    expect(fs.readFileSync(`${file}.pid`, 'utf8')).toBe(`${process.pid}\n`);
    if ('release' in first) first.release();
    expect(fs.existsSync(`${file}.pid`)).toBe(false);
    const again = takeStateLock(file);
    expect('release' in again).toBe(true);
    if ('release' in again) again.release();
  });

  test('another process holds it: refused with its pid; after its SIGKILL it is free at once', async () => {
    const file = path.join(dir, 'x.lock');
    const child = await holdLockInChild(file);
    try {
      expect(takeStateLock(file)).toEqual({ heldBy: child.pid });
    } finally {
      await killHard(child);
    }
    // The pid file is left behind by the killed holder; the kernel lock is not.
    expect(fs.readFileSync(`${file}.pid`, 'utf8')).toBe(`${child.pid}\n`);
    const lock = takeStateLock(file);
    expect('release' in lock).toBe(true);
    if ('release' in lock) lock.release();
  });

  test('a pid file that names a live process does not fool it (pid reuse after a crash)', () => {
    const file = path.join(dir, 'x.lock');
    // Left by a crashed holder; the pid now belongs to someone else (here: us).
    fs.writeFileSync(`${file}.pid`, `${process.ppid}\n`);
    const lock = takeStateLock(file);
    expect('release' in lock).toBe(true);
    if ('release' in lock) lock.release();
  });

  test("an earlier version's pid-file lock: taken over when its process is gone, refused while it lives", () => {
    const file = path.join(dir, 'x.lock');
    fs.writeFileSync(file, '999999999\n');
    const lock = takeStateLock(file);
    expect('release' in lock).toBe(true);
    if ('release' in lock) lock.release();
    fs.rmSync(file);
    fs.writeFileSync(file, `${process.ppid}\n`);
    expect(takeStateLock(file)).toEqual({ heldBy: process.ppid });
  });
});
