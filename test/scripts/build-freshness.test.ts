// `npm start` builds only when dist/ is missing or older than a source
// (scripts/build-freshness.mjs), so `npm ci && npm start` builds once.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BUILD_INPUTS, BUILD_OUTPUTS, buildIsStale } from '../../scripts/build-freshness.mjs';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A tree with every input and output, each input at t=1000 s and each output at t=2000 s. */
function tree(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tilelog-fresh-'));
  dirs.push(root);
  const put = (rel: string, t: number) => {
    const f = path.join(root, rel);
    fs.mkdirSync(path.dirname(f), { recursive: true });
    fs.writeFileSync(f, '');
    fs.utimesSync(f, t, t);
  };
  put('src/cli/main.ts', 1000);
  put('src/explorer/main.ts', 1000);
  for (const i of BUILD_INPUTS.filter((i) => i !== 'src')) put(i, 1000);
  for (const d of ['src/cli', 'src/explorer', 'src']) fs.utimesSync(path.join(root, d), 1000, 1000);
  for (const o of BUILD_OUTPUTS) put(o, 2000);
  return root;
}

const touch = (root: string, rel: string, t: number) => fs.utimesSync(path.join(root, rel), t, t);

describe('build freshness (npm start)', () => {
  it('a build newer than every source is fresh', () => {
    expect(buildIsStale(tree())).toBe(false);
  });

  it('no dist/, or a missing output, is stale', () => {
    const root = tree();
    fs.rmSync(path.join(root, BUILD_OUTPUTS[1]!));
    expect(buildIsStale(root)).toBe(true);
    fs.rmSync(path.join(root, 'dist'), { recursive: true });
    expect(buildIsStale(root)).toBe(true);
  });

  it('a source edited after the build, deep in src/ or a config file, is stale', () => {
    const root = tree();
    touch(root, 'src/explorer/main.ts', 3000);
    expect(buildIsStale(root)).toBe(true);
    const other = tree();
    touch(other, 'tsconfig.build.json', 3000);
    expect(buildIsStale(other)).toBe(true);
  });

  it('an output older than a source (a build that stopped halfway) is stale', () => {
    const root = tree();
    touch(root, BUILD_OUTPUTS[1]!, 500);
    expect(buildIsStale(root)).toBe(true);
  });
});
