// Reading files on a client's behalf (tiles, checkpoint, explorer assets)
// without ever serving anything but a regular file strictly inside one root.
//
// The root may itself be a symlink chosen by the operator: it is resolved
// once (realRoot), and everything below it must be real. Per read, race-free
// on Linux:
//   1. open(root/rel, O_RDONLY | O_NOFOLLOW | O_NONBLOCK): a symlink as the
//      last component fails with ELOOP; O_NONBLOCK keeps a FIFO planted in
//      the tree from blocking the open forever.
//   2. fstat the descriptor: it must be a regular file (not a directory,
//      FIFO, socket or device).
//   3. readlink(/proc/self/fd/<fd>): the kernel's path of what was actually
//      opened. It must equal realRoot/rel; it differs when any directory
//      component below the root was a symlink (or was swapped for one while
//      we opened). The check is on the open descriptor, so no later swap can
//      change what is read. Where /proc is absent, realpath(root/rel) is
//      compared instead (a small race between open and realpath remains).
// A refused path reads as absent to the caller (a 404 over HTTP), with the
// reason reported so it can be logged and counted: it is a sign of tampering.
// Hard links cannot be told from the original by path; with the kernel's
// default protected_hardlinks=1 only someone who may already read a file can
// link it into the tree, so they gain nothing.

import * as fs from 'node:fs';
import { open, realpath, type FileHandle } from 'node:fs/promises';
import * as nodePath from 'node:path';

/** The outcome of one read below a root. */
export type SafeRead =
  | { readonly kind: 'file'; readonly data: Uint8Array }
  | { readonly kind: 'absent' }
  | { readonly kind: 'refused'; readonly reason: string };

const OPEN_FLAGS = fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK;

/**
 * The real path of root (symlinks in it resolved), also when root or some of
 * its parents do not exist yet: the nearest existing ancestor is resolved and
 * the missing names appended (they will be created as real directories).
 */
export function realRoot(root: string): string {
  const abs = nodePath.resolve(root);
  const missing: string[] = [];
  let dir = abs;
  for (;;) {
    try {
      return nodePath.join(fs.realpathSync(dir), ...missing.reverse());
    } catch (err) {
      if (errno(err) !== 'ENOENT' && errno(err) !== 'ENOTDIR') throw err;
      const parent = nodePath.dirname(dir);
      if (parent === dir) throw err;
      missing.push(nodePath.basename(dir));
      dir = parent;
    }
  }
}

/**
 * Joins a relative path below a real root; null when rel is empty, absolute,
 * or climbs out (`..`), so the result is always strictly inside the root.
 */
export function pathInside(root: string, rel: string): string | null {
  if (rel.length === 0 || rel.includes('\0') || nodePath.isAbsolute(rel)) return null;
  const full = nodePath.resolve(root, rel);
  return full.startsWith(root + nodePath.sep) ? full : null;
}

/**
 * Reads root/rel if it is a regular file strictly inside root reached
 * without any symlink (see the header); root must come from realRoot().
 * I/O errors other than "not there" are thrown.
 */
export async function readInside(root: string, rel: string): Promise<SafeRead> {
  const full = pathInside(root, rel);
  if (full === null) return { kind: 'refused', reason: 'not a path inside the root' };
  let fh;
  try {
    fh = await open(full, OPEN_FLAGS);
  } catch (err) {
    return openFailure(err);
  }
  try {
    const opened = await openedPath(fh.fd, full);
    const st = await fh.stat();
    const refused = refusal(st, opened, full);
    if (refused !== null) return refused;
    return { kind: 'file', data: await readAll(fh, st.size) };
  } finally {
    await fh.close();
  }
}

/**
 * readInside with synchronous calls, the same steps and checks: for small
 * files that are almost always in the page cache (full hash tiles, 8 KiB,
 * written by this process), where the five calls cost a few microseconds
 * each on the event loop, while the asynchronous version hands four of them
 * to the thread pool and back (the larger cost, measured on a proof's tile
 * misses). The price: a read that does go to the disk blocks the event loop
 * for it, so this is not for large files or slow (network) filesystems.
 */
