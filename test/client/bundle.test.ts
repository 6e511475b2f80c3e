// The proof bundle (spec/BUNDLE.md): golden files in spec/vectors/bundle-*
// made from the shared golden tree, compared byte for byte; round trips of
// both forms; strict decoding; and any single-byte change to a golden bundle
// fails to decode or fails to verify.
// Regenerate after an intended change: UPDATE_VECTORS=1 npx vitest run test/client/bundle.test.ts
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BUNDLE_VERSION,
  ClientError,
  decodeBundle,
  decodeBundleCbor,
  decodeBundleJson,
  encodeBundleCbor,
  encodeBundleJson,
  TileClient,
  trustPolicy,
  verifyBundle,
  verifyCheckpoint,
  type ProofBundle,
} from '../../src/client/index.js';
import { COSIGNED_1000, COSIGNED_1000_TIME as T, expectCode, LOG_VKEY, serveDir, TREE, vector, WITNESS_VKEY, type StaticServer } from './helpers.js';

const DIR = fileURLToPath(new URL('../../spec/vectors/', import.meta.url));
const UPDATE = process.env.UPDATE_VECTORS === '1';
const cosignedPolicy = trustPolicy({ logKey: LOG_VKEY, witnesses: [WITNESS_VKEY], quorum: 1 });
const logPolicy = trustPolicy({ logKey: LOG_VKEY });

// name -> [bundle, policy it verifies under]
const golden = new Map<string, { bundle: ProofBundle; policy: typeof logPolicy }>();
let s: StaticServer;
beforeAll(async () => {
  s = await serveDir(TREE);
  const c = new TileClient({ baseUrl: s.url, policy: logPolicy });
  const cosigned = verifyCheckpoint(COSIGNED_1000, cosignedPolicy, T);
  golden.set('bundle-cosigned-999', { bundle: await c.proofBundle(999, cosigned), policy: cosignedPolicy });
  const latest = verifyCheckpoint(vector('checkpoints/70000'), logPolicy);
  golden.set('bundle-65536', { bundle: await c.proofBundle(65536, latest), policy: logPolicy });
});
afterAll(() => s.close());

describe('golden bundles (spec/vectors/bundle-*)', () => {
  it('JSON and CBOR encodings match the files byte for byte, and the files verify', () => {
    for (const [name, { bundle, policy }] of golden) {
      const json = `${encodeBundleJson(bundle)}\n`;
      const cbor = encodeBundleCbor(bundle);
      if (UPDATE) {
        fs.writeFileSync(path.join(DIR, `${name}.json`), json);
        fs.writeFileSync(path.join(DIR, `${name}.cbor`), cbor);
      }
      const jsonFile = fs.readFileSync(path.join(DIR, `${name}.json`));
      const cborFile = new Uint8Array(fs.readFileSync(path.join(DIR, `${name}.cbor`)));
      expect(jsonFile.toString('utf8'), name).toBe(json);
      expect(Buffer.from(cborFile).toString('hex'), name).toBe(Buffer.from(cbor).toString('hex'));
      expect(decodeBundleJson(new Uint8Array(jsonFile))).toEqual(bundle);
      expect(decodeBundleCbor(cborFile)).toEqual(bundle);
      expect(verifyBundle(cborFile, policy, T).index).toBe(bundle.index);
      expect(verifyBundle(new Uint8Array(jsonFile), policy, T).index).toBe(bundle.index);
    }
  });

  it('CBOR is the RFC 8949 deterministic map {0: version, 1: index, 2: entry, 3: proof, 4: checkpoint}', () => {
    const cbor = encodeBundleCbor(golden.get('bundle-65536')!.bundle);
    // a5 = map(5); 00 01 = version 1; 01 1a 00010000 = index 65536 (uint32 head); 02 = entry key.
    expect(Buffer.from(cbor.subarray(0, 10)).toString('hex')).toBe('a50001011a0001000002');
  });

  it('each step that fails is named', async () => {
    const { bundle } = golden.get('bundle-cosigned-999')!;
    const tampered = { ...bundle, entry: new Uint8Array([...bundle.entry, 0]) };
    const e = (await expectCode(() => verifyBundle(tampered, cosignedPolicy, T), 'CLIENT_BUNDLE_INCLUSION')) as ClientError;
    expect(e.step).toBe('inclusion');
    await expectCode(() => verifyBundle({ ...bundle, index: 998 }, cosignedPolicy, T), 'CLIENT_BUNDLE_INCLUSION');
    await expectCode(() => verifyBundle(bundle, trustPolicy({ logKey: LOG_VKEY, witnesses: [WITNESS_VKEY], maxAgeSeconds: 60 }), T + 61), 'CLIENT_CHECKPOINT_AGE');
    await expectCode(() => verifyBundle(bundle, cosignedPolicy, T - 3600), 'CLIENT_CHECKPOINT_FUTURE');
    await expectCode(() => verifyBundle({ ...bundle, checkpoint: vector('checkpoints/1000') }, cosignedPolicy, T), 'CLIENT_CHECKPOINT_QUORUM');
    await expectCode(() => verifyBundle(new Uint8Array([1, 2, 3]), cosignedPolicy, T), 'CLIENT_BUNDLE_DECODE');
  });
});

