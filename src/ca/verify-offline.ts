// verifyCertEntry: the offline check of a certificate entry's proof bundle
// (the `bundle` of an issuance answer, or `bundle` / `revocationBundle` of
// POST /v1/verify/cert). Browser-safe (exported as tilelog/ca; no Node
// globals either: test/ca/imports.test.ts).
//   1. verifyBundle: checkpoint signature, cosignature quorum, inclusion
//   2. the entry decodes canonically and is a certificate entry
//   3. a pinned submitter key signed it
//   4. optional: for cert.issued, its DER is exactly the certificate given

import { sha256 } from '@noble/hashes/sha2.js';
import { TilelogError } from '../errors.js';
import type { ProofBundle } from '../client/bundle.js';
import type { TrustPolicy, TrustPolicyInput } from '../client/policy.js';
import { verifyBundle, type BundleVerification } from '../client/verify.js';
import { fromBase64Strict } from '../merkle/encoding.js';
import { decodeEntry, isCertType, verifyEntrySignature, type Entry } from '../registry/entries/index.js';

export interface CertEntryPolicy {
  log: TrustPolicy | TrustPolicyInput;
  /** Submitter public keys by kid (GET /v1/registry), pinned out of band. */
  submitterKeys: Record<string, string | Uint8Array>;
}

export function verifyCertEntry(bundle: unknown, policy: CertEntryPolicy, o: { der?: Uint8Array; nowSeconds?: number } = {}): { entry: Entry; bundle: BundleVerification } {
  // A bundle in its JSON form (as answers carry it), as text, CBOR bytes, or a decoded ProofBundle.
  const decoded = bundle !== null && typeof bundle === 'object' && (bundle as { entry?: unknown }).entry instanceof Uint8Array;
  const input = typeof bundle === 'string' || bundle instanceof Uint8Array || decoded ? (bundle as ProofBundle | Uint8Array | string) : JSON.stringify(bundle);
  const b = verifyBundle(input, policy.log, o.nowSeconds);
  const entry = decodeEntry(b.entry);
  if (!isCertType(entry.type)) throw new TilelogError('REGISTRY_BAD_ENTRY', `verify: the bundle holds a ${entry.type} entry, not a certificate entry`);
  const key = policy.submitterKeys[entry.kid];
  if (key === undefined) throw new TilelogError('REGISTRY_SIGNATURE', `verify: entry signed by ${entry.kid}, which is not a pinned submitter key`);
  if (!verifyEntrySignature(entry, typeof key === 'string' ? fromBase64Strict(key, 32) : key)) {
    throw new TilelogError('REGISTRY_SIGNATURE', `verify: the entry signature does not verify with ${entry.kid}`);
  }
  if (o.der !== undefined) {
    if (entry.type !== 'cert.issued') throw new TilelogError('REGISTRY_BAD_ENTRY', 'verify: a DER was given but the entry is not cert.issued');
    if (!sameBytes(sha256(o.der), entry.body.sha256)) throw new TilelogError('REGISTRY_CONFLICT', 'verify: the logged certificate is not the one given');
  }
  return { entry, bundle: b };
}

/** a and b hold the same bytes (public values: no need for constant time). */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
