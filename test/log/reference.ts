// A naive recursive RFC 6962 MTH, independent of the engine, for tests.
import { createHash } from 'node:crypto';

const sha = (...parts: Uint8Array[]): Uint8Array => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};

export const refLeaf = (e: Uint8Array): Uint8Array => sha(new Uint8Array([0]), e);

// MTH(D[lo:hi]) over leaf hashes; split at the largest power of two < n.
export function refRoot(leaves: readonly Uint8Array[], lo = 0, hi = leaves.length): Uint8Array {
  const n = hi - lo;
  if (n === 0) return sha();
  if (n === 1) return leaves[lo]!;
  let k = 1;
  while (k * 2 < n) k *= 2;
  return sha(new Uint8Array([1]), refRoot(leaves, lo, lo + k), refRoot(leaves, lo + k, hi));
}
