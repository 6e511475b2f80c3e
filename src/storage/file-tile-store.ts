// FileTileStore: the public tree as plain files under one root directory, so
// the directory itself, served by any static file server, is the log.
//
// Atomicity and durability (every write):
//   1. write the bytes to a temp file in the SAME directory (same filesystem,
//      so rename is atomic), 2. fsync the temp file, 3. rename it over the
//      target, 4. fsync the directory so the rename itself survives a crash.
// A reader therefore sees the old object or the new one, never a torn one,
// and the object is durable when the promise resolves.
// A crash between 1 and 3 can leave a `.<name>.tmp-<random>` file behind; it
// is never served as a tile (it is not a canonical path) and is harmless.
//
// Paths must be canonical public paths (`checkpoint`, `tile/...`) and must
// resolve inside the root; anything else throws LAYOUT_BAD_PATH.
// One writer per root is assumed (the log that owns it).

import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import * as nodePath from 'node:path';
import { TilelogError, isTilelogError } from '../errors.js';
import { isFsStorageCode } from './storage-failure.js';
import { assertPublicPath, bytesEqual, conflictError, type TileStore } from './tile-store.js';

export class FileTileStore implements TileStore {
  /** Absolute root directory. */
  readonly root: string;
  /** Directories known to exist (and to be durable), to skip repeated mkdir calls. */
  private readonly knownDirs = new Set<string>();
  /** Per directory: the fsync in progress and the one queued behind it (group commit). */
  private readonly dirSyncs = new Map<string, { running: Promise<void> | null; queued: Promise<void> | null }>();

  constructor(rootDir: string) {
    this.root = nodePath.resolve(rootDir);
  }

  async read(path: string): Promise<Uint8Array | null> {
    const full = this.resolve(path);
    try {
      const buf = await readFile(full);
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    } catch (err) {
      if (errno(err) === 'ENOENT') return null;
      throw ioError('read', path, err);
    }
  }

  async createIdempotent(path: string, data: Uint8Array): Promise<void> {
    const full = this.resolve(path);
    const existing = await this.read(path);
    if (existing !== null) {
      if (!bytesEqual(existing, data)) throw conflictError(path);
      return;
    }
    await this.writeAtomic(full, path, data);
  }

  async overwrite(path: string, data: Uint8Array): Promise<void> {
    await this.writeAtomic(this.resolve(path), path, data);
  }

  async delete(path: string): Promise<void> {
    const full = this.resolve(path);
    try {
      await unlink(full);
    } catch (err) {
      if (errno(err) === 'ENOENT') return;
      throw ioError('delete', path, err);
    }
    await this.syncDir(nodePath.dirname(full)).catch((err: unknown) => {
      throw ioError('delete', path, err);
    });
  }

  // resolve(path): the absolute file path, after checking the public layout
  // and that the result stays strictly inside the root.
  private resolve(path: string): string {
    assertPublicPath(path);
    const full = nodePath.resolve(this.root, path);
    if (!full.startsWith(this.root + nodePath.sep)) {
      throw new TilelogError('LAYOUT_BAD_PATH', `storage: path escapes the root: ${JSON.stringify(path)}`);
    }
    return full;
  }

  // writeAtomic: temp file, write, fsync, rename, fsync dir (see header).
  private async writeAtomic(full: string, path: string, data: Uint8Array): Promise<void> {
    const dir = nodePath.dirname(full);
    const tmp = nodePath.join(dir, `.${nodePath.basename(full)}.tmp-${randomBytes(6).toString('hex')}`);
    try {
      await this.ensureDir(dir);
      const fh = await open(tmp, 'wx', 0o644);
      try {
        await fh.writeFile(data);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, full);
      await this.syncDir(dir);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      if (isTilelogError(err)) throw err;
      throw ioError('write', path, err);
    }
  }

  // syncDir(dir): an fsync of dir that STARTS after this call, shared with
  // other writers in the same directory (group commit): if one is running,
  // join the single fsync queued behind it; writes that land while a pass of
  // 64 bundles is in flight then cost one directory fsync, not 64.
  private syncDir(dir: string): Promise<void> {
    let s = this.dirSyncs.get(dir);
    if (s === undefined) {
      s = { running: null, queued: null };
      this.dirSyncs.set(dir, s);
    }
    const state = s;
    if (state.queued !== null) return state.queued;
    const start = (): Promise<void> => {
      const p = fsyncDir(dir).finally(() => {
        if (state.running === p) state.running = null;
        if (state.running === null && state.queued === null) this.dirSyncs.delete(dir);
      });
      state.running = p;
      return p;
    };
    if (state.running === null) return start();
    const queued = state.running
      .catch(() => undefined)
      .then(() => {
        state.queued = null;
        return start();
      });
    state.queued = queued;
    return queued;
  }

  // ensureDir(dir): mkdir -p, then fsync the parent of every directory it
  // created so the new directory entries are durable too.
  private async ensureDir(dir: string): Promise<void> {
    if (this.knownDirs.has(dir)) return;
    const first = await mkdir(dir, { recursive: true });
    if (first !== undefined) {
      // Created first ... dir; their parents are dirname(first) ... dirname(dir).
      let d = dir;
      const parents: string[] = [];
      while (d.length >= first.length) {
        parents.push(nodePath.dirname(d));
        d = nodePath.dirname(d);
      }
      for (const p of parents.reverse()) await fsyncDir(p);
    }
    this.knownDirs.add(dir);
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function errno(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}

// ioError: STORAGE_UNAVAILABLE for a full, read-only or failing disk (a 503:
// retry later), STORAGE_IO for anything else.
function ioError(verb: string, path: string, cause: unknown): TilelogError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  const code = isFsStorageCode(errno(cause)) ? 'STORAGE_UNAVAILABLE' : 'STORAGE_IO';
  return new TilelogError(code, `storage: ${verb} ${path}: ${detail}`, { cause });
}
