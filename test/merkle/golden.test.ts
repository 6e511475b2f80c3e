// The golden 70,000-entry log: TreeEdge + encodeBundle must reproduce every
// tile and bundle under vectors/tree/tile byte for byte, and the checkpoint roots.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Hasher } from '../../src/merkle/index.js';
import { ENTRIES_LEVEL, TreeEdge, encodeBundle, tilePath, toHex } from '../../src/merkle/index.js';
import { checkpointRoot, hashers, listFiles, loadEntries, vectorsDir } from './helpers.js';

const CHECKPOINT_SIZES = [1, 2, 3, 255, 256, 257, 1000, 65535, 65536, 70000];

function buildGolden(hasher: Hasher): { files: Map<string, Uint8Array>; roots: Map<number, Uint8Array> } {
  const entries = loadEntries();
  const files = new Map<string, Uint8Array>();
  const roots = new Map<number, Uint8Array>();
  const edge = TreeEdge.empty();
  for (const size of CHECKPOINT_SIZES) {
    const from = edge.size;
    const writes = edge.append(entries.slice(from, size).map((e) => hasher.leaf(e)), hasher);
    for (const w of writes) {
      const p = tilePath(w.tile);
      expect(files.has(p), `tile ${p} written twice`).toBe(false);
      files.set(p, w.data);
      if (w.tile.level === 0) {
        const start = w.tile.index * 256;
        const bundle = encodeBundle(entries.slice(start, start + w.tile.width));
        files.set(tilePath({ ...w.tile, level: ENTRIES_LEVEL }), bundle);
      }
    }
    roots.set(size, edge.root(hasher));
  }
  return { files, roots };
}

describe('golden 70,000-entry log', () => {
  const expected = listFiles(path.join(vectorsDir, 'tree', 'tile')).map((p) => `tile/${p}`);

  it.each(hashers)('TreeEdge + encodeBundle reproduce every tile and bundle (%s)', (_name, hasher) => {
    const { files, roots } = buildGolden(hasher);
    expect([...files.keys()].sort()).toEqual(expected);
    for (const p of expected) {
      const want = readFileSync(path.join(vectorsDir, 'tree', p));
      const got = files.get(p)!;
      expect(got.length, p).toBe(want.length);
      expect(Buffer.compare(Buffer.from(got), want), p).toBe(0);
    }
    for (const size of CHECKPOINT_SIZES) {
      const cp = checkpointRoot(size);
      expect(cp.size).toBe(size);
      expect(toHex(roots.get(size)!), `root at ${size}`).toBe(toHex(cp.root));
    }
  });
});
