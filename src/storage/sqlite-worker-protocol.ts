// The messages between SqliteWorkerStore (the log's thread) and the worker
// thread that owns the SQLite connection (sqlite-worker.ts). Pure: no I/O.
//
// A call is { id, op, args }; every reply is { id, ok, value | error, size }
// where size is the worker's durable entry count after the call, so the log's
// thread knows nextIndex() without a round trip (only this store inserts:
// the state directory's lock keeps other processes out).
//
// The two bulk payloads travel as ONE transferred ArrayBuffer each, not as
// arrays of small Uint8Arrays (structured clone costs per object):
//   entries  [u32 n][n x u32 length][n x 32-byte leaf hash][the bytes, in order]
//            (sequence's batch and readEntries' answer)
//   results  Float64Array of n: index for a new entry, -(index + 1) for a
//            duplicate (indexes are < 2^53, so both are exact doubles)
// Errors cross as plain objects and are rebuilt with their name, message and
// code, so TilelogError codes (LOG_FORK, LOG_NOT_FOUND, ...) and SQLite codes
// (SQLITE_FULL, which storage-failure.ts reads) survive the hop.

import { TilelogError, type ErrorCode } from '../errors.js';
import type { Hash } from '../merkle/hash.js';
import type { SequenceResult } from './sequence-db.js';

/** The SequenceDB operations the worker answers (each maps to the method of the same name). */
export type SqliteOp =
  | 'sequence'
  | 'readEntries'
  | 'entry'
  | 'lookup'
  | 'entryBytes'
  | 'sizeForRoot'
  | 'rootForSize'
  | 'checkpointHistory'
  | 'checkpointsFrom'
  | 'state'
  | 'commitState'
  | 'gcCursor'
  | 'setGcCursor'
  | 'notePublished'
  | 'witnessSize'
  | 'setWitnessSize'
  | 'close';

export interface SqliteCall {
  readonly id: number;
  readonly op: SqliteOp;
  readonly args: readonly unknown[];
}

export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly code: string | null;
  /** Was a TilelogError: rebuilt as one, with its code. */
  readonly tilelog: boolean;
  readonly stack: string | null;
}

export type SqliteReply =
  | { readonly id: number; readonly ok: true; readonly value: unknown; readonly size: number }
  | { readonly id: number; readonly ok: false; readonly error: SerializedError; readonly size: number };

/** What the worker is started with (workerData). */
export interface SqliteWorkerData {
  readonly path: string;
  readonly origin: string;
}

/** The id of the worker's first message: the database opened (or failed to). */
export const READY_ID = 0;

const HASH_SIZE = 32;

/** A batch (or a range) of entries with their leaf hashes, packed into one buffer (layout above). */
export function packEntries(entries: readonly Uint8Array[], leafHashes: readonly Hash[]): ArrayBuffer {
  const n = entries.length;
  if (leafHashes.length !== n) throw new Error(`sqlite-worker: bad math: ${n} entries with ${leafHashes.length} hashes`);
  let dataBytes = 0;
  for (let k = 0; k < n; k++) dataBytes += entries[k]!.byteLength;
  const head = 4 + 4 * n;
  const buf = new ArrayBuffer(head + HASH_SIZE * n + dataBytes);
  const lengths = new Uint32Array(buf, 0, 1 + n);
  const bytes = new Uint8Array(buf);
  lengths[0] = n;
  let hashAt = head;
  let dataAt = head + HASH_SIZE * n;
  for (let k = 0; k < n; k++) {
    const e = entries[k]!;
    const h = leafHashes[k]!;
    if (h.byteLength !== HASH_SIZE) throw new RangeError(`sqlite-worker: leaf hash ${k} is ${h.byteLength} bytes, want ${HASH_SIZE}`);
    lengths[1 + k] = e.byteLength;
    bytes.set(h, hashAt);
    bytes.set(e, dataAt);
    hashAt += HASH_SIZE;
    dataAt += e.byteLength;
  }
  return buf;
}

/** The entries and hashes of a packed buffer, as views into it (no copy). */
export function unpackEntries(buf: ArrayBuffer): { entries: Uint8Array[]; leafHashes: Hash[] } {
  if (buf.byteLength < 4) throw new Error('sqlite-worker: bad math: a packed range shorter than its count');
  const n = new Uint32Array(buf, 0, 1)[0]!;
  const head = 4 + 4 * n;
  if (head + HASH_SIZE * n > buf.byteLength) throw new Error(`sqlite-worker: bad math: ${n} entries in a packed range of ${buf.byteLength} bytes`);
  const lengths = new Uint32Array(buf, 4, n);
  let end = head + HASH_SIZE * n;
  for (let k = 0; k < n; k++) end += lengths[k]!;
  if (end !== buf.byteLength) throw new Error(`sqlite-worker: bad math: a packed range of ${buf.byteLength} bytes holds ${end}`);
  const entries: Uint8Array[] = new Array(n);
  const leafHashes: Hash[] = new Array(n);
  let dataAt = head + HASH_SIZE * n;
  for (let k = 0; k < n; k++) {
    leafHashes[k] = new Uint8Array(buf, head + HASH_SIZE * k, HASH_SIZE);
    entries[k] = new Uint8Array(buf, dataAt, lengths[k]!);
    dataAt += lengths[k]!;
  }
  return { entries, leafHashes };
}

/** Sequence results as one Float64Array (duplicates negative). */
export function packResults(results: readonly SequenceResult[]): Float64Array {
  const out = new Float64Array(results.length);
  for (let k = 0; k < results.length; k++) {
    const r = results[k]!;
    out[k] = r.duplicate ? -(r.index + 1) : r.index;
  }
  return out;
}

export function unpackResults(packed: Float64Array): SequenceResult[] {
  const out: SequenceResult[] = new Array(packed.length);
  for (let k = 0; k < packed.length; k++) {
    const v = packed[k]!;
    out[k] = v < 0 ? { index: -v - 1, duplicate: true } : { index: v, duplicate: false };
  }
  return out;
}

export function serializeError(err: unknown): SerializedError {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return {
      name: err.name,
      message: err.message,
      code: typeof code === 'string' ? code : null,
      tilelog: err instanceof TilelogError,
      stack: err.stack ?? null,
    };
  }
  return { name: 'Error', message: String(err), code: null, tilelog: false, stack: null };
}

/** The error again on this side: a TilelogError keeps its code; any other keeps its name and code (SQLITE_FULL). */
export function deserializeError(e: SerializedError): Error {
  const err = e.tilelog && e.code !== null ? new TilelogError(e.code as ErrorCode, e.message) : new Error(e.message);
  if (!e.tilelog) {
    err.name = e.name;
    if (e.code !== null) (err as Error & { code?: string }).code = e.code;
  }
  // The worker's stack says where in the database code it failed.
  if (e.stack !== null) err.stack = `${err.stack ?? ''}\n    in the SQLite worker thread:\n${e.stack}`;
  return err;
}

/**
 * value with every Uint8Array that is a view into a larger buffer replaced by
 * a copy of just its bytes, in plain objects and arrays (structured clone
 * would copy the whole underlying buffer: a pooled Buffer, a request body).
 */
export function compact<T>(value: T): T {
  if (value instanceof Uint8Array) {
    const whole = value.byteOffset === 0 && value.byteLength === value.buffer.byteLength;
    return (whole && !(value instanceof Buffer) ? value : new Uint8Array(value)) as T;
  }
  if (Array.isArray(value)) return value.map((v: unknown) => compact(v)) as T;
  if (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = compact(v);
    return out as T;
  }
  return value;
}
