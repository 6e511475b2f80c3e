// The PUBLIC tree's storage: the checkpoint, hash tiles and entry bundles,
// under the C2SP tlog-tiles paths (`checkpoint`, `tile/0/x001/234.p/5`,
// `tile/entries/000`). It is UNTRUSTED and rebuildable: the SequenceDB holds
// the truth, and recovery re-checks the right edge of this store against it.
//
// The verbs are named by what they promise (after Tessera's file_ops):
// - createIdempotent: an immutable object. Succeeds if it is absent (then
//   creates it) or already holds exactly these bytes; otherwise throws
//   TilelogError('STORAGE_CONFLICT'). Tiles and bundles use it.
// - overwrite: a mutable object (only `checkpoint` in normal operation;
//   recovery also uses it to repair a damaged tile it has recomputed).
// Every write is durable once its promise resolves, and no reader ever sees a
// torn object (each object appears whole or not at all).

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

export function conflictError(path: string): TilelogError {
  return new TilelogError(
    'STORAGE_CONFLICT',
    `storage: ${path} already exists with different bytes; an immutable object must never change`,
  );
}