const hash = fc.uint8Array({ minLength: 32, maxLength: 32 });
const arbBundle: fc.Arbitrary<ProofBundle> = fc.record({
  version: fc.constant(BUNDLE_VERSION),
  index: fc.oneof(fc.nat(300), fc.nat(), fc.maxSafeNat()),
  entry: fc.uint8Array({ maxLength: 300 }),
  inclusionProof: fc.array(hash, { maxLength: 64 }),
  checkpoint: fc.string({ minLength: 1, maxLength: 200, unit: 'grapheme' }),
});

describe('round trips', () => {
  it('JSON and CBOR decode what they encode (fast-check)', () => {
    fc.assert(
      fc.property(arbBundle, (b) => {
        expect(decodeBundleJson(encodeBundleJson(b))).toEqual(b);
        expect(decodeBundleCbor(encodeBundleCbor(b))).toEqual(b);
        expect(decodeBundle(encodeBundleCbor(b))).toEqual(b);
        expect(decodeBundle(new TextEncoder().encode(encodeBundleJson(b)))).toEqual(b);
      }),
      { numRuns: 300 },
    );
  });

  it('large indexes get a uint64 head, never a float', () => {
    const b: ProofBundle = { version: 1, index: 2 ** 40, entry: new Uint8Array(), inclusionProof: [], checkpoint: 'x\n' };
    const cbor = encodeBundleCbor(b);
    expect(Buffer.from(cbor.subarray(0, 12)).toString('hex')).toBe('a50001011b0000010000000000'.slice(0, 24));
    expect(decodeBundleCbor(cbor).index).toBe(2 ** 40);
  });
});

