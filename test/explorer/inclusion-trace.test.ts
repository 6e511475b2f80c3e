// The page's step-by-step inclusion walk must agree with the verifier it
// illustrates: for every index of trees up to 40 leaves, its root is
// rootFromInclusionProof's, and a wrong length is reported, not walked past.
import { describe, expect, it } from 'vitest';
import { traceInclusion } from '../../src/explorer/inclusion-trace.js';
import { hashEqual, leafHash, nodeHash, rootFromInclusionProof, type Hash } from '../../src/merkle/index.js';

// RFC 6962 reference tree and audit path.
function mth(leaves: Hash[]): Hash {
  if (leaves.length === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return nodeHash(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}
function path(m: number, leaves: Hash[]): Hash[] {
  if (leaves.length === 1) return [];
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return m < k ? [...path(m, leaves.slice(0, k)), mth(leaves.slice(k))] : [...path(m - k, leaves.slice(k)), mth(leaves.slice(0, k))];
}

describe('traceInclusion', () => {
  it('yields the verifier\'s root and one step per proof hash, for every index of sizes 1..40', () => {
    const leaves = Array.from({ length: 40 }, (_, i) => leafHash(new Uint8Array([i])));
    for (let size = 1; size <= 40; size++) {
      const tree = leaves.slice(0, size);
      const root = mth(tree);
      for (let i = 0; i < size; i++) {
        const proof = path(i, tree);
        const t = traceInclusion(i, size, tree[i]!, proof);
        expect(t.problem).toBeNull();
        expect(t.steps).toHaveLength(proof.length);
        expect(t.expectedLength).toBe(proof.length);
        expect(hashEqual(t.root!, root)).toBe(true);
        expect(hashEqual(t.root!, rootFromInclusionProof(undefined, i, size, tree[i]!, proof))).toBe(true);
        if (proof.length > 0) expect(hashEqual(t.steps.at(-1)!.result, root)).toBe(true);
      }
    }
  });

  it('reports a proof that is too long or too short, and an index out of range', () => {
    const leaves = Array.from({ length: 5 }, (_, i) => leafHash(new Uint8Array([i])));
    const proof = path(2, leaves);
    expect(traceInclusion(2, 5, leaves[2]!, [...proof, proof[0]!]).problem).toMatch(/too long/);
    expect(traceInclusion(2, 5, leaves[2]!, proof.slice(1)).problem).toMatch(/too short/);
    expect(traceInclusion(5, 5, leaves[2]!, proof).problem).toMatch(/not below the tree size/);
  });

  it('a flipped proof byte changes the root', () => {
    const leaves = Array.from({ length: 9 }, (_, i) => leafHash(new Uint8Array([i])));
    const proof = path(4, leaves).map((h) => h.slice());
    proof[1]![0]! ^= 1;
    const t = traceInclusion(4, 9, leaves[4]!, proof);
    expect(hashEqual(t.root!, mth(leaves))).toBe(false);
  });
});
