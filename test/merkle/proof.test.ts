// Tree hashes, proofs and verification: vectors (§9.2-9.4), exhaustive checks
// against the naive reference, tampering, edge cases, and sizes near 2^52.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isTilelogError } from '../../src/errors.js';
import type { ErrorCode } from '../../src/errors.js';
import type { Hash, HashReader } from '../../src/merkle/index.js';
import {
  EMPTY_ROOT,
  consistencyProof,
  consistencyProofFromHashes,
  consistencyProofIndexes,
  consistencyProofLength,
  fromBase64Strict,
  fromHex,
  inclusionProof,
  inclusionProofFromHashes,
  inclusionProofIndexes,
  inclusionProofLength,
  rootFromInclusionProof,
  splitStoredHashIndex,
  storedHashIndex,
  toBase64,
  toHex,
  treeHash,
  treeHashFromHashes,
  treeHashIndexes,
  verifyConsistency,
  verifyInclusion,
} from '../../src/merkle/index.js';
import { MemoryHashStore, RefTree, makeLeaves, nodeCryptoHasher } from './helpers.js';

const H = nodeCryptoHasher;

function expectCode(code: ErrorCode, f: () => unknown): void {
  try {
    f();
  } catch (e) {
    expect(isTilelogError(e, code), String(e)).toBe(true);
    return;
  }
  expect.unreachable(`expected ${code}`);
}

const b64 = (s: string) => s.split(' ').filter((x) => x !== '').map((x) => fromBase64Strict(x, 32));
const hexes = (hs: Hash[]) => hs.map(toHex);

// §9.2 eight-leaf tree
const LEAF_INPUTS = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'];
const leaves8 = LEAF_INPUTS.map((x) => H.leaf(fromHex(x)));
const ROOTS8 = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];

describe('eight-leaf tree vectors (§9.2-9.4)', () => {
  const store = new MemoryHashStore(leaves8, H);

  it('roots and perfect-subtree hashes', async () => {
    for (let n = 0; n <= 8; n++) expect(toHex(await treeHash(n, store, H))).toBe(ROOTS8[n]);
    const nodeHashes: Record<number, string[]> = {
      1: ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0'],
      2: ['d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4'],
      3: ['5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328'],
    };
    for (const [l, hs] of Object.entries(nodeHashes)) {
      hs.forEach((h, n) => expect(toHex(store.hashes.get(storedHashIndex(Number(l), n))!)).toBe(h));
    }
    expect(toHex(leaves8[7]!)).toBe('46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1');
  });

  it('inclusion proofs', async () => {
    const cases: [number, number, string][] = [
      [0, 1, ''],
      [0, 8, 'lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c= Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4= a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ='],
      [5, 8, 'vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms= yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA= 037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc='],
      [2, 3, '+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU='],
      [1, 5, 'bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0= Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4= vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms='],
    ];
    for (const [i, n, p] of cases) {
      const proof = await inclusionProof(n, i, store, H);
      expect(proof.map(toBase64).join(' ')).toBe(p);
      verifyInclusion(H, i, n, leaves8[i]!, b64(p), fromHex(ROOTS8[n]!));
    }
  });

  it('consistency proofs', async () => {
    const cases: [number, number, string][] = [
      [1, 1, ''],
      [1, 8, 'lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c= Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4= a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ='],
      [6, 8, 'DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o= yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA= 037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc='],
      [2, 5, 'Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4= vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms='],
      [6, 7, 'DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o= sIaT7C5yFZcTBkHoIR5+7cy0wmQTlj7ubB4u0W/7Gl8= 037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc='],
    ];
    for (const [m, n, p] of cases) {
      const proof = await consistencyProof(m, n, store, H);
      expect(proof.map(toBase64).join(' ')).toBe(p);
      verifyConsistency(H, m, n, b64(p), fromHex(ROOTS8[m]!), fromHex(ROOTS8[n]!));
      verifyConsistency(undefined, m, n, b64(p), fromHex(ROOTS8[m]!), fromHex(ROOTS8[n]!));
    }
  });
});

// Flips one byte of proof element j.
function flipped(proof: Hash[], j: number, byte: number): Hash[] {
  return proof.map((p, i) => {
    if (i !== j) return p;
    const q = new Uint8Array(p); // (Buffer.slice would be a view)
    q[byte % 32]! ^= 0x01 << (byte % 8);
    return q;
  });
}