describe('strict decoding', () => {
  const good = (): Record<string, unknown> => JSON.parse(encodeBundleJson(golden.get('bundle-65536')!.bundle)) as Record<string, unknown>;
  it('rejects unknown versions, missing and extra members, wrong types', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...good(), version: 2 }, /unknown version "2"/],
      [{ ...good(), version: '1' }, /unknown version/],
      [{ ...good(), extra: 1 }, /unknown member "extra"/],
      [{ ...good(), index: -1 }, /index/],
      [{ ...good(), index: 1.5 }, /index/],
      [{ ...good(), index: '5' }, /index/],
      [{ ...good(), entry: 5 }, /entry/],
      [{ ...good(), entry: 'not base64!' }, /entry/],
      [{ ...good(), inclusionProof: 'x' }, /inclusionProof/],
      [{ ...good(), inclusionProof: ['AAAA'] }, /inclusionProof/],
      [{ ...good(), checkpoint: 7 }, /checkpoint/],
    ];
    for (const f of ['version', 'index', 'entry', 'inclusionProof', 'checkpoint']) {
      const o = good();
      delete o[f];
      cases.push([o, f === 'version' ? /missing member "version"/ : new RegExp(`missing member "${f}"`)]);
    }
    for (const [o, re] of cases) {
      const e = await expectCode(() => decodeBundleJson(JSON.stringify(o)), 'CLIENT_BUNDLE_DECODE');
      expect(e.message).toMatch(re);
    }
    await expectCode(() => decodeBundleJson('[1]'), 'CLIENT_BUNDLE_DECODE');
    await expectCode(() => decodeBundleJson(new Uint8Array([0x7b, 0xff, 0x7d])), 'CLIENT_BUNDLE_DECODE');
  });

  it('rejects non-canonical CBOR: trailing bytes, long heads, reordered keys', async () => {
    const cbor = encodeBundleCbor(golden.get('bundle-65536')!.bundle);
    await expectCode(() => decodeBundleCbor(new Uint8Array([...cbor, 0])), 'CLIENT_BUNDLE_DECODE');
    // version written as 0x18 0x01 (a one-byte head for a value < 24)
    await expectCode(() => decodeBundleCbor(new Uint8Array([0xa5, 0x00, 0x18, 0x01, ...cbor.subarray(3)])), 'CLIENT_BUNDLE_DECODE');
    // the version pair moved after the index pair
    const idx = cbor.subarray(3, 9);
    await expectCode(() => decodeBundleCbor(new Uint8Array([0xa5, ...idx, 0x00, 0x01, ...cbor.subarray(9)])), 'CLIENT_BUNDLE_DECODE');
    await expectCode(() => decodeBundleCbor(new Uint8Array([0xa1, 0x00, 0x02])), 'CLIENT_BUNDLE_DECODE');
  });
});

describe('tamper evidence', () => {
  // Under the cosigned policy every byte matters: log signature, the one
  // required cosignature, the entry, the index and the proof.
  for (const form of ['cbor', 'json'] as const) {
    it(`any single-byte change to the ${form} golden bundle fails to decode or to verify`, () => {
      const { bundle } = golden.get('bundle-cosigned-999')!;
      const bytes = form === 'cbor' ? encodeBundleCbor(bundle) : new TextEncoder().encode(encodeBundleJson(bundle));
      fc.assert(
        fc.property(fc.nat(bytes.length - 1), fc.integer({ min: 1, max: 255 }), (pos, delta) => {
          const m = bytes.slice();
          m[pos] = (m[pos]! + delta) & 0xff;
          let decoded: ProofBundle;
          try {
            decoded = form === 'cbor' ? decodeBundleCbor(m) : decodeBundleJson(m);
          } catch (err) {
            expect((err as ClientError).code).toBe('CLIENT_BUNDLE_DECODE');
            return;
          }
          expect(() => verifyBundle(decoded, cosignedPolicy, T)).toThrow(ClientError);
        }),
        { numRuns: 1000 },
      );
    });

    it(`flipping the low bit of any byte of the ${form} golden bundle fails to decode or to verify (every position)`, () => {
      const { bundle } = golden.get('bundle-cosigned-999')!;
      const bytes = form === 'cbor' ? encodeBundleCbor(bundle) : new TextEncoder().encode(encodeBundleJson(bundle));
      for (let pos = 0; pos < bytes.length; pos++) {
        const m = bytes.slice();
        m[pos] = m[pos]! ^ 1;
        let decoded: ProofBundle;
        try {
          decoded = form === 'cbor' ? decodeBundleCbor(m) : decodeBundleJson(m);
        } catch (err) {
          expect((err as ClientError).code, `byte ${pos}`).toBe('CLIENT_BUNDLE_DECODE');
          continue;
        }
        expect(() => verifyBundle(decoded, cosignedPolicy, T), `byte ${pos}`).toThrow(ClientError);
      }
    });
  }
});