export function readInsideSync(root: string, rel: string): SafeRead {
  const full = pathInside(root, rel);
  if (full === null) return { kind: 'refused', reason: 'not a path inside the root' };
  let fd;
  try {
    fd = fs.openSync(full, OPEN_FLAGS);
  } catch (err) {
    return openFailure(err);
  }
  try {
    const opened = openedPathSync(fd, full);
    const st = fs.fstatSync(fd);
    const refused = refusal(st, opened, full);
    if (refused !== null) return refused;
    const buf = new Uint8Array(st.size);
    let got = 0;
    while (got < st.size) {
      const n = fs.readSync(fd, buf, got, st.size - got, got);
      if (n === 0) break;
      got += n;
    }
    return { kind: 'file', data: got === st.size ? buf : buf.subarray(0, got) };
  } finally {
    fs.closeSync(fd);
  }
}

// openFailure: what a failed open(OPEN_FLAGS) means to the caller (steps 1
// of the header); errors other than these are thrown.
function openFailure(err: unknown): SafeRead {
  const code = errno(err);
  if (code === 'ENOENT' || code === 'ENOTDIR') return { kind: 'absent' };
  if (code === 'ELOOP') return { kind: 'refused', reason: 'a symlink' };
  if (code === 'ENXIO') return { kind: 'refused', reason: 'not a regular file (a socket)' };
  throw err;
}

// refusal: steps 2 and 3 of the header on an open descriptor (its stat and
// kernel path); null when it may be read.
function refusal(st: fs.Stats, opened: string, full: string): SafeRead | null {
  if (!st.isFile()) return { kind: 'refused', reason: 'not a regular file' };
  if (opened !== full) return { kind: 'refused', reason: `reached through a symlink (it is ${opened})` };
  return null;
}

// readAll: the file's st.size bytes from offset 0 (fewer if it shrank;
// tiles are replaced by rename, so an open one never changes).
async function readAll(fh: FileHandle, size: number): Promise<Uint8Array> {
  const buf = new Uint8Array(size);
  let got = 0;
  while (got < size) {
    const { bytesRead } = await fh.read(buf, got, size - got, got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got === size ? buf : buf.subarray(0, got);
}

/**
 * Checks that root/rel is a real directory strictly inside root (no symlink
 * at any level below root); the same descriptor check as readInside, for
 * writers about to create files in it. Returns null when it is, else why not
 * ('absent' when it does not exist).
 */
export async function checkDirInside(root: string, rel: string): Promise<string | null> {
  const full = rel === '' ? root : pathInside(root, rel);
  if (full === null) return 'not a path inside the root';
  let fh;
  try {
    fh = await open(full, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_DIRECTORY);
  } catch (err) {
    const code = errno(err);
    if (code === 'ENOENT') return 'absent';
    if (code === 'ELOOP' || code === 'ENOTDIR') return 'a symlink or not a directory';
    throw err;
  }
  try {
    const opened = await openedPath(fh.fd, full);
    return opened === full ? null : `reached through a symlink (it is ${opened})`;
  } finally {
    await fh.close();
  }
}

// openedPath: the kernel's name for the open descriptor fd; realpath(full)
// where /proc is not mounted. The readlink is synchronous on purpose: procfs
// answers from memory and never waits on a disk, and a thread-pool round
// trip would cost more than the call (it is one of the hot path's steps).
async function openedPath(fd: number, full: string): Promise<string> {
  try {
    return fs.readlinkSync(`/proc/self/fd/${fd}`);
  } catch (err) {
    if (errno(err) !== 'ENOENT') throw err;
    return realpath(full);
  }
}

function openedPathSync(fd: number, full: string): string {
  try {
    return fs.readlinkSync(`/proc/self/fd/${fd}`);
  } catch (err) {
    if (errno(err) !== 'ENOENT') throw err;
    return fs.realpathSync(full);
  }
}

/** The `code` of a Node error (ENOENT, ELOOP, ...), or undefined. */
export function errno(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
}
