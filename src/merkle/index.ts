// Public API of tilelog's pure Merkle-tree module: RFC 6962 hashing, Go
// sumdb stored-hash numbering, proofs and their verification, the C2SP
// tlog-tiles layout, entry bundles, the tree edge, and tile hash readers.
// No I/O and no node: imports, so clients can ship it to browsers.

export type { Hash, Hasher, Sha256 } from './hash.js';
export { EMPTY_ROOT, HASH_SIZE, assertHash, defaultHasher, hashEqual, leafHash, makeHasher, nobleSha256, nodeHash } from './hash.js';
export { fromBase64Strict, fromHex, toBase64, toHex } from './encoding.js';
export {
  MAX_INDEX,
  assertSafeIndex,
  bitLength,
  isPowerOfTwo,
  largestPowerOfTwoBelow,
  lowBits,
  popCount,
  shiftRight,
  trailingZeros,
  xor,
} from './math.js';
export { splitStoredHashIndex, storedHashCount, storedHashIndex } from './stored.js';
export type { StoredHashLocation, TileId } from './layout.js';
export {
  ENTRIES_LEVEL,
  MAX_ENTRY_SIZE,
  MAX_TILE_LEVEL,
  TILE_HEIGHT,
  TILE_WIDTH,
  assertTileId,
  compareTileIds,
  formatTileIndex,
  hashesAtLevel,
  newTiles,
  parseTileIndex,
  parseTilePath,
  partialTiles,
  partialWidth,
  tileForStoredHash,
  tilePath,
  tilesForSize,
  tileWidthAt,
} from './layout.js';
export { decodeBundle, encodeBundle } from './bundle.js';
export type { TileWrite } from './edge.js';
export { TreeEdge } from './edge.js';
export type { HashReader } from './tree.js';
export { treeHash, treeHashFromHashes, treeHashIndexes } from './tree.js';
export {
  consistencyProof,
  consistencyProofFromHashes,
  consistencyProofIndexes,
  inclusionProof,
  inclusionProofFromHashes,
  inclusionProofIndexes,
} from './proof.js';
export {
  consistencyProofLength,
  inclusionProofLength,
  rootFromInclusionProof,
  verifyConsistency,
  verifyInclusion,
} from './verify.js';
export type { TileReader } from './tilehash.js';
export { hashFromTile, tileHashReader, unauthenticatedTileHashReader } from './tilehash.js';
export type { TileSummarySource } from './tile-summary.js';
export { hashFromSummary, SUMMARY_BYTES, summaryRoot, tileSummary } from './tile-summary.js';
