// PostgreSQL's binary array format for a bytea[] parameter (array_recv in
// src/backend/utils/adt/arrayfuncs.c), so a batch travels as raw bytes instead
// of hex text the server must parse (SCALE-OUT.md 3.4: about half the call
// time for 256 entries). pg sends a Buffer parameter in binary format.
//
// Layout, all integers big-endian int32:
//   ndim (1, or 0 for an empty array) | flags (0: no NULLs) | element type OID (17 = bytea)
//   per dimension: length, lower bound (1)
//   per element: byte length, then the bytes

const BYTEA_OID = 17;

// byteaArray(items): the binary encoding of ARRAY[items] :: bytea[].
// Size: 12 + (items.length > 0 ? 8 : 0) + sum(4 + item.length) bytes.
export function byteaArray(items: readonly Uint8Array[]): Buffer {
  let size = 12 + (items.length > 0 ? 8 : 0);
  for (const item of items) size += 4 + item.byteLength;
  const out = Buffer.allocUnsafe(size);
  out.writeInt32BE(items.length > 0 ? 1 : 0, 0);
  out.writeInt32BE(0, 4);
  out.writeInt32BE(BYTEA_OID, 8);
  let at = 12;
  if (items.length > 0) {
    out.writeInt32BE(items.length, at);
    out.writeInt32BE(1, at + 4);
    at += 8;
  }
  for (const item of items) {
    out.writeInt32BE(item.byteLength, at);
    out.set(item, at + 4);
    at += 4 + item.byteLength;
  }
  if (at !== size) throw new Error('pg-binary: bad math in byteaArray');
  return out;
}
