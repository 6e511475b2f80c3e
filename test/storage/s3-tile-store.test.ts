// S3TileStore beyond the shared contract: object metadata per class, retries
// and their bound, lost answers, hangs, stale reads, the self-test, and the
// missing-SDK message. Real HTTP on 127.0.0.1, the real AWS SDK, the test S3
// server (test/support/s3-server.ts). No timing thresholds: outcomes and the
// server's request log only.

import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { isTilelogError } from '../../src/errors.js';
import { openS3TileStore } from '../../src/storage/s3-tile-store.js';
import type { FaultKind } from '../support/s3-faults.js';
import { BUCKET, FAST_RETRY, TEST_CREDENTIALS, s3Fixture, type S3Fixture } from './s3-helpers.js';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

let s3: S3Fixture;
beforeAll(async () => {
  s3 = await s3Fixture();
});
afterAll(async () => {
  await s3.server.close();
});
afterEach(() => {
  s3.server.heal();
  s3.closeStores();
});

async function errorOf(p: Promise<unknown>): Promise<{ code: string | undefined; message: string }> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  if (err === undefined) throw new Error('expected a rejection');
  return { code: isTilelogError(err) ? err.code : undefined, message: err instanceof Error ? err.message : String(err) };
}

/** The log entries for one key since `from` (an index into the log), as "VERB status". */
function trail(key: string, from = 0): string[] {
  return s3.server.log.slice(from).filter((l) => l.key === key).map((l) => `${l.method} ${String(l.status)}`);
}

