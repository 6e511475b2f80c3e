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
// One writer per root is assumed (the log that owns it; its state lock keeps
// a second process off the same state, and recovery refuses another log's
// tree). The ETag is therefore the bytes' hash and replaceIfMatch a plain
// compare-then-rename; only an object store can fence several writers.
//
// Whoever can write the directory can at most make audits fail, never make
// the log serve or overwrite anything else (safe-read.ts):
// - read() serves only regular files strictly inside the root reached
//   without a symlink at any level below it (the root itself may be a
//   symlink: it is resolved once, at construction). A refused object reads as
//   absent, and is reported through onRefused and counted in refusedReads.
//   Full hash tiles are read with synchronous calls (isFullHashTilePath), the
//   rest asynchronously; both make the same checks.
// - writes and deletes create their directories one level at a time and
//   check each (opened with O_NOFOLLOW, its kernel path compared with the
//   expected one) before creating, renaming or unlinking anything in it, so
//   a symlinked directory never redirects a write outside the root (a swap
//   racing the check is the one window left: writing needs that access
//   anyway, and what it can redirect is our own public bytes).
// - whatever the process umask: directories it creates get 0755, files 0644
//   (chmod explicitly), so the tree is world-readable and no wider.

import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import * as nodePath from 'node:path';
import { TilelogError, isTilelogError } from '../errors.js';
import { checkDirInside, errno, readInside, readInsideSync, realRoot } from './safe-read.js';
import { isFsStorageCode } from './storage-failure.js';
import {
  assertPublicPath,
  bytesEqual,
  conflictError,
  contentEtag,
  preconditionError,
  type TileStore,
  type VersionedObject,
} from './tile-store.js';

export interface FileTileStoreOptions {
  /** Called for each read refused as unsafe (a symlink, not a regular file): a sign of tampering. */
  onRefused?: (path: string, reason: string) => void;
}

/** Modes of what the store creates, whatever the umask: the public tree is world-readable. */
export const TILE_DIR_MODE = 0o755;
export const TILE_FILE_MODE = 0o644;

export class FileTileStore implements TileStore {
  /** Absolute root directory, symlinks resolved (once, at construction). */
  readonly root: string;
  /** Reads refused since construction (see the header). */
  refusedReads = 0;
  readonly description: string;
  readonly #onRefused: ((path: string, reason: string) => void) | undefined;
  /** The root was found or created (once). */
  private rootMade = false;
  /** Per directory: the fsync in progress and the one queued behind it (group commit). */
  private readonly dirSyncs = new Map<string, { running: Promise<void> | null; queued: Promise<void> | null }>();

  constructor(rootDir: string, options: FileTileStoreOptions = {}) {
    this.root = realRoot(rootDir);
    this.description = `the tiles directory ${this.root}`;
    this.#onRefused = options.onRefused;
  }

