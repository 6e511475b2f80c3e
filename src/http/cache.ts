// Cache-Control policies, named by what the answer promises.

/** Never changes: full tiles and bundles, proofs between fixed tree sizes. */
export const CACHE_IMMUTABLE = 'public, max-age=31536000, immutable';
/**
 * Partial tiles: the bytes of `.p/W` never change, but the file may be deleted
 * once the full tile exists, so caches should not hold it for long.
 */
export const CACHE_PARTIAL = 'public, max-age=60';
/** The checkpoint and answers tied to "the latest" tree: at most a second old. */
export const CACHE_LATEST = 'public, max-age=1';
/** Answers that must not be cached (writes, errors, health). */
export const CACHE_NONE = 'no-store';