function fails(f: () => void): void {
  expect(f).toThrow();
}

describe('against the naive reference', () => {
  const N = 2000;
  const leaves = makeLeaves(N);
  const ref = new RefTree(leaves, H);
  const store = new MemoryHashStore(leaves, H);

  it('treeHash matches MTH for every size 0..2000, one read each', async () => {
    store.reads = 0;
    for (let n = 0; n <= N; n++) expect(toHex(await treeHash(n, store, H)), `size ${n}`).toBe(toHex(ref.root(n)));
    expect(store.reads).toBe(N); // size 0 needs no read
  });

  it('every inclusion and consistency proof for sizes 1..64 equals the reference, verifies, and fails when tampered', async () => {
    for (let n = 1; n <= 64; n++) {
      const root = ref.root(n);
      for (let i = 0; i < n; i++) {
        const proof = await inclusionProof(n, i, store, H);
        expect(hexes(proof)).toEqual(hexes(ref.path(i, 0, n)));
        expect(proof.length).toBe(inclusionProofLength(i, n));
        verifyInclusion(H, i, n, leaves[i]!, proof, root);
        for (let j = 0; j < proof.length; j++) fails(() => verifyInclusion(H, i, n, leaves[i]!, flipped(proof, j, i + j), root));
        fails(() => verifyInclusion(H, i, n, flipped([leaves[i]!], 0, n)[0]!, proof, root));
        fails(() => verifyInclusion(H, i, n, leaves[i]!, proof, flipped([root], 0, i)[0]!));
        if (i + 1 < n) fails(() => verifyInclusion(H, i + 1, n, leaves[i]!, proof, root));
        if (i > 0) fails(() => verifyInclusion(H, i - 1, n, leaves[i]!, proof, root));
        fails(() => verifyInclusion(H, i, n + 1, leaves[i]!, proof, ref.root(n + 1)));
        if (i < n - 1) fails(() => verifyInclusion(H, i, n - 1, leaves[i]!, proof, ref.root(n - 1)));
        fails(() => verifyInclusion(H, i, n, leaves[i]!, [...proof, root], root));
        if (proof.length > 0) fails(() => verifyInclusion(H, i, n, leaves[i]!, proof.slice(0, -1), root));
      }
      for (let m = 1; m <= n; m++) {
        const proof = await consistencyProof(m, n, store, H);
        expect(hexes(proof)).toEqual(hexes(ref.subproof(m, 0, n, true)));
        if (m < n) expect(proof.length).toBe(consistencyProofLength(m, n));
        const oldRoot = ref.root(m);
        verifyConsistency(H, m, n, proof, oldRoot, root);
        for (let j = 0; j < proof.length; j++) fails(() => verifyConsistency(H, m, n, flipped(proof, j, m + j), oldRoot, root));
        fails(() => verifyConsistency(H, m, n, proof, flipped([oldRoot], 0, n)[0]!, root));
        fails(() => verifyConsistency(H, m, n, proof, oldRoot, flipped([root], 0, m)[0]!));
        if (m > 1) fails(() => verifyConsistency(H, m - 1, n, proof, ref.root(m - 1), root));
        if (m < n) fails(() => verifyConsistency(H, m + 1, n, proof, ref.root(m + 1), root));
        fails(() => verifyConsistency(H, m, n + 1, proof, oldRoot, ref.root(n + 1)));
        if (m < n) fails(() => verifyConsistency(H, m, n - 1, proof, oldRoot, ref.root(n - 1)));
        fails(() => verifyConsistency(H, m, n, [...proof, root], oldRoot, root));
        if (proof.length > 0) fails(() => verifyConsistency(H, m, n, proof.slice(0, -1), oldRoot, root));
      }
    }
  });

  it('random proofs up to size 2000 verify and fail when any byte changes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: N }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 0, max: n - 1 }), fc.integer({ min: 1, max: n }), fc.nat())),
        async ([n, i, m, byte]) => {
          const root = ref.root(n);
          const ip = await inclusionProof(n, i, store, H);
          expect(hexes(ip)).toEqual(hexes(ref.path(i, 0, n)));
          verifyInclusion(H, i, n, leaves[i]!, ip, root);
          if (ip.length > 0) fails(() => verifyInclusion(H, i, n, leaves[i]!, flipped(ip, byte % ip.length, byte), root));
          const cp = await consistencyProof(m, n, store, H);
          expect(hexes(cp)).toEqual(hexes(ref.subproof(m, 0, n, true)));
          verifyConsistency(H, m, n, cp, ref.root(m), root);
          if (cp.length > 0) fails(() => verifyConsistency(H, m, n, flipped(cp, byte % cp.length, byte), ref.root(m), root));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('verification edge cases (§1.2, §1.3)', () => {
  const ref = new RefTree(leaves8, H);
  const r = (n: number) => ref.root(n);

  it('inclusion: index >= size, size 0, bad hash sizes', () => {
    expectCode('MERKLE_RANGE', () => verifyInclusion(H, 8, 8, leaves8[0]!, [], r(8)));
    expectCode('MERKLE_RANGE', () => verifyInclusion(H, 0, 0, leaves8[0]!, [], EMPTY_ROOT));
    expectCode('MERKLE_RANGE', () => verifyInclusion(H, -1, 8, leaves8[0]!, [], r(8)));
    expectCode('MERKLE_RANGE', () => verifyInclusion(H, 0, 2 ** 53, leaves8[0]!, [], r(8)));
    expectCode('MERKLE_RANGE', () => verifyInclusion(H, 0.5, 8, leaves8[0]!, [], r(8)));
    expectCode('MERKLE_BAD_HASH', () => verifyInclusion(H, 0, 1, leaves8[0]!.subarray(1), [], r(1)));
    expectCode('MERKLE_BAD_HASH', () => verifyInclusion(H, 0, 1, leaves8[0]!, [], new Uint8Array(31)));
    const p = ref.path(3, 0, 8);
    expectCode('MERKLE_PROOF_INVALID', () => verifyInclusion(H, 3, 8, leaves8[3]!, [p[0]!, p[1]!, new Uint8Array([...p[2]!, 0])], r(8)));
    expectCode('MERKLE_PROOF_INVALID', () => verifyInclusion(H, 3, 8, leaves8[3]!, [p[0]!, p[1]!], r(8)));
    expectCode('MERKLE_PROOF_INVALID', () => verifyInclusion(H, 0, 1, leaves8[0]!, [leaves8[0]!], r(1)));
    verifyInclusion(H, 0, 1, leaves8[0]!, [], r(1));
    expect(toHex(rootFromInclusionProof(H, 3, 8, leaves8[3]!, p))).toBe(toHex(r(8)));
  });

  it('consistency: first == second, first == 0, first > second', () => {
    verifyConsistency(H, 5, 5, [], r(5), r(5));
    expectCode('MERKLE_PROOF_INVALID', () => verifyConsistency(H, 5, 5, [r(5)], r(5), r(5)));
    expectCode('MERKLE_PROOF_INVALID', () => verifyConsistency(H, 5, 5, [], r(5), r(6)));
    verifyConsistency(H, 0, 5, [], EMPTY_ROOT, r(5));
    verifyConsistency(H, 0, 0, [], EMPTY_ROOT, EMPTY_ROOT);
    expectCode('MERKLE_PROOF_INVALID', () => verifyConsistency(H, 0, 5, [r(5)], EMPTY_ROOT, r(5)));
    expectCode('MERKLE_RANGE', () => verifyConsistency(H, 6, 5, [], r(6), r(5)));
    expectCode('MERKLE_RANGE', () => verifyConsistency(H, 1, 2 ** 53, [], r(1), r(5)));
    expectCode('MERKLE_PROOF_INVALID', () => verifyConsistency(H, 1, 2, [], r(1), r(2)));
    expectCode('MERKLE_PROOF_INVALID', () => verifyConsistency(H, 3, 5, [new Uint8Array(32), new Uint8Array(31), new Uint8Array(32)], r(3), r(5)));
    expectCode('MERKLE_BAD_HASH', () => verifyConsistency(H, 3, 5, [], new Uint8Array(3), r(5)));
  });

  it('proof generation rejects bad sizes', async () => {
    const store = new MemoryHashStore(leaves8, H);
    expectCode('MERKLE_RANGE', () => inclusionProofIndexes(8, 8));
    expectCode('MERKLE_RANGE', () => inclusionProofIndexes(0, 0));
    expectCode('MERKLE_RANGE', () => consistencyProofIndexes(0, 5));
    expectCode('MERKLE_RANGE', () => consistencyProofIndexes(6, 5));
    expectCode('MERKLE_RANGE', () => treeHashIndexes(-1));
    expect(consistencyProofIndexes(5, 5)).toEqual([]);
    expect(await consistencyProof(8, 8, store, H)).toEqual([]);
    await expect(inclusionProof(8, 9, store, H)).rejects.toMatchObject({ code: 'MERKLE_RANGE' });
  });

  it('a leftover or missing stored hash is a bug (bad math)', async () => {
    const store = new MemoryHashStore(leaves8, H);
    const hs = await store.readHashes(treeHashIndexes(6));
    expect(() => treeHashFromHashes(6, [...hs, hs[0]!], H)).toThrow(/bad math/);
    expect(() => treeHashFromHashes(6, hs.slice(1), H)).toThrow(/bad math/);
    expect(() => treeHashFromHashes(0, [hs[0]!], H)).toThrow(/bad math/);
    const ih = await store.readHashes(inclusionProofIndexes(7, 2));
    expect(() => inclusionProofFromHashes(7, 2, ih.slice(1), H)).toThrow(/bad math/);
    const ch = await store.readHashes(consistencyProofIndexes(3, 7));
    expect(() => consistencyProofFromHashes(3, 7, [...ch, ch[0]!], H)).toThrow(/bad math/);
    const short: HashReader = { readHashes: async (ix) => (await store.readHashes(ix)).slice(1) };
    await expect(treeHash(7, short, H)).rejects.toThrow(/bad math/);
  });
});

// --- sizes near 2^52: a tree whose leaves are all equal, so P(L, n) depends only on L ---

const uniform: Hash[] = [H.leaf(new Uint8Array([42]))];
for (let l = 1; l <= 53; l++) uniform.push(H.node(uniform[l - 1]!, uniform[l - 1]!));
const uniformReader: HashReader = {
  async readHashes(indexes) {
    return indexes.map((x) => uniform[splitStoredHashIndex(x)[0]]!);
  },
};
// Root of the uniform tree of size n from its binary digits (independent of tree.ts).
function uniformRoot(n: number): Hash {
  const parts: Hash[] = [];
  for (let l = 52; l >= 0; l--) if (Math.floor(n / 2 ** l) % 2 === 1) parts.push(uniform[l]!);
  let r = parts.pop()!;
  while (parts.length > 0) r = H.node(parts.pop()!, r);
  return r;
}

// BigInt reference of the Go index planning, to cross-check the number version.
function bigStored(l: bigint, n: bigint): bigint {
  const m = (n + 1n) * (1n << l) - 1n;
  return 2n * m - BigInt([...m.toString(2)].filter((c) => c === '1').length) + l;
}
function bigSubtree(lo: bigint, hi: bigint, out: bigint[]): void {
  while (lo < hi) {
    let k = 1n;
    while (k * 2n <= hi - lo && lo % (k * 2n) === 0n) k *= 2n;
    const l = BigInt(k.toString(2).length - 1);
    out.push(bigStored(l, lo / k));
    lo += k;
  }
}
function bigSplit(n: bigint): bigint {
  let k = 1n;
  while (k * 2n < n) k *= 2n;
  return k;
}
function bigPath(lo: bigint, hi: bigint, m: bigint, out: bigint[]): void {
  if (hi - lo === 1n) return;
  const k = bigSplit(hi - lo);
  if (m < lo + k) {
    bigPath(lo, lo + k, m, out);
    bigSubtree(lo + k, hi, out);
  } else {
    bigSubtree(lo, lo + k, out);
    bigPath(lo + k, hi, m, out);
  }
}
function bigSub(lo: bigint, hi: bigint, m: bigint, out: bigint[]): void {
  if (m === hi) {
    if (lo !== 0n) bigSubtree(lo, hi, out);
    return;
  }
  const k = bigSplit(hi - lo);
  if (m <= lo + k) {
    bigSub(lo, lo + k, m, out);
    bigSubtree(lo + k, hi, out);
  } else {
    bigSubtree(lo, lo + k, out);
    bigSub(lo + k, hi, m, out);
  }
}

describe('sizes near 2^52 (no silent overflow)', () => {
  const MAXN = 2 ** 52;
  const sizeArb = fc.oneof(fc.integer({ min: 1, max: MAXN }), fc.integer({ min: MAXN - 2 ** 20, max: MAXN }), fc.integer({ min: 2 ** 31, max: 2 ** 34 }));

  it('index lists equal a BigInt reference', () => {
    fc.assert(
      fc.property(sizeArb, fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (n, a, b) => {
        const i = Math.min(n - 1, Math.floor(a * n));
        const m = Math.max(1, Math.min(n, Math.ceil(b * n)));
        const want: bigint[] = [];
        bigPath(0n, BigInt(n), BigInt(i), want);
        expect(inclusionProofIndexes(n, i).map(BigInt)).toEqual(want);
        const want2: bigint[] = [];
        bigSub(0n, BigInt(n), BigInt(m), want2);
        expect(consistencyProofIndexes(m, n).map(BigInt)).toEqual(want2);
        const want3: bigint[] = [];
        bigSubtree(0n, BigInt(n), want3);
        expect(treeHashIndexes(n).map(BigInt)).toEqual(want3);
      }),
      { numRuns: 300 },
    );
    // the brief's example size, just below the stored-index limit
    const n = 2 ** 52 - 12345;
    const want: bigint[] = [];
    bigPath(0n, BigInt(n), BigInt(n - 7), want);
    expect(inclusionProofIndexes(n, n - 7).map(BigInt)).toEqual(want);
  });

  it('proofs over the uniform tree verify at random large sizes', async () => {
    await fc.assert(
      fc.asyncProperty(sizeArb, fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), async (n, a, b) => {
        const i = Math.min(n - 1, Math.floor(a * n));
        const m = Math.max(1, Math.min(n, Math.ceil(b * n)));
        const root = await treeHash(n, uniformReader, H);
        expect(toHex(root)).toBe(toHex(uniformRoot(n)));
        const ip = await inclusionProof(n, i, uniformReader, H);
        verifyInclusion(H, i, n, uniform[0]!, ip, root);
        const cp = await consistencyProof(m, n, uniformReader, H);
        verifyConsistency(H, m, n, cp, uniformRoot(m), root);
        if (cp.length > 0) fails(() => verifyConsistency(H, m, n, flipped(cp, 0, 3), uniformRoot(m), root));
      }),
      { numRuns: 200 },
    );
  });

  it('verification works up to 2^53-1', () => {
    // only sizes reach 2^53-1 here; the proof hashes come from the uniform tree
    const n = Number.MAX_SAFE_INTEGER;
    for (const i of [0, 1, 2 ** 52, n - 2, n - 1, 2 ** 32 + 5]) {
      // PATH of a uniform tree, computed from the shape: hash of each sibling subtree
      const proof: Hash[] = [];
      const walk = (lo: bigint, hi: bigint, m: bigint): void => {
        if (hi - lo === 1n) return;
        const k = bigSplit(hi - lo);
        if (m < lo + k) {
          walk(lo, lo + k, m);
          proof.push(uniformRoot(Number(hi - lo - k)));
        } else {
          walk(lo + k, hi, m);
          proof.push(uniform[k.toString(2).length - 1]!);
        }
      };
      walk(0n, BigInt(n), BigInt(i));
      verifyInclusion(H, i, n, uniform[0]!, proof, uniformRoot(n));
      expect(proof.length).toBe(inclusionProofLength(i, n));
      fails(() => verifyInclusion(H, i, n, uniform[0]!, proof, uniformRoot(n - 1)));
    }
  });

  it('stored indexes beyond 2^53-1 are a MERKLE_RANGE error, not a wrong answer', () => {
    expectCode('MERKLE_RANGE', () => inclusionProofIndexes(2 ** 52 + 12345, 5));
    expectCode('MERKLE_RANGE', () => consistencyProofIndexes(5, 2 ** 52 + 12345));
    expectCode('MERKLE_RANGE', () => treeHashIndexes(2 ** 53 - 1));
  });
});
