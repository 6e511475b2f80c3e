// The CBOR form of the proof bundle (spec/BUNDLE.md): one map with integer
// keys, in RFC 8949 §4.2.1 core deterministic encoding (shortest integer and
// length heads, definite lengths, keys in ascending order):
//   {0: 1 (version), 1: index (uint), 2: entry (bstr), 3: [proof hashes (bstr 32)], 4: checkpoint (tstr)}
// Encoded with cbor-x; the decoder re-encodes what it read and demands the
// same bytes, so every bundle has exactly one CBOR encoding.
// cbor-x options: no records or tag 64 typed arrays, variable map heads;
// indexes above 2^32-1 are written as bigint so cbor-x emits a uint64 head
// (it would write a float64 for a large number).

import { Decoder, Encoder } from 'cbor-x';
import { BUNDLE_FIELDS, MAX_BUNDLE_BYTES, checkBundle, checkEncodable, checkMembers, decodeBundleJson, decodeError, type ProofBundle } from './bundle.js';
import { messageOf } from './errors.js';

let codec: { enc: Encoder; dec: Decoder } | null = null;
function cbor(): { enc: Encoder; dec: Decoder } {
  codec ??= {
    enc: new Encoder({ useRecords: false, mapsAsObjects: false, variableMapSize: true, tagUint8Array: false, pack: false }),
    dec: new Decoder({ useRecords: false, mapsAsObjects: false }),
  };
  return codec;
}

const U32_MAX = 0xffffffff;

function encodeChecked(b: ProofBundle): Uint8Array {
  const m = new Map<number, unknown>([
    [0, b.version],
    [1, b.index > U32_MAX ? BigInt(b.index) : b.index],
    [2, b.entry],
    [3, b.inclusionProof],
    [4, b.checkpoint],
  ]);
  const out = cbor().enc.encode(m);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength).slice();
}

/** The bundle in deterministic CBOR. */
export function encodeBundleCbor(bundle: ProofBundle): Uint8Array {
  return encodeChecked(checkEncodable(bundle));
}

/** Decodes a CBOR bundle strictly (canonical bytes only). Throws CLIENT_BUNDLE_DECODE. */
export function decodeBundleCbor(data: Uint8Array): ProofBundle {
  if (!(data instanceof Uint8Array)) throw new TypeError('bundle: CBOR input must be a Uint8Array');
  if (data.length > MAX_BUNDLE_BYTES) throw decodeError(`over ${MAX_BUNDLE_BYTES} bytes`);
  let v: unknown;
  try {
    v = cbor().dec.decode(data);
  } catch (err) {
    throw decodeError(`not CBOR: ${messageOf(err)}`, err);
  }
  if (!(v instanceof Map)) throw decodeError('CBOR bundle must be a map');
  const keys = [...v.keys()];
  checkMembers(keys, v.get(0), (k) => (typeof k === 'number' && Number.isInteger(k) ? BUNDLE_FIELDS[k] : undefined));
  let index = v.get(1);
  if (typeof index === 'bigint' && index > BigInt(U32_MAX) && index <= BigInt(Number.MAX_SAFE_INTEGER)) index = Number(index);
  const bundle = checkBundle({ version: v.get(0), index, entry: v.get(2), inclusionProof: v.get(3), checkpoint: v.get(4) });
  const again = encodeChecked(bundle);
  if (again.length !== data.length || again.some((x, i) => x !== data[i])) {
    throw decodeError('CBOR bundle is not in deterministic encoding (RFC 8949 §4.2.1)');
  }
  return bundle;
}

/**
 * Decodes either form: JSON when the first byte is `{` (after white space),
 * CBOR otherwise (a version-1 CBOR bundle starts with 0xa5). Throws CLIENT_BUNDLE_DECODE.
 */
export function decodeBundle(data: Uint8Array | string): ProofBundle {
  if (typeof data === 'string') return decodeBundleJson(data);
  let i = 0;
  while (i < data.length && (data[i] === 0x20 || data[i] === 0x0a || data[i] === 0x0d || data[i] === 0x09)) i++;
  return data[i] === 0x7b ? decodeBundleJson(data) : decodeBundleCbor(data);
}
