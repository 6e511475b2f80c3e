// The PUBLIC tree's storage: the checkpoint, hash tiles and entry bundles,
// under the C2SP tlog-tiles paths (`checkpoint`, `tile/0/x001/234.p/5`,
// `tile/entries/000`). It is UNTRUSTED and rebuildable: the SequenceDB holds
// the truth, and recovery re-checks the right edge of this store against it.
//
// The verbs are named by what they promise (after Tessera's file_ops):
// - createIdempotent: an immutable object. Succeeds if it is absent (then
//   creates it) or already holds exactly these bytes; otherwise throws
//   TilelogError('STORAGE_CONFLICT'). Tiles and bundles use it.
// - overwrite: a mutable object, unconditionally (recovery uses it to repair
//   a damaged tile it has recomputed; the engine never overwrites
//   `checkpoint` with it, see replaceIfMatch).
// - readWithEtag / replaceIfMatch: the one mutable public object,
//   `checkpoint`, is replaced only if it still holds the version the writer
//   last saw (an S3 `If-Match` / `If-None-Match: *` PUT), so a stale or paused
//   writer can never move the public checkpoint backwards: its write is
//   refused with STORAGE_PRECONDITION and it must read and reconcile.
//   An ETag is an opaque string (quotes included); compare it only for equality.
// Every write is durable once its promise resolves, and no reader ever sees a
// torn object (each object appears whole or not at all).

import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { TilelogError } from '../errors.js';
import { parseTilePath, tilePath } from '../merkle/layout.js';

export interface TileStore {
  /** The object's bytes, or null when it is absent. */
  read(path: string): Promise<Uint8Array | null>;
  /** Create an immutable object; ok if absent or byte-identical, STORAGE_CONFLICT otherwise. */
  createIdempotent(path: string, data: Uint8Array): Promise<void>;
  /** Replace a mutable object atomically. */
  overwrite(path: string, data: Uint8Array): Promise<void>;
  /** Remove an object; ok if absent. */
  delete(path: string): Promise<void>;
  /** The object's bytes and its current version tag, or null when it is absent. */
  readWithEtag(path: string): Promise<VersionedObject | null>;
  /**
   * Replace the object iff its current ETag is `etag` (null: iff it is absent).
   * Returns the new ETag. Throws TilelogError('STORAGE_PRECONDITION') when the
   * object is not at that version (someone else wrote it); nothing changed then.
   */
  replaceIfMatch(path: string, data: Uint8Array, etag: string | null): Promise<string>;
  /** Where the tree lives, for messages: "the tiles directory /srv/tiles", "the bucket s3://b/p". */
  readonly description: string;
}

/** An object with its version tag (an S3 ETag, or a content hash for stores without one). */
export interface VersionedObject {
  readonly data: Uint8Array;
  readonly etag: string;
}

/** The public path of the signed checkpoint. */
export const CHECKPOINT_PATH = 'checkpoint';

// assertPublicPath(path): the path must be `checkpoint` or a canonical tile or
// bundle path (re-formatting the parsed tile must give the same string), so a
// store never touches anything outside the public layout (no `..`, no
// absolute paths, no `x000/001`). Throws TilelogError('LAYOUT_BAD_PATH').
export function assertPublicPath(path: string): void {
  if (path === CHECKPOINT_PATH) return;
  if (typeof path !== 'string' || !path.startsWith('tile/')) {
    throw new TilelogError('LAYOUT_BAD_PATH', `storage: not a public path: ${JSON.stringify(path)}`);
  }
  const tile = parseTilePath(path);
  if (tilePath(tile) !== path) {
    throw new TilelogError('LAYOUT_BAD_PATH', `storage: non-canonical tile path: ${JSON.stringify(path)}`);
  }
}

/** Byte equality of two objects. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return false;
  }
  return true;
}

// contentEtag(data): a strong ETag made of the bytes' SHA-256, for stores that
// have no version tag of their own (files, memory). Equal bytes give equal tags,
// which is all a single writer's compare-and-swap needs.
export function contentEtag(data: Uint8Array): string {
  return `"${bytesToHex(sha256(data))}"`;
}

export function preconditionError(path: string, expected: string | null): TilelogError {
  return new TilelogError(
    'STORAGE_PRECONDITION',
    `storage: ${path} changed since it was read (expected ${expected === null ? 'no object' : `ETag ${expected}`}); another writer published; read it again and reconcile`,
  );
}

export function conflictError(path: string): TilelogError {
  return new TilelogError(
    'STORAGE_CONFLICT',
    `storage: ${path} already exists with different bytes; an immutable object must never change`,
  );
}
