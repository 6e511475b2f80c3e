// tilelog/client: the verifier SDK. Browser-safe (no node: imports; hashing
// and signatures from @noble/*, CBOR from cbor-x), named exports only and no
// side effects at import, so bundlers keep just what is used.
//
//   trustPolicy()          pin the log key, witnesses and quorum, freshness
//   verifyCheckpoint()     log signature, cosignature quorum, timestamps, age
//   verifyInclusion/Consistency()  proofs against verified checkpoints
//   encode/decodeBundle*() the proof bundle of spec/BUNDLE.md, JSON and CBOR
//   verifyBundle()         the whole offline check of one bundle
//   TileClient             proofs built from tiles, trusting only the keys

export type { ClientErrorCode } from './errors.js';
export { CLIENT_STEPS, ClientError, InconsistencyError, isClientError } from './errors.js';
export type { TrustPolicy, TrustPolicyInput } from './policy.js';
export { DEFAULT_MAX_FUTURE_SKEW_SECONDS, trustPolicy } from './policy.js';
export type { Cosigner, VerifiedCheckpoint } from './checkpoint.js';
export { verifyCheckpoint } from './checkpoint.js';
export type { Leaf } from './proofs.js';
export { verifyConsistency, verifyInclusion } from './proofs.js';
export type { ProofBundle } from './bundle.js';
export { BUNDLE_VERSION, MAX_BUNDLE_BYTES, decodeBundleJson, encodeBundleJson } from './bundle.js';
export { decodeBundle, decodeBundleCbor, encodeBundleCbor } from './bundle-cbor.js';
export type { BundleVerification } from './verify.js';
export { verifyBundle } from './verify.js';
export type { FetchLike, TileClientOptions } from './tile-client.js';
export { DEFAULT_TILE_CACHE_SIZE, TileClient } from './tile-client.js';
