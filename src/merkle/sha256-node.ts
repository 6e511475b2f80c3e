// sha256NodeInto: the RFC 6962 interior-node hash H(0x01 || left || right)
// of two children stored side by side, written straight into a destination:
// SHA-256 (FIPS 180-4) specialised to its one 65-byte message, in plain JS.
//
// Why not node:crypto: on this project's machines one crypto.hash call costs
// 1.3-2.5 µs, almost all of it per-call overhead (hashing 16 KiB in one call
// takes 19 µs, SHA-NI), plus about 260 bytes of garbage for its digest; this
// takes about 1 µs and allocates nothing, which matters where a proof hashes
// about 250 nodes out of one tile (tilehash.ts hashFromTile). Browser-safe.
//
// The message is 65 bytes, so it pads to exactly two 64-byte blocks:
//   block 1: 0x01, src[at, at + 63)
//   block 2: src[at + 63], 0x80, 54 zero bytes, the bit length 520 (big-endian 64-bit).
// Bounds: reads src[at, at + 64) and writes dst[dstAt, dstAt + 32) only after
// reading all of its input, so dst may overlap src (hashFromTile hashes in place).

const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be,
  0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa,
  0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85,
  0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3,
  0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f,
  0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const IV = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
/** Bit length of the message: 65 bytes. */
const MESSAGE_BITS = 65 * 8;

// Module scratch: the function is synchronous and never re-entered.
const W = new Int32Array(64);
const H = new Int32Array(8);

// compress: one SHA-256 block (W[0..16) filled) into the state H.
function compress(): void {
  for (let t = 16; t < 64; t++) {
    const w15 = W[t - 15]!;
    const w2 = W[t - 2]!;
    const s0 = ((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3);
    const s1 = ((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10);
    W[t] = (W[t - 16]! + s0 + W[t - 7]! + s1) | 0;
  }
  let a = H[0]!;
  let b = H[1]!;
  let c = H[2]!;
  let d = H[3]!;
  let e = H[4]!;
  let f = H[5]!;
  let g = H[6]!;
  let h = H[7]!;
  for (let t = 0; t < 64; t++) {
    const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + s1 + ((e & f) ^ (~e & g)) + K[t]! + W[t]!) | 0;
    const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  H[0] = (H[0]! + a) | 0;
  H[1] = (H[1]! + b) | 0;
  H[2] = (H[2]! + c) | 0;
  H[3] = (H[3]! + d) | 0;
  H[4] = (H[4]! + e) | 0;
  H[5] = (H[5]! + f) | 0;
  H[6] = (H[6]! + g) | 0;
  H[7] = (H[7]! + h) | 0;
}

/** dst[dstAt, +32) = SHA-256(0x01 || src[at, at + 64)); see the header for bounds and overlap. */
export function sha256NodeInto(src: Uint8Array, at: number, dst: Uint8Array, dstAt: number): void {
  if (!(at >= 0 && at + 64 <= src.length && dstAt >= 0 && dstAt + 32 <= dst.length)) {
    throw new RangeError(`merkle: bad math: sha256NodeInto(${at} of ${src.length} bytes, into ${dstAt} of ${dst.length})`);
  }
  H.set(IV);
  W[0] = (0x01 << 24) | (src[at]! << 16) | (src[at + 1]! << 8) | src[at + 2]!;
  for (let i = 1; i < 16; i++) {
    const p = at + 4 * i - 1;
    W[i] = (src[p]! << 24) | (src[p + 1]! << 16) | (src[p + 2]! << 8) | src[p + 3]!;
  }
  compress();
  W[0] = (src[at + 63]! << 24) | (0x80 << 16);
  W.fill(0, 1, 15);
  W[15] = MESSAGE_BITS;
  compress();
  for (let i = 0; i < 8; i++) {
    const v = H[i]!;
    const o = dstAt + 4 * i;
    dst[o] = v >>> 24;
    dst[o + 1] = v >>> 16;
    dst[o + 2] = v >>> 8;
    dst[o + 3] = v;
  }
}
