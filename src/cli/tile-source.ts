// Where the audit (and tiles copy) reads a log from: a base URL (any
// tlog-tiles server or static host), a local directory laid out the same way
// (e.g. tiles/), or a bucket (s3://<bucket>[/<prefix>], read through the
// S3 store without its write self-test, so read-only credentials do).
// All answer null for an absent object.

import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { openS3TileStore } from '../storage/s3-tile-store.js';
import { formatTileLocation, type S3Settings, type TileLocation } from '../storage/tile-location.js';
import type { TileStore } from '../storage/tile-store.js';
import { getBytes } from './client.js';
import { parseTreeLocation } from './s3-options.js';

export interface TileSource {
  /** Human-readable location. */
  readonly where: string;
  /** Reads `checkpoint` or `tile/...`; null when absent. */
  read(objectPath: string): Promise<Uint8Array | null>;
}

export function urlSource(baseUrl: string): TileSource {
  const base = baseUrl.replace(/\/+$/, '');
  return {
    where: base,
    read: (p) => getBytes(`${base}/${p}`),
  };
}

export function dirSource(dir: string): TileSource {
  const root = path.resolve(dir);
  return {
    where: root,
    async read(p) {
      try {
        return new Uint8Array(await fs.readFile(path.join(root, ...p.split('/'))));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') return null;
        throw err;
      }
    },
  };
}

/** A source reading through a TileStore (a bucket). */
export function storeSource(store: TileStore, where: string): TileSource {
  return { where, read: (p) => store.read(p) };
}

/** A source plus what to release when done (a bucket's sockets). */
export interface OpenedSource {
  readonly source: TileSource;
  close(): void;
}

/** A tree's location as a reader names it: an http(s):// URL, s3://<bucket>[/<prefix>] or a directory. */
export type ReadLocation = { readonly kind: 'url'; readonly url: string } | TileLocation;

/** Parses a reader's target; `source` names the argument in a UsageError. */
export function parseReadLocation(source: string, target: string): ReadLocation {
  if (/^https?:\/\//i.test(target)) return { kind: 'url', url: target };
  return parseTreeLocation(source, target);
}

/** Opens a reader's source: a bucket without the write self-test (reads need only GetObject). */
export async function openTreeSource(loc: ReadLocation, s3: S3Settings): Promise<OpenedSource> {
  if (loc.kind === 'url') return { source: urlSource(loc.url), close: () => {} };
  if (loc.kind === 'dir') return { source: dirSource(loc.path), close: () => {} };
  const store = await openS3TileStore({ ...s3, bucket: loc.bucket, prefix: loc.prefix, selfTest: false });
  return { source: storeSource(store, formatTileLocation(loc)), close: () => store.close() };
}
