import * as path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { isTilelogError } from '../../src/errors.js';
import { FileTileStore } from '../../src/storage/file-tile-store.js';
import { S3TileStore } from '../../src/storage/s3-tile-store.js';
import { formatTileLocation, openTileStore, parseTileLocation } from '../../src/storage/tile-location.js';
import { tempDir } from '../log/helpers.js';
import { BUCKET, FAST_RETRY, TEST_CREDENTIALS, s3Fixture, type S3Fixture } from './s3-helpers.js';

let s3: S3Fixture;
beforeAll(async () => {
  s3 = await s3Fixture();
});
afterAll(async () => {
  await s3.server.close();
});

test.each([
  ['/srv/tiles', { kind: 'dir', path: '/srv/tiles' }],
  ['tiles', { kind: 'dir', path: 'tiles' }],
  ['s3://my-log', { kind: 's3', bucket: 'my-log', prefix: '' }],
  ['s3://my-log/', { kind: 's3', bucket: 'my-log', prefix: '' }],
  ['s3://my.log-2/prod/eu/', { kind: 's3', bucket: 'my.log-2', prefix: 'prod/eu' }],
])('parses %j', (value, want) => {
  expect(parseTileLocation(value)).toEqual(want);
});

test.each([
  ['', 'give a directory'],
  ['https://example.com/log', 'only a directory or s3://'],
  ['s3://', 'bad bucket name'],
  ['s3://ab', 'bad bucket name'],
  ['s3://My-Log', 'bad bucket name'],
  ['s3://my..log', 'bad bucket name'],
  ['s3://-log', 'bad bucket name'],
  ['s3://192.168.1.1', 'bad bucket name'],
  [`s3://${'a'.repeat(64)}`, 'bad bucket name'],
  ['s3://my-log//p', 'empty path segment'],
  ['s3://my-log/a/../b', '"." and ".."'],
  ['s3://my-log/a b', 'letters, digits'],
  ['s3://my-log/a%2Fb', 'letters, digits'],
])('refuses %j with LOG_CONFIG', (value, msg) => {
  const err = (() => {
    try {
      parseTileLocation(value);
    } catch (e) {
      return e;
    }
    return undefined;
  })();
  expect(isTilelogError(err, 'LOG_CONFIG')).toBe(true);
  expect((err as Error).message).toContain(msg);
});

test('formatTileLocation round-trips', () => {
  for (const v of ['/srv/tiles', 's3://my-log', 's3://my-log/a/b']) expect(formatTileLocation(parseTileLocation(v))).toBe(v);
});

test('openTileStore opens a directory or a bucket', async () => {
  const tmp = tempDir('tilelog-loc-');
  try {
    const dir = await openTileStore(path.join(tmp.dir, 'tiles'));
    expect(dir).toBeInstanceOf(FileTileStore);
    const bucket = await openTileStore(`s3://${BUCKET}/loc`, {
      endpoint: s3.server.url,
      forcePathStyle: true,
      credentials: TEST_CREDENTIALS,
      retry: FAST_RETRY,
    });
    expect(bucket).toBeInstanceOf(S3TileStore);
    expect(bucket.description).toBe(`the bucket s3://${BUCKET}/loc`);
    await bucket.createIdempotent('tile/0/000.p/1', new Uint8Array(32));
    expect(s3.server.keys(BUCKET, 'loc/')).toEqual(['loc/tile/0/000.p/1']);
    (bucket as S3TileStore).close();
  } finally {
    tmp.cleanup();
  }
});
