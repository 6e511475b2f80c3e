// The inclusion proof as the steps RFC 9162 §2.1.3.2 takes, for display:
// the leaf hash, then for each proof hash which side it goes on and the
// node hash it yields, and the root that results. The verdict comes from
// the SDK's verifyBundle; this trace shows the work, using the same walk
// as src/merkle/verify.ts rootFromInclusionProof (fn, sn halve per level).

import { nodeHash, type Hash } from '../merkle/hash.js';
import { inclusionProofLength } from '../merkle/verify.js';

export interface InclusionStep {
  /** The proof hash. */
  sibling: Hash;
  /** Where the sibling goes: "left" means node(sibling, acc). */
  side: 'left' | 'right';
  /** SHA-256(0x01 || left || right). */
  result: Hash;
}

export interface InclusionTrace {
  steps: InclusionStep[];
  /** The root the proof implies, or null when the walk could not finish. */
  root: Hash | null;
  /** The proof length RFC 9162 requires for (index, size), or null when index >= size. */
  expectedLength: number | null;
  /** Why the walk stopped early (wrong length, index out of range), if it did. */
  problem: string | null;
}

const half = (x: number): number => Math.floor(x / 2);
const isOdd = (x: number): boolean => x % 2 === 1;

export function traceInclusion(index: number, size: number, leaf: Hash, proof: readonly Hash[]): InclusionTrace {
  if (!(index < size)) return { steps: [], root: null, expectedLength: null, problem: `index ${index} is not below the tree size ${size}` };
  const expectedLength = inclusionProofLength(index, size);
  const steps: InclusionStep[] = [];
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return { steps, root: null, expectedLength, problem: `the proof has ${proof.length} hashes, ${expectedLength} expected (too long)` };
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(p, r);
      steps.push({ sibling: p, side: 'left', result: r });
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = nodeHash(r, p);
      steps.push({ sibling: p, side: 'right', result: r });
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) return { steps, root: null, expectedLength, problem: `the proof has ${proof.length} hashes, ${expectedLength} expected (too short)` };
  return { steps, root: r, expectedLength, problem: null };
}
