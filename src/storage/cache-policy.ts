// Cache-Control and Content-Type of the public tree's objects, in one place:
// the HTTP server answers with them, and an object store keeps them as object
// metadata set at PUT time (S3 cannot change metadata without a copy), so a
// bucket or a CDN in front of it serves the same promises as tilelog does.

import { parseTilePath, TILE_WIDTH } from '../merkle/layout.js';
import { CHECKPOINT_PATH } from './tile-store.js';

/** Never changes: full tiles and bundles, proofs between fixed tree sizes. */
export const CACHE_IMMUTABLE = 'public, max-age=31536000, immutable';
/**
 * Partial tiles: the bytes of `.p/W` never change, but the file may be deleted
 * once the full tile exists, so caches should not hold it for long.
 */
export const CACHE_PARTIAL = 'public, max-age=60';
/** The checkpoint and answers tied to "the latest" tree: at most a second old. */
export const CACHE_LATEST = 'public, max-age=1';
/**
 * The checkpoint object in a bucket: a cache must revalidate every time. An
 * object store answers the revalidation (If-None-Match → 304) from the ETag
 * without sending the body, so freshness costs a round trip, not bytes.
 */
export const CACHE_REVALIDATE = 'no-cache';

export const CONTENT_TYPE_CHECKPOINT = 'text/plain; charset=utf-8';
export const CONTENT_TYPE_TILE = 'application/octet-stream';

export interface ObjectHeaders {
  readonly cacheControl: string;
  readonly contentType: string;
}

// objectHeaders(path): the metadata a public object is stored with. `path` must
// be a public path (assertPublicPath); a full tile or bundle (W = 256) is
// immutable, a partial `.p/W` short-lived, the checkpoint revalidated.
export function objectHeaders(path: string): ObjectHeaders {
  if (path === CHECKPOINT_PATH) return { cacheControl: CACHE_REVALIDATE, contentType: CONTENT_TYPE_CHECKPOINT };
  const full = parseTilePath(path).width === TILE_WIDTH;
  return { cacheControl: full ? CACHE_IMMUTABLE : CACHE_PARTIAL, contentType: CONTENT_TYPE_TILE };
}
