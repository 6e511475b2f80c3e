// The SDK must run in browsers: src/client/** and everything it imports,
// transitively, import no node: module and no Node built-in, and only the
// browser-safe packages @noble/* and cbor-x.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { builtinModules } from 'node:module';
import { describe, expect, it } from 'vitest';
import { BROWSER_SAFE_PACKAGES, nodeGlobalsUsed, SRC, walkImports } from '../import-graph.js';

describe('src/client import graph', () => {
  it('reaches only browser-safe modules', () => {
    const entries = fs.readdirSync(path.join(SRC, 'client')).filter((f) => f.endsWith('.ts')).map((f) => path.join(SRC, 'client', f));
    for (const entry of entries) {
      const { files, bare } = walkImports(entry);
      for (const f of files) expect(fs.existsSync(f), f).toBe(true);
      for (const [s, from] of bare) {
        expect(s.startsWith('node:'), `${from} imports ${s}`).toBe(false);
        expect(builtinModules.includes(s), `${from} imports the Node built-in ${s}`).toBe(false);
        expect(BROWSER_SAFE_PACKAGES.some((re) => re.test(s)), `${from} imports ${s}`).toBe(true);
      }
    }
    const all = walkImports(path.join(SRC, 'client/index.ts'));
    expect(nodeGlobalsUsed(all.files)).toEqual([]); // no Buffer, process, require either
    // It does reach merkle and note (reused, not rewritten), and never log, storage, http or cli.
    const dirs = new Set([...all.files].map((f) => path.relative(SRC, f).split(path.sep)[0]));
    expect([...dirs].sort()).toEqual(['client', 'errors.ts', 'lru-map.ts', 'merkle', 'note']);
  });

  it('the walker sees imports (self-check)', () => {
    expect([...walkImports(path.join(SRC, 'client/tile-client.ts')).files]).toContain(path.join(SRC, 'merkle/tilehash.ts'));
    expect([...walkImports(path.join(SRC, 'cli/common.ts')).bare.keys()]).toContain('node:util');
  });
});
