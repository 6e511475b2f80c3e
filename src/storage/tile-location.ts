// Where a log's public tree lives, from a `--tiles` value: a directory path
// (the default, FileTileStore) or `s3://<bucket>[/<prefix>]` (S3TileStore).
// Parsing is pure and fails early with what to fix; opening an s3:// store
// loads the optional SDK only then (s3-tile-store.ts).

import { TilelogError } from '../errors.js';
import { FileTileStore } from './file-tile-store.js';
import { assertBucketName, normalizePrefix } from './s3-names.js';
import { openS3TileStore, type S3TileStoreOptions } from './s3-tile-store.js';
import type { TileStore } from './tile-store.js';

export type TileLocation =
  | { readonly kind: 'dir'; readonly path: string }
  | { readonly kind: 's3'; readonly bucket: string; readonly prefix: string };

/** The S3 settings that do not come from the URL (endpoint, region, credentials, self-test, ...). */
export type S3Settings = Omit<S3TileStoreOptions, 'bucket' | 'prefix'>;

// parseTileLocation(value): "s3://bucket[/prefix]" or a directory path. Any
// other "<scheme>://" is refused rather than taken as a relative directory.
export function parseTileLocation(value: string): TileLocation {
  if (typeof value !== 'string' || value === '') {
    throw new TilelogError('LOG_CONFIG', '--tiles: give a directory or s3://<bucket>[/<prefix>]');
  }
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(value);
  if (scheme === null) return { kind: 'dir', path: value };
  if (scheme[1] !== 's3') {
    throw new TilelogError(
      'LOG_CONFIG',
      `--tiles ${JSON.stringify(value)}: only a directory or s3://<bucket>[/<prefix>] can hold a tree (for a tree served over HTTP, readers take its URL instead)`,
    );
  }
  const rest = value.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  assertBucketName(bucket);
  return { kind: 's3', bucket, prefix: normalizePrefix(slash === -1 ? '' : rest.slice(slash + 1)) };
}

/** The URL form of a location, for messages and config round trips. */
export function formatTileLocation(loc: TileLocation): string {
  if (loc.kind === 'dir') return loc.path;
  return `s3://${loc.bucket}${loc.prefix === '' ? '' : `/${loc.prefix}`}`;
}

/** Opens the store at a location (parsed first if a string). */
export async function openTileStore(location: TileLocation | string, s3: S3Settings = {}): Promise<TileStore> {
  const loc = typeof location === 'string' ? parseTileLocation(location) : location;
  if (loc.kind === 'dir') return new FileTileStore(loc.path);
  return openS3TileStore({ ...s3, bucket: loc.bucket, prefix: loc.prefix });
}
