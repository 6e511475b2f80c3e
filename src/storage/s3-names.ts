// Bucket names and key prefixes for an S3 tile store, checked before any
// request: a typo should fail at startup with what to fix, not as a 400 from
// the store (or worse, a write to some other bucket or under some other path).

import { TilelogError } from '../errors.js';

function configError(message: string): TilelogError {
  return new TilelogError('LOG_CONFIG', message);
}

const BUCKET_RE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const IPV4_RE = /^\d{1,3}(\.\d{1,3}){3}$/;

// assertBucketName(name): the S3 rules for a bucket usable with both path-style
// and virtual-hosted addressing: 3..63 characters of [a-z0-9.-], starting and
// ending with a letter or digit, no "..", not an IPv4 address, no "xn--" start.
export function assertBucketName(name: string): void {
  if (BUCKET_RE.test(name) && !name.includes('..') && !IPV4_RE.test(name) && !name.startsWith('xn--')) return;
  throw configError(
    `s3: bad bucket name ${JSON.stringify(name)}: use 3 to 63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit (not an IP address)`,
  );
}

const SEGMENT_RE = /^[A-Za-z0-9._~-]+$/;
/** Longest prefix accepted, leaving room under S3's 1024-byte key limit for the tile paths. */
export const MAX_PREFIX_LENGTH = 512;

// normalizePrefix(prefix): the key prefix without leading or trailing "/"
// ("" for none). Segments are URL-unreserved characters only, so the
// public URL of every object is <endpoint>/<bucket>/<prefix>/<path> with no
// escaping; "." and ".." are refused (a CDN or reader would collapse them).
export function normalizePrefix(prefix: string): string {
  const p = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  if (p === '') return '';
  const bad = (why: string): TilelogError =>
    configError(`s3: bad key prefix ${JSON.stringify(prefix)}: ${why}`);
  if (p.length > MAX_PREFIX_LENGTH) throw bad(`longer than ${MAX_PREFIX_LENGTH} characters`);
  for (const seg of p.split('/')) {
    if (seg === '') throw bad('empty path segment (a leading "/" or "//")');
    if (seg === '.' || seg === '..') throw bad('"." and ".." segments are not allowed');
    if (!SEGMENT_RE.test(seg)) throw bad('use letters, digits and . _ ~ - between slashes');
  }
  return p;
}