describe('object metadata', () => {
  test('Cache-Control and Content-Type per object class, stored at PUT and served to a plain fetch', async () => {
    const s = await s3.open();
    const full = new Uint8Array(8192).fill(7);
    await s.createIdempotent('tile/0/000', full);
    await s.createIdempotent('tile/1/000.p/3', new Uint8Array(96));
    await s.createIdempotent('tile/entries/000', text('bundle'));
    await s.createIdempotent('tile/entries/001.p/9', text('partial bundle'));
    await s.replaceIfMatch('checkpoint', text('origin\n1\nhash\n'), null);
    const want: [string, string, string][] = [
      ['tile/0/000', 'public, max-age=31536000, immutable', 'application/octet-stream'],
      ['tile/1/000.p/3', 'public, max-age=60', 'application/octet-stream'],
      ['tile/entries/000', 'public, max-age=31536000, immutable', 'application/octet-stream'],
      ['tile/entries/001.p/9', 'public, max-age=60', 'application/octet-stream'],
      ['checkpoint', 'no-cache', 'text/plain; charset=utf-8'],
    ];
    for (const [path, cacheControl, contentType] of want) {
      const key = s.objectKey(path);
      expect(key).toBe(`${s.prefix}/${path}`);
      const stored = s3.server.getObject(BUCKET, key);
      expect(stored?.cacheControl, path).toBe(cacheControl);
      expect(stored?.contentType, path).toBe(contentType);
      // The bucket's public URL is what tlog-tiles clients read.
      const res = await fetch(`${s3.server.url}/${BUCKET}/${key}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('cache-control'), path).toBe(cacheControl);
      expect(res.headers.get('content-type'), path).toBe(contentType);
      expect(new Uint8Array(await res.arrayBuffer())).toEqual(await s.read(path));
    }
  });

  test('counters count requests and bytes; the user agent names the writer', async () => {
    const s = await s3.open({ userAgent: 'tilelog-writer-A' });
    await s.createIdempotent('tile/0/000.p/1', new Uint8Array(32));
    await s.createIdempotent('tile/0/000.p/1', new Uint8Array(32)); // 412, then GET to compare
    await s.read('tile/0/000.p/1');
    await s.delete('tile/0/000.p/1');
    expect(s.counters).toEqual({ puts: 2, putBytes: 64, gets: 2, deletes: 1, retries: 0, preconditionFailed: 1, conflicts: 0 });
    const mine = s3.server.log.filter((l) => l.key === s.objectKey('tile/0/000.p/1'));
    expect(mine).toHaveLength(5);
    for (const l of mine) expect(l.userAgent).toContain('tilelog-writer-A');
  });
});

describe('retries', () => {
  test.each<FaultKind>(['slowdown', 'conflict', 'fail'])('%s twice on a PUT: retried, then stored once', async (kind) => {
    const s = await s3.open();
    const key = s.objectKey('tile/0/x001/000');
    const from = s3.server.log.length;
    const fault = s3.server.inject({ kind, verb: 'PUT', objectClass: 'tile0', times: 2 });
    await s.createIdempotent('tile/0/x001/000', text('tile'));
    expect(fault.hits).toBe(2);
    expect(s.counters.retries).toBe(2);
    expect(trail(key, from)).toEqual(['PUT ' + ({ slowdown: 503, conflict: 409, fail: 500 } as Record<string, number>)[kind], expect.any(String), 'PUT 200']);
    expect(s3.server.getObject(BUCKET, key)?.data.toString()).toBe('tile');
  });

  test('a GET failing with 503 is retried', async () => {
    const s = await s3.open();
    await s.replaceIfMatch('checkpoint', text('cp\n'), null);
    s3.server.inject({ kind: 'slowdown', verb: 'GET', objectClass: 'checkpoint', times: 1 });
    expect(await s.read('checkpoint')).toEqual(text('cp\n'));
    expect(s.counters.retries).toBe(1);
  });

  test('exhausting the bound gives STORAGE_UNAVAILABLE naming the bucket, key and last error', async () => {
    const s = await s3.open();
    const key = s.objectKey('tile/entries/000');
    s3.server.inject({ kind: 'slowdown', objectClass: 'bundle' });
    const err = await errorOf(s.createIdempotent('tile/entries/000', text('b')));
    expect(err.code).toBe('STORAGE_UNAVAILABLE');
    expect(err.message).toContain(`s3://${BUCKET}/${key}`);
    expect(err.message).toContain('SlowDown');
    expect(err.message).toContain(`${FAST_RETRY.maxAttempts} attempts`);
    expect(trail(key)).toHaveLength(FAST_RETRY.maxAttempts);
    expect(s3.server.getObject(BUCKET, key)).toBeUndefined();
  });

  test('the total time bounds the retries too', async () => {
    const s = await s3.open({ retry: { ...FAST_RETRY, maxAttempts: 1000, baseDelayMs: 50, maxDelayMs: 50, totalMs: 300 } });
    s3.server.inject({ kind: 'fail', objectClass: 'tile-upper' });
    const err = await errorOf(s.createIdempotent('tile/2/000', text('t')));
    expect(err.code).toBe('STORAGE_UNAVAILABLE');
    // 300 ms of backoffs below 50 ms each cannot reach 1000 attempts.
    expect(trail(s.objectKey('tile/2/000')).length).toBeLessThan(1000);
  });

  test('a hung request times out and is retried', async () => {
    const s = await s3.open({ retry: { ...FAST_RETRY, requestTimeoutMs: 200 } });
    const key = s.objectKey('tile/0/000.p/7');
    s3.server.inject({ kind: 'hang', verb: 'PUT', objectClass: 'partial', times: 1 });
    await s.createIdempotent('tile/0/000.p/7', new Uint8Array(224));
    expect(trail(key)).toEqual(['PUT hung', 'PUT 200']);
    s3.server.inject({ kind: 'hang', verb: 'GET', objectClass: 'partial', times: 1 });
    expect(await s.read('tile/0/000.p/7')).toEqual(new Uint8Array(224));
    expect(s.counters.retries).toBe(2);
  });

  test('a missing bucket fails at once with STORAGE_IO saying what to do', async () => {
    const s = await s3.open({ bucket: 'no-such-bucket' });
    const err = await errorOf(s.read('checkpoint'));
    expect(err.code).toBe('STORAGE_IO');
    expect(err.message).toContain('no-such-bucket does not exist');
    expect(s.counters.retries).toBe(0);
  });
});

describe('lost answers', () => {
  test.each<FaultKind>(['lost', 'applied-500'])('createIdempotent whose PUT was applied but %s: the 412 comparison makes it a success', async (kind) => {
    const s = await s3.open();
    const key = s.objectKey('tile/entries/x002/000');
    s3.server.inject({ kind, verb: 'PUT', key, times: 1 });
    await s.createIdempotent('tile/entries/x002/000', text('entries'));
    expect(trail(key)).toEqual([`PUT ${kind === 'lost' ? 'reset' : 500}`, 'PUT 412', 'GET 200']);
    expect(s.counters.preconditionFailed).toBe(1);
  });

  test.each<FaultKind>(['lost', 'applied-500'])('replaceIfMatch whose PUT was applied but %s: recognised by reading back our own bytes', async (kind) => {
    const s = await s3.open();
    const e1 = await s.replaceIfMatch('checkpoint', text('size 1\n'), null);
    const key = s.objectKey('checkpoint');
    const from = s3.server.log.length;
    s3.server.inject({ kind, verb: 'PUT', objectClass: 'checkpoint', times: 1 });
    const e2 = await s.replaceIfMatch('checkpoint', text('size 2\n'), e1);
    expect(trail(key, from)).toEqual([`PUT ${kind === 'lost' ? 'reset' : 500}`, 'PUT 412', 'GET 200']);
    expect(e2).toBe(s3.server.getObject(BUCKET, key)?.etag);
    // The returned ETag chains: the next publication goes through.
    await s.replaceIfMatch('checkpoint', text('size 3\n'), e2);
  });

  test('a 412 after an uncertain attempt is still a precondition failure when someone else wrote', async () => {
    const s = await s3.open();
    const e1 = await s.replaceIfMatch('checkpoint', text('ours 1\n'), null);
    s3.server.putObject(BUCKET, s.objectKey('checkpoint'), text('theirs 2\n'));
    s3.server.inject({ kind: 'fail', verb: 'PUT', objectClass: 'checkpoint', times: 1 });
    expect((await errorOf(s.replaceIfMatch('checkpoint', text('ours 2\n'), e1))).code).toBe('STORAGE_PRECONDITION');
    expect(await s.read('checkpoint')).toEqual(text('theirs 2\n'));
  });

  test('without an uncertain attempt, equal bytes under a stale ETag are still refused', async () => {
    const s = await s3.open();
    const e1 = await s.replaceIfMatch('checkpoint', text('one\n'), null);
    s3.server.putObject(BUCKET, s.objectKey('checkpoint'), text('two\n'));
    expect((await errorOf(s.replaceIfMatch('checkpoint', text('two\n'), e1))).code).toBe('STORAGE_PRECONDITION');
    expect(s.counters.conflicts).toBe(1);
  });
});

describe('stale reads', () => {
  test('a stale read of the checkpoint cannot roll it back: the write with the stale ETag is refused', async () => {
    const s = await s3.open();
    const e1 = await s.replaceIfMatch('checkpoint', text('size 1\n'), null);
    await s.replaceIfMatch('checkpoint', text('size 2\n'), e1);
    s3.server.inject({ kind: 'stale', objectClass: 'checkpoint', times: 1 });
    const seen = await s.readWithEtag('checkpoint');
    expect(seen).toEqual({ data: text('size 1\n'), etag: e1 });
    expect((await errorOf(s.replaceIfMatch('checkpoint', text('size 1 again\n'), seen!.etag))).code).toBe('STORAGE_PRECONDITION');
    expect(await s.read('checkpoint')).toEqual(text('size 2\n'));
  });
});

describe('self-test and opening', () => {
  test('the test server enforces conditional writes: the self-test passes and leaves no probe behind', async () => {
    const s = await s3.open({ selfTest: true, prefix: 'selftest' });
    expect(s.warning).toBeNull();
    const probes = s3.server.log.filter((l) => l.key.startsWith('selftest/.tilelog/probe-'));
    expect(probes.map((l) => `${l.method} ${String(l.status)}`)).toEqual(['PUT 200', 'PUT 412', 'PUT 412', 'PUT 404', 'DELETE 204', 'DELETE 204']);
    expect(s3.server.keys(BUCKET, 'selftest/')).toEqual([]);
    expect(s.counters.puts).toBe(0); // counters start after the probe
  });

  test('a self-test that cannot reach the store fails the open', async () => {
    const err = await errorOf(s3.open({ selfTest: true, bucket: 'no-such-bucket' }));
    expect(err.code).toBe('STORAGE_IO');
  });

  test('a missing SDK is reported with the npm command', async () => {
    const err = await errorOf(
      openS3TileStore({ bucket: BUCKET, endpoint: s3.server.url, credentials: TEST_CREDENTIALS, sdkModule: '@aws-sdk/client-s3-not-installed' }),
    );
    expect(err.code).toBe('LOG_CONFIG');
    expect(err.message).toContain('npm install @aws-sdk/client-s3@3.1175.0');
  });

  test.each([
    [{ bucket: 'Upper' }, 'bad bucket name'],
    [{ prefix: 'a/../b' }, 'bad key prefix'],
    [{ endpoint: 'ftp://x' }, 'http:// or https://'],
    [{ retry: { maxAttempts: 0 } }, 'maxAttempts'],
  ])('bad options %j are refused before any request', async (o, msg) => {
    const from = s3.server.log.length;
    const err = await errorOf(s3.open(o));
    expect(err.message).toContain(msg);
    expect(s3.server.log.length).toBe(from);
  });
});
