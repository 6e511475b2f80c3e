// The test suite stands on its own: no test or helper names a path outside
// the repository. Every `new URL('<relative>', import.meta.url)` and every
// `path.resolve(repoRoot, '<relative>')` must land inside the repository. The
// golden vectors the tests need are copied into test/golden/.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function testSources(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'golden' && e.name !== 'node_modules') out.push(...testSources(full));
    } else if (/\.(ts|mjs|js|sh)$/.test(e.name)) {
      out.push(full);
    }
  }
  return out;
}

/** Paths a test source reaches, resolved: URL-relative and repoRoot-relative literals. */
export function reachedPaths(file: string, text: string): string[] {
  const reached: string[] = [];
  for (const m of text.matchAll(/new URL\(\s*(['"`])([^'"`]+)\1\s*,\s*import\.meta\.url\s*\)/g)) {
    reached.push(path.resolve(path.dirname(file), m[2]!));
  }
  for (const m of text.matchAll(/path\.(?:resolve|join)\(\s*repoRoot\s*,\s*(['"`])([^'"`]+)\1/g)) {
    reached.push(path.resolve(repoRoot, m[2]!));
  }
  return reached;
}

describe('the test suite reads nothing outside the repository', () => {
  // This file quotes a climbing path on purpose (the guard's own check).
  const files = testSources(path.join(repoRoot, 'test')).filter((f) => f !== fileURLToPath(import.meta.url));

  it('finds the test sources', () => {
    expect(files.length).toBeGreaterThan(50);
  });

  it('every relative path a test names resolves inside the repository', () => {
    const outside: string[] = [];
    for (const f of files) {
      for (const p of reachedPaths(f, fs.readFileSync(f, 'utf8'))) {
        if (p !== repoRoot && !p.startsWith(repoRoot + path.sep)) outside.push(`${path.relative(repoRoot, f)} -> ${p}`);
      }
    }
    expect(outside).toEqual([]);
  });

  it('the guard itself catches a path that climbs out', () => {
    const f = path.join(repoRoot, 'test', 'x', 'y.ts');
    const [p] = reachedPaths(f, "new URL('../../../elsewhere/vectors/', import.meta.url)");
    expect(p!.startsWith(repoRoot + path.sep)).toBe(false);
  });

  it('the golden vectors are in the repository', () => {
    const golden = path.join(repoRoot, 'test', 'golden');
    expect(fs.readFileSync(path.join(golden, 'entries.b64'), 'utf8').trimEnd().split('\n')).toHaveLength(70_000);
    expect(fs.existsSync(path.join(golden, 'tree', 'checkpoint'))).toBe(true);
  });
});
