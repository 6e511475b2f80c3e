// verifyBundle: the offline check of a proof bundle against a trust policy.
//   1. decode (when given bytes or text)            CLIENT_BUNDLE_DECODE
//   2. verifyCheckpoint: log signature, cosignature
//      quorum, timestamps, age                      CLIENT_CHECKPOINT_*
//   3. the entry's leaf hash is at `index` of the
//      checkpoint's tree by the inclusion proof     CLIENT_BUNDLE_INCLUSION

import { leafHash, type Hash } from '../merkle/hash.js';
import { decodeBundle } from './bundle-cbor.js';
import type { ProofBundle } from './bundle.js';
import { verifyCheckpoint, type VerifiedCheckpoint } from './checkpoint.js';
import type { TrustPolicy, TrustPolicyInput } from './policy.js';
import { asTrustPolicy } from './policy.js';
import { verifyInclusion } from './proofs.js';

export interface BundleVerification {
  index: number;
  entry: Uint8Array;
  leafHash: Hash;
  checkpoint: VerifiedCheckpoint;
}

/**
 * Verifies a bundle (decoded, or JSON/CBOR bytes or JSON text) under a policy
 * at nowSeconds (default the clock). Returns what was proven, or throws a
 * ClientError whose code names the failed step.
 */
export function verifyBundle(
  bundle: ProofBundle | Uint8Array | string,
  policy: TrustPolicy | TrustPolicyInput,
  nowSeconds?: number,
): BundleVerification {
  const p = asTrustPolicy(policy);
  const b = typeof bundle === 'string' || bundle instanceof Uint8Array ? decodeBundle(bundle) : bundle;
  const checkpoint = verifyCheckpoint(b.checkpoint, p, nowSeconds);
  const lh = leafHash(b.entry);
  verifyInclusion(checkpoint, b.index, { leafHash: lh }, b.inclusionProof);
  return { index: b.index, entry: b.entry, leafHash: lh, checkpoint };
}