  async read(path: string): Promise<Uint8Array | null> {
    this.resolve(path);
    let got;
    try {
      got = isFullHashTilePath(path) ? readInsideSync(this.root, path) : await readInside(this.root, path);
    } catch (err) {
      throw ioError('read', path, err);
    }
    if (got.kind === 'file') return got.data;
    if (got.kind === 'refused') {
      this.refusedReads++;
      this.#onRefused?.(path, got.reason);
    }
    return null;
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

  async readWithEtag(path: string): Promise<VersionedObject | null> {
    const data = await this.read(path);
    return data === null ? null : { data, etag: contentEtag(data) };
  }

  async replaceIfMatch(path: string, data: Uint8Array, etag: string | null): Promise<string> {
    const full = this.resolve(path);
    const existing = await this.read(path);
    if ((existing === null ? null : contentEtag(existing)) !== etag) throw preconditionError(path, etag);
    await this.writeAtomic(full, path, data);
    return contentEtag(data);
  }

  async delete(path: string): Promise<void> {
    const full = this.resolve(path);
    const why = await checkDirInside(this.root, nodePath.relative(this.root, nodePath.dirname(full))).catch((err: unknown) => {
      throw ioError('delete', path, err);
    });
    if (why === 'absent') return;
    if (why !== null) throw unsafeDir('delete', path, why);
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
      const fh = await open(tmp, 'wx', TILE_FILE_MODE);
      try {
        await fh.chmod(TILE_FILE_MODE); // open's mode is filtered by the umask
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

  // ensureDir(dir): before every write in dir, check that dir is a real
  // directory below the root (one descriptor check covers every level: the
  // kernel path differs if any of them is a symlink). A missing dir is
  // created one level at a time, each level checked before anything is
  // created in it (mkdir -p would follow a planted link), with the parent of
  // each new directory fsynced so the new entry is durable too. The root
  // itself is created like mkdir -p if missing.
  private async ensureDir(dir: string): Promise<void> {
    const rel = nodePath.relative(this.root, dir);
    const why = await checkDirInside(this.root, rel);
    if (why === null) return;
    if (why !== 'absent') throw unsafeDir('write in', rel, why);
    if (!this.rootMade) {
      const first = await mkdir(this.root, { recursive: true, mode: TILE_DIR_MODE });
      if (first !== undefined) await chmodCreated(first, this.root);
      this.rootMade = true;
    }
    const names = rel.split(nodePath.sep);
    for (let i = 0; i <= names.length; i++) {
      const at = names.slice(0, i).join(nodePath.sep);
      const full = nodePath.join(this.root, at);
      let levelWhy = await checkDirInside(this.root, at);
      if (levelWhy === 'absent') {
        const created = await mkdir(full, { mode: TILE_DIR_MODE }).then(
          () => true,
          (err: unknown) => {
            if (errno(err) !== 'EEXIST') throw err;
            return false; // a concurrent write made it
          },
        );
        if (created) await chmodDir(full); // mkdir's mode is filtered by the umask
        await fsyncDir(nodePath.dirname(full));
        levelWhy = await checkDirInside(this.root, at);
      }
      if (levelWhy !== null) throw unsafeDir('write in', at, levelWhy);
    }
  }
}

// chmodCreated: mkdir -p applied the umask to first ... last (each a parent
// of the next); set them to TILE_DIR_MODE.
async function chmodCreated(first: string, last: string): Promise<void> {
  for (let d = last; d.length >= first.length; d = nodePath.dirname(d)) await chmodDir(d);
}

// chmodDir: TILE_DIR_MODE on the directory dir itself, through a descriptor
// opened without following a symlink (chmod by path would follow one planted
// in between and change the mode of whatever it points to).
async function chmodDir(dir: string): Promise<void> {
  const fh = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    await fh.chmod(TILE_DIR_MODE);
  } finally {
    await fh.close();
  }
}

// isFullHashTilePath: tile/<L>/<N> without a .p/ width, not an entry bundle:
// 8 KiB, written once by this process and then only read, so hot in the page
// cache; read with synchronous calls (safe-read.ts readInsideSync: the same
// checks). A proof at 10M entries misses the tile cache on most of these.
function isFullHashTilePath(path: string): boolean {
  return path.startsWith('tile/') && !path.startsWith('tile/entries/') && !path.includes('.p/');
}

function unsafeDir(verb: string, path: string, why: string): TilelogError {
  return new TilelogError(
    'STORAGE_UNSAFE_PATH',
    `storage: refusing to ${verb} ${path}: a directory on its way is ${why}; the tiles directory holds something tilelog did not create (remove the symlink)`,
  );
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

// ioError: STORAGE_UNAVAILABLE for a full, read-only or failing disk (a 503:
// retry later), STORAGE_IO for anything else.
function ioError(verb: string, path: string, cause: unknown): TilelogError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  const code = isFsStorageCode(errno(cause)) ? 'STORAGE_UNAVAILABLE' : 'STORAGE_IO';
  return new TilelogError(code, `storage: ${verb} ${path}: ${detail}`, { cause });
}
