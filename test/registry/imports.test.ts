// tilelog/registry (src/registry/index.ts) must run in browsers, like
// tilelog/client: everything it reaches imports no node: module, no Node
// built-in, and only @noble/* and cbor-x; and none of the server side.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { builtinModules } from 'node:module';
import { describe, expect, it } from 'vitest';
import { BROWSER_SAFE_PACKAGES, nodeGlobalsUsed, SRC, walkImports } from '../import-graph.js';

describe('tilelog/registry import graph', () => {
  it('reaches only browser-safe modules and no server code', () => {
    const { files, bare } = walkImports(path.join(SRC, 'registry/index.ts'));
    for (const [s, from] of bare) {
      expect(s.startsWith('node:') || builtinModules.includes(s), `${from} imports ${s}`).toBe(false);
      expect(BROWSER_SAFE_PACKAGES.some((re) => re.test(s)), `${from} imports ${s}`).toBe(true);
    }
    expect(nodeGlobalsUsed(files)).toEqual([]); // no Buffer, process, require either
    const rel = [...files].map((f) => path.relative(SRC, f));
    for (const server of ['registry/registry.ts', 'registry/state-index.ts', 'registry/dns.ts', 'registry/dns-wire.ts', 'registry/ans-lookup.ts']) expect(rel).not.toContain(server);
    expect(rel.some((f) => f.startsWith('registry/http/') || f.startsWith('log/') || f.startsWith('storage/') || f.startsWith('cli/'))).toBe(false);
  });

  it('package.json exports it as tilelog/registry', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(SRC, '../package.json'), 'utf8')) as { exports: Record<string, string> };
    expect(pkg.exports['./registry']).toBe('./dist/registry/index.js');
  });
});
