// Cache-Control policies, named by what the answer promises. Those of the
// public tree's objects live in src/storage/cache-policy.ts, shared with the
// object stores that keep them as metadata.

export { CACHE_IMMUTABLE, CACHE_LATEST, CACHE_PARTIAL } from '../storage/cache-policy.js';
/** Answers that must not be cached (writes, errors, health). */
export const CACHE_NONE = 'no-store';
