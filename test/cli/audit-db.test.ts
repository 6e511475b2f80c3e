// RootAccumulator (audit-db.ts): the RFC 6962 root of the first `size` leaves
// fed in chunks, against the recursive reference tree: every size up to 300
// fed 7 at a time, and the sizes around tile edges fed 1 and 256 (a bundle)
// at a time; leaves past `size` are ignored.
import { describe, expect, it } from 'vitest';
import { RootAccumulator } from '../../src/cli/audit-db.js';
import { hashEqual } from '../../src/merkle/index.js';
import { makeLeaves, RefTree } from '../merkle/helpers.js';

describe('RootAccumulator', () => {
  const leaves = makeLeaves(600);
  const ref = new RefTree(leaves);
  const cases: [number, number[]][] = [
    [7, Array.from({ length: 300 }, (_, i) => i + 1)],
    [1, [1, 2, 3, 255, 256, 257, 511, 512, 513, 600]],
    [256, [1, 2, 3, 255, 256, 257, 511, 512, 513, 600]],
  ];
  for (const [chunk, sizes] of cases) {
    it(`equals the reference root at ${sizes.length} sizes, fed ${chunk} at a time`, () => {
      for (const size of sizes) {
        const acc = new RootAccumulator(size, ref.root(size));
        for (let i = 0; i < 600; i += chunk) acc.add(leaves.slice(i, i + chunk));
        const root = acc.root();
        expect(root !== null && hashEqual(root, acc.expected), `size ${size}`).toBe(true);
      }
    });
  }

  it('has no root before size leaves came in', () => {
    const acc = new RootAccumulator(5, ref.root(5));
    acc.add(leaves.slice(0, 4));
    expect(acc.root()).toBeNull();
  });
});
