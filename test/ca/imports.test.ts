// tilelog/ca (src/ca/index.ts) must run in browsers, like tilelog/client:
// everything it reaches imports no node: module and no Node built-in, only
// @noble/* and cbor-x, uses no Node global (Buffer, process), and reaches
// none of the CA's server side.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { builtinModules } from 'node:module';
import { describe, expect, it } from 'vitest';
import { BROWSER_SAFE_PACKAGES, nodeGlobalsUsed, SRC, walkImports } from '../import-graph.js';

describe('tilelog/ca import graph', () => {
  it('reaches only browser-safe modules, no Node globals and no server code', () => {
    const { files, bare } = walkImports(path.join(SRC, 'ca/index.ts'));
    for (const f of files) expect(fs.existsSync(f), f).toBe(true);
    for (const [s, from] of bare) {
      expect(s.startsWith('node:') || builtinModules.includes(s), `${from} imports ${s}`).toBe(false);
      expect(BROWSER_SAFE_PACKAGES.some((re) => re.test(s)), `${from} imports ${s}`).toBe(true);
    }
    expect(nodeGlobalsUsed(files)).toEqual([]);
    const rel = [...files].map((f) => path.relative(SRC, f));
    expect(rel).toContain('ca/verify-offline.ts');
    expect(rel.filter((f) => f.startsWith('ca/')).sort()).toEqual(['ca/index.ts', 'ca/verify-offline.ts']);
    expect(rel.some((f) => /^(log|storage|http|cli|registry\/http)\//.test(f) || f === 'registry/registry.ts')).toBe(false);
  });

  it('the globals check sees code and skips comments and strings (self-check)', () => {
    const dir = fs.mkdtempSync(path.join(SRC, '../.tmp-globals-'));
    try {
      const f = path.join(dir, 'x.ts');
      fs.writeFileSync(f, "// Buffer.from in a comment\nconst s = 'process.env';\nconst b = Buffer.from(s);\n");
      expect(nodeGlobalsUsed([f]).map((x) => x.split(': ')[1])).toEqual(['Buffer']);
      fs.writeFileSync(f, "/* process.exit() */ const t = `require(x)`; export const y = obj.process;\n");
      expect(nodeGlobalsUsed([f])).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('package.json exports it as tilelog/ca', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(SRC, '../package.json'), 'utf8')) as { exports: Record<string, string> };
    expect(pkg.exports['./ca']).toBe('./dist/ca/index.js');
  });
});
