// The SDK must run in browsers: src/client/** and everything it imports,
// transitively, import no node: module and no Node built-in, and only the
// browser-safe packages @noble/* and cbor-x.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const ALLOWED_PACKAGES = [/^@noble\//, /^cbor-x$/];
const IMPORT_RE = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g;

function specifiers(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  return [...text.matchAll(IMPORT_RE)].map((m) => (m[1] ?? m[2] ?? m[3])!);
}

/** Every file reached from the entry, and every bare specifier imported. */
function walk(entry: string): { files: Set<string>; bare: Map<string, string> } {
  const files = new Set<string>();
  const bare = new Map<string, string>();
  const todo = [entry];
  while (todo.length > 0) {
    const f = todo.pop()!;
    if (files.has(f)) continue;
    files.add(f);
    for (const s of specifiers(f)) {
      if (s.startsWith('.')) todo.push(path.resolve(path.dirname(f), s).replace(/\.js$/, '.ts'));
      else bare.set(s, path.relative(SRC, f));
    }
  }
  return { files, bare };
}

describe('src/client import graph', () => {
  it('reaches only browser-safe modules', () => {
    const entries = fs.readdirSync(path.join(SRC, 'client')).filter((f) => f.endsWith('.ts')).map((f) => path.join(SRC, 'client', f));
    for (const entry of entries) {
      const { files, bare } = walk(entry);
      for (const f of files) expect(fs.existsSync(f), f).toBe(true);
      for (const [s, from] of bare) {
        expect(s.startsWith('node:'), `${from} imports ${s}`).toBe(false);
        expect(builtinModules.includes(s), `${from} imports the Node built-in ${s}`).toBe(false);
        expect(ALLOWED_PACKAGES.some((re) => re.test(s)), `${from} imports ${s}`).toBe(true);
      }
    }
    const all = walk(path.join(SRC, 'client/index.ts'));
    // It does reach merkle and note (reused, not rewritten), and never log, storage, http or cli.
    const dirs = new Set([...all.files].map((f) => path.relative(SRC, f).split(path.sep)[0]));
    expect([...dirs].sort()).toEqual(['client', 'errors.ts', 'merkle', 'note']);
  });

  it('the walker sees imports (self-check)', () => {
    expect(specifiers(path.join(SRC, 'client/tile-client.ts'))).toContain('../merkle/tilehash.js');
    expect(specifiers(path.join(SRC, 'cli/common.ts'))).toContain('node:util');
  });
});
