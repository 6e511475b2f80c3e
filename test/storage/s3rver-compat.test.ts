// Protocol compatibility with an independent S3 implementation: s3rver (npm),
// in process on 127.0.0.1 with a temporary directory, through the real SDK.
// s3rver ignores If-None-Match / If-Match on PUT, so the self-test must refuse
// it, and with `unconditional` the store must still read, write and delete.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import S3rver from 's3rver';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { isTilelogError } from '../../src/errors.js';
import { openS3TileStore, type S3TileStoreOptions } from '../../src/storage/s3-tile-store.js';

let dir: string;
let server: S3rver;
let endpoint: string;
beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'tilelog-s3rver-'));
  server = new S3rver({ address: '127.0.0.1', port: 0, directory: dir, silent: true, configureBuckets: [{ name: 'interop' }] });
  const { port } = await server.run();
  endpoint = `http://127.0.0.1:${port}`;
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const options = (): S3TileStoreOptions => ({
  bucket: 'interop',
  prefix: 'log',
  endpoint,
  forcePathStyle: true,
  credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  retry: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 10, totalMs: 5_000, requestTimeoutMs: 5_000 },
});

test('the self-test refuses s3rver: it ignores conditional writes', async () => {
  const err = await openS3TileStore(options()).then(() => undefined, (e: unknown) => e);
  expect(isTilelogError(err, 'STORAGE_NO_CONDITIONAL_WRITES')).toBe(true);
  const message = (err as Error).message;
  expect(message).toContain('If-None-Match: * replaced an existing object');
  expect(message).toContain('--s3-unconditional');
});

test('with unconditional, reads, writes, ETags and deletes work against s3rver', async () => {
  const s = await openS3TileStore({ ...options(), unconditional: true });
  try {
    expect(s.warning).toContain('ignores conditional writes');
    const tile = new Uint8Array(8192).map((_, i) => i % 251);
    expect(await s.read('tile/0/000')).toBeNull();
    await s.createIdempotent('tile/0/000', tile);
    expect(await s.read('tile/0/000')).toEqual(tile);
    const e1 = await s.replaceIfMatch('checkpoint', new TextEncoder().encode('one\n'), null);
    const got = await s.readWithEtag('checkpoint');
    expect(got?.etag).toBe(e1);
    await s.replaceIfMatch('checkpoint', new TextEncoder().encode('two\n'), e1);
    await s.overwrite('tile/0/000.p/1', new Uint8Array(32));
    await s.delete('tile/0/000.p/1');
    await s.delete('tile/0/000.p/1');
    expect(await s.read('tile/0/000.p/1')).toBeNull();
    const res = await fetch(`${endpoint}/interop/log/tile/0/000`);
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  } finally {
    s.close();
  }
});
