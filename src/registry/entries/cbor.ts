// Canonical CBOR for registry entries: RFC 8949 §4.2.1 core deterministic
// encoding over the small data model entries use, and nothing else:
//   unsigned integers in [0, 2^53-1]   major 0, shortest head
//   byte strings                       major 2, definite length
//   text strings (well-formed UTF-8)   major 3, definite length
//   arrays                             major 4, definite length
//   maps with text keys                major 5, definite length, keys sorted
//                                      by their encoded bytes, no duplicates
//   false, true, null                  0xf4, 0xf5, 0xf6
// No negative integers, floats, tags, undefined or indefinite lengths.
//
// Why our own encoder: cbor-x writes object keys in insertion order (not
// sorted) and may pick float or record encodings, so its output is not
// deterministic for maps unless every caller builds them in sorted order.
// This codec is about 150 lines and has exactly one encoding per value.
// decodeCanonical() parses strictly and then re-encodes, demanding the same
// bytes: any non-shortest head, unsorted or duplicate key, or trailing byte
// is refused.

import { isWellFormed } from '../../note/utf8.js';

export type CborValue = number | Uint8Array | string | CborValue[] | CborMap | boolean | null;
export interface CborMap {
  [key: string]: CborValue;
}

/** Deepest nesting accepted by the decoder (entries need 4). */
const MAX_DEPTH = 8;

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

class Writer {
  chunks: Uint8Array[] = [];
  length = 0;
  push(b: Uint8Array): void {
    this.chunks.push(b);
    this.length += b.length;
  }
  head(major: number, n: number): void {
    const m = major << 5;
    if (n < 24) this.push(Uint8Array.of(m | n));
    else if (n < 0x100) this.push(Uint8Array.of(m | 24, n));
    else if (n < 0x10000) this.push(Uint8Array.of(m | 25, n >> 8, n & 0xff));
    else if (n < 0x100000000) {
      const b = new Uint8Array(5);
      b[0] = m | 26;
      new DataView(b.buffer).setUint32(1, n);
      this.push(b);
    } else {
      const b = new Uint8Array(9);
      b[0] = m | 27;
      new DataView(b.buffer).setBigUint64(1, BigInt(n));
      this.push(b);
    }
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    let off = 0;
    for (const c of this.chunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  }
}

/** Encodes v canonically. TypeError/RangeError for values outside the data model. */
export function encodeCanonical(v: CborValue): Uint8Array {
  const w = new Writer();
  write(w, v, 0);
  return w.bytes();
}

function write(w: Writer, v: CborValue, depth: number): void {
  if (depth > MAX_DEPTH) throw new RangeError(`cbor: nesting deeper than ${MAX_DEPTH}`);
  if (v === null) return w.push(Uint8Array.of(0xf6));
  if (v === false) return w.push(Uint8Array.of(0xf4));
  if (v === true) return w.push(Uint8Array.of(0xf5));
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`cbor: only integers in [0, 2^53-1], got ${v}`);
    return w.head(0, v);
  }
  if (typeof v === 'string') {
    if (!isWellFormed(v)) throw new TypeError('cbor: text is not well-formed UTF-16 (lone surrogate)');
    const b = utf8.encode(v);
    w.head(3, b.length);
    return w.push(b);
  }
  if (v instanceof Uint8Array) {
    w.head(2, v.length);
    return w.push(v.slice());
  }
  if (Array.isArray(v)) {
    w.head(4, v.length);
    for (const x of v) write(w, x, depth + 1);
    return;
  }
  if (typeof v === 'object' && [Object.prototype, null].includes(Object.getPrototypeOf(v))) {
    // Keys sorted by their encoded bytes: shorter keys first, then bytewise.
    const entries = Object.keys(v).map((k) => ({ k, enc: encodeCanonical(k) }));
    entries.sort((a, b) => compareBytes(a.enc, b.enc));
    w.head(5, entries.length);
    for (const { k, enc } of entries) {
      const x = v[k];
      if (x === undefined) throw new TypeError(`cbor: map member ${JSON.stringify(k)} is undefined`);
      w.push(enc);
      write(w, x, depth + 1);
    }
    return;
  }
  throw new TypeError(`cbor: cannot encode a ${typeof v}`);
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** Thrown (and caught by the entry decoder) for any input that is not canonical CBOR of the data model. */
export class CborError extends Error {}

/** Decodes canonical CBOR; throws CborError unless re-encoding gives the same bytes. */
export function decodeCanonical(data: Uint8Array): CborValue {
  const r = { data, off: 0 };
  const v = read(r, 0);
  if (r.off !== data.length) throw new CborError(`${data.length - r.off} trailing bytes after the item`);
  const again = encodeCanonical(v);
  if (compareBytes(again, data) !== 0) {
    throw new CborError('not in core deterministic encoding (RFC 8949 §4.2.1): a longer head than needed, or map keys out of order');
  }
  return v;
}

interface Reader {
  data: Uint8Array;
  off: number;
}

function take(r: Reader, n: number): Uint8Array {
  if (r.off + n > r.data.length) throw new CborError('truncated');
  const b = r.data.subarray(r.off, r.off + n);
  r.off += n;
  return b;
}

function readArg(r: Reader, info: number): number {
  if (info < 24) return info;
  const dv = (n: number) => {
    const b = take(r, n);
    return new DataView(b.buffer, b.byteOffset, n);
  };
  if (info === 24) return dv(1).getUint8(0);
  if (info === 25) return dv(2).getUint16(0);
  if (info === 26) return dv(4).getUint32(0);
  if (info === 27) {
    const n = dv(8).getBigUint64(0);
    if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new CborError('integer or length above 2^53-1');
    return Number(n);
  }
  throw new CborError(`unsupported additional information ${info} (indefinite lengths are not allowed)`);
}

function read(r: Reader, depth: number): CborValue {
  if (depth > MAX_DEPTH) throw new CborError(`nesting deeper than ${MAX_DEPTH}`);
  const ib = take(r, 1)[0]!;
  const major = ib >> 5;
  const info = ib & 0x1f;
  switch (major) {
    case 0:
      return readArg(r, info);
    case 2:
      return take(r, readArg(r, info)).slice();
    case 3:
      try {
        return utf8Strict.decode(take(r, readArg(r, info)));
      } catch (err) {
        if (err instanceof CborError) throw err;
        throw new CborError('text string is not valid UTF-8');
      }
    case 4: {
      const n = readArg(r, info);
      if (n > r.data.length - r.off) throw new CborError('truncated');
      const out: CborValue[] = [];
      for (let i = 0; i < n; i++) out.push(read(r, depth + 1));
      return out;
    }
    case 5: {
      const n = readArg(r, info);
      if (n > r.data.length - r.off) throw new CborError('truncated');
      const out: CborMap = {};
      for (let i = 0; i < n; i++) {
        const k = read(r, depth + 1);
        if (typeof k !== 'string') throw new CborError('map keys must be text strings');
        if (Object.hasOwn(out, k)) throw new CborError(`duplicate map key ${JSON.stringify(k)}`);
        Object.defineProperty(out, k, { value: read(r, depth + 1), enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
    case 7:
      if (info === 20) return false;
      if (info === 21) return true;
      if (info === 22) return null;
      throw new CborError(`unsupported simple value or float (0x${ib.toString(16)})`);
    default:
      throw new CborError(`unsupported major type ${major} (negative integers and tags are not allowed)`);
  }
}
