// tilelog/registry (src/registry/index.ts) must run in browsers, like
// tilelog/client: everything it reaches imports no node: module, no Node
// built-in, and only @noble/* and cbor-x; and none of the server side.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const ALLOWED_PACKAGES = [/^@noble\//, /^cbor-x$/];
const IMPORT_RE = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g;

function walk(entry: string): { files: Set<string>; bare: Map<string, string> } {
  const files = new Set<string>();
  const bare = new Map<string, string>();
  const todo = [entry];
  while (todo.length > 0) {
    const f = todo.pop()!;
    if (files.has(f)) continue;
    files.add(f);
    for (const m of fs.readFileSync(f, 'utf8').matchAll(IMPORT_RE)) {
      const s = (m[1] ?? m[2] ?? m[3])!;
      if (s.startsWith('.')) todo.push(path.resolve(path.dirname(f), s).replace(/\.js$/, '.ts'));
      else bare.set(s, path.relative(SRC, f));
    }
  }
  return { files, bare };
}

describe('tilelog/registry import graph', () => {
  it('reaches only browser-safe modules and no server code', () => {
    const { files, bare } = walk(path.join(SRC, 'registry/index.ts'));
    for (const [s, from] of bare) {
      expect(s.startsWith('node:') || builtinModules.includes(s), `${from} imports ${s}`).toBe(false);
      expect(ALLOWED_PACKAGES.some((re) => re.test(s)), `${from} imports ${s}`).toBe(true);
    }
    const rel = [...files].map((f) => path.relative(SRC, f));
    for (const server of ['registry/registry.ts', 'registry/state-index.ts', 'registry/dns.ts', 'registry/dns-wire.ts', 'registry/ans-lookup.ts']) expect(rel).not.toContain(server);
    expect(rel.some((f) => f.startsWith('registry/http/') || f.startsWith('log/') || f.startsWith('storage/') || f.startsWith('cli/'))).toBe(false);
  });

  it('package.json exports it as tilelog/registry', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(SRC, '../package.json'), 'utf8')) as { exports: Record<string, string> };
    expect(pkg.exports['./registry']).toBe('./dist/registry/index.js');
  });
});
