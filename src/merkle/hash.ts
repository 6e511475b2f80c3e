// RFC 6962 §2.1 hashing: leaf = H(0x00 || entry), node = H(0x01 || left || right),
// with H = SHA-256. The SHA-256 implementation is injectable so the engine can
// use node:crypto while this module stays free of node: imports.

import { sha256 } from '@noble/hashes/sha2.js';
import { TilelogError } from '../errors.js';
import { sha256NodeInto } from './sha256-node.js';

/** A 32-byte SHA-256 output. */
export type Hash = Uint8Array;

/** Size in bytes of every hash in the tree. */
export const HASH_SIZE = 32;

/** A one-shot SHA-256: returns the 32-byte digest of data. Must not keep data. */
export type Sha256 = (data: Uint8Array) => Uint8Array;

/** The RFC 6962 leaf and interior-node hash functions. */
export interface Hasher {
  /** H(0x00 || entry). */
  leaf(entry: Uint8Array): Hash;
  /** H(0x01 || left || right); left and right are 32 bytes. */
  node(left: Hash, right: Hash): Hash;
  /**
   * dst[dstAt, +32) = H(0x01 || src[at, at + 64)): node() of two children
   * stored side by side (a tile), written in place, without a view per child
   * or a digest object. Optional; nodeInto falls back to node().
   */
  adjacentInto?(src: Uint8Array, at: number, dst: Uint8Array, dstAt: number): void;
}

/** SHA-256 from @noble/hashes (pure JS, works in browsers). */
export const nobleSha256: Sha256 = (data) => sha256(data);

// makeHasher(sha256) builds the RFC 6962 hasher on a SHA-256 function.
// One scratch buffer is reused per hasher: node() copies 65 bytes into it and
// leaf() copies 1 + |entry| bytes, so hashing allocates only the digest. This is
// safe because sha256 is synchronous and does not keep its input. nodeInto,
// when given, serves adjacentInto() (sha256-node.ts's sha256NodeInto: the same
// bytes, no digest object); a hasher built on a custom sha256 (one that counts
// calls, say) leaves it out, and adjacentInto() goes through sha256.
export function makeHasher(hash: Sha256, nodeInto?: NonNullable<Hasher['adjacentInto']>): Hasher {
  const nodeBuf = new Uint8Array(1 + 2 * HASH_SIZE);
  nodeBuf[0] = 0x01;
  let leafBuf = new Uint8Array(1 + 256);
  return {
    leaf(entry: Uint8Array): Hash {
      if (leafBuf.length < 1 + entry.length) {
        leafBuf = new Uint8Array(Math.max(1 + entry.length, 2 * leafBuf.length));
      }
      leafBuf[0] = 0x00;
      leafBuf.set(entry, 1);
      return hash(leafBuf.subarray(0, 1 + entry.length));
    },
    node(left: Hash, right: Hash): Hash {
      if (left.length !== HASH_SIZE || right.length !== HASH_SIZE) {
        throw new TilelogError('MERKLE_BAD_HASH', 'merkle: node children must be 32-byte hashes');
      }
      nodeBuf.set(left, 1);
      nodeBuf.set(right, 1 + HASH_SIZE);
      return hash(nodeBuf);
    },
    adjacentInto:
      nodeInto ??
      ((src: Uint8Array, at: number, dst: Uint8Array, dstAt: number): void => {
        if (!(at >= 0 && at + 2 * HASH_SIZE <= src.length)) throw new RangeError(`merkle: bad math: adjacentInto(${at}) on ${src.length} bytes`);
        // A byte loop: cheaper than the subarray view set() needs.
        for (let j = 0; j < 2 * HASH_SIZE; j++) nodeBuf[1 + j] = src[at + j]!;
        dst.set(hash(nodeBuf), dstAt);
      }),
  };
}

/** dst[dstAt, +32) = H(0x01 || src[at, at + 64)), through hasher.adjacentInto when it has one. */
export function nodeInto(hasher: Hasher, src: Uint8Array, at: number, dst: Uint8Array, dstAt: number): void {
  if (hasher.adjacentInto !== undefined) return hasher.adjacentInto(src, at, dst, dstAt);
  dst.set(hasher.node(src.subarray(at, at + HASH_SIZE), src.subarray(at + HASH_SIZE, at + 2 * HASH_SIZE)), dstAt);
}

/** The RFC 6962 hasher on @noble/hashes SHA-256. */
export const defaultHasher: Hasher = makeHasher(nobleSha256, sha256NodeInto);

/** leafHash(e) = H(0x00 || e). */
export function leafHash(entry: Uint8Array, hasher: Hasher = defaultHasher): Hash {
  return hasher.leaf(entry);
}

/** nodeHash(l, r) = H(0x01 || l || r). */
export function nodeHash(left: Hash, right: Hash, hasher: Hasher = defaultHasher): Hash {
  return hasher.node(left, right);
}

/** Root of the empty tree: H("") = e3b0c442…7852b855 (not the empty leaf's hash). Shared: never mutate it. */
export const EMPTY_ROOT: Hash = sha256(new Uint8Array(0));

// hashEqual(a, b): byte equality. Not constant-time; hashes here are public.
export function hashEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return false;
  }
  return true;
}

// Throws MERKLE_BAD_HASH unless h is a Uint8Array of exactly 32 bytes.
export function assertHash(name: string, h: Uint8Array): void {
  if (!(h instanceof Uint8Array)) {
    throw new TypeError(`merkle: ${name} must be a Uint8Array`);
  }
  if (h.length !== HASH_SIZE) {
    throw new TilelogError('MERKLE_BAD_HASH', `merkle: ${name} is ${h.length} bytes, want ${HASH_SIZE}`);
  }
}
