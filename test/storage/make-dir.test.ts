// makeDirSync gives exactly `mode` to the directories it creates and never
// touches one that existed, whether the path is absolute or relative.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeDirSync } from '../../src/storage/make-dir.js';

const mode = (p: string) => fs.statSync(p).mode & 0o7777;
const cwd = process.cwd();
afterEach(() => process.chdir(cwd));

describe('makeDirSync', () => {
  it('creates every missing level with the mode and leaves existing ancestors alone (absolute path)', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tilelog-mkdir-'));
    fs.chmodSync(root, 0o711);
    makeDirSync(path.join(root, 'a', 'b'), 0o700);
    expect(mode(root)).toBe(0o711);
    expect(mode(path.join(root, 'a'))).toBe(0o700);
    expect(mode(path.join(root, 'a', 'b'))).toBe(0o700);
  });

  it('a relative path never changes the working directory or its parents', () => {
    // A relative name once made the mode loop compare absolute ancestors with
    // the relative name mkdir reported, so it chmodded every ancestor longer
    // than the name (the cwd, and for a one-letter name /tmp and /). The names
    // here are long enough that the old code would stop inside this test's
    // own directories, so checking it can fail touches nothing shared.
    const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'tilelog-mkdir-'));
    fs.chmodSync(parent, 0o711);
    const work = path.join(parent, 'w');
    fs.mkdirSync(work);
    fs.chmodSync(work, 0o751);
    process.chdir(work);
    makeDirSync('state-dir', 0o700);
    makeDirSync(path.join('tiles-dir', 'sub'), 0o755);
    expect(mode(work)).toBe(0o751);
    expect(mode(parent)).toBe(0o711);
    expect(mode(path.join(work, 'state-dir'))).toBe(0o700);
    expect(mode(path.join(work, 'tiles-dir'))).toBe(0o755);
    expect(mode(path.join(work, 'tiles-dir', 'sub'))).toBe(0o755);
  });
});
