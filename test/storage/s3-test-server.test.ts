// The test S3 server itself (test/support/s3-server.ts): what later suites
// rely on beyond the store contract: listing, addressing, anonymous access,
// holds, and running it as a child process driven over /_s3test/.

import { spawn, type ChildProcess } from 'node:child_process';
import * as http from 'node:http';
import { createInterface } from 'node:readline';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { isTilelogError } from '../../src/errors.js';
import { classifyKey } from '../support/s3-faults.js';
import { BUCKET, TEST_CREDENTIALS, s3Fixture, type S3Fixture } from './s3-helpers.js';

let s3: S3Fixture;
beforeAll(async () => {
  s3 = await s3Fixture();
});
afterAll(async () => {
  s3.closeStores();
  await s3.server.close();
});

test.each([
  ['checkpoint', 'checkpoint'],
  ['p/q/checkpoint', 'checkpoint'],
  ['p/tile/entries/x001/000', 'bundle'],
  ['tile/0/000', 'tile0'],
  ['p/tile/3/x001/000', 'tile-upper'],
  ['tile/0/000.p/5', 'partial'],
  ['tile/entries/000.p/255', 'partial'],
  ['p/.tilelog/probe-1', 'other'],
])('classifies %j as %s', (key, cls) => {
  expect(classifyKey(key)).toBe(cls);
});

test('ListObjectsV2 pages through a prefix with continuation tokens', async () => {
  for (const k of ['ls/a', 'ls/b', 'ls/c', 'ls/d', 'ls/e', 'other/x']) s3.server.putObject(BUCKET, k, new Uint8Array([1]));
  const client = new S3Client({ endpoint: s3.server.url, region: 'us-east-1', forcePathStyle: true, credentials: TEST_CREDENTIALS });
  try {
    const keys: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const out = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'ls/', MaxKeys: 2, ContinuationToken: token }));
      for (const c of out.Contents ?? []) keys.push(c.Key!);
      expect(out.Contents?.[0]?.ETag).toBe('"55a54008ad1ba589aa210d2629c1df41"'); // MD5 of [1]
      token = out.NextContinuationToken;
      pages++;
    } while (token !== undefined);
    expect(keys).toEqual(['ls/a', 'ls/b', 'ls/c', 'ls/d', 'ls/e']);
    expect(pages).toBe(3);
  } finally {
    client.destroy();
  }
});

function rawRequest(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; body: string }> {
  const url = new URL(s3.server.url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
      let b = '';
      res.on('data', (c: Buffer) => (b += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body: b }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('access', () => {
  test('virtual-hosted addressing names the bucket in the Host header', async () => {
    s3.server.putObject(BUCKET, 'vh/checkpoint', new TextEncoder().encode('hello\n'));
    const res = await rawRequest('GET', '/vh/checkpoint', { Host: `${BUCKET}.s3.test:80` });
    expect(res).toEqual({ status: 200, body: 'hello\n' });
  });

  test('unsigned writes are refused; unsigned reads only in public-read mode', async () => {
    s3.server.putObject(BUCKET, 'anon/checkpoint', new TextEncoder().encode('x\n'));
    expect((await rawRequest('PUT', `/${BUCKET}/anon/checkpoint`, {}, 'evil')).status).toBe(403);
    expect(s3.server.getObject(BUCKET, 'anon/checkpoint')?.data.toString()).toBe('x\n');
    s3.server.publicRead = false;
    try {
      const res = await rawRequest('GET', `/${BUCKET}/anon/checkpoint`);
      expect(res.status).toBe(403);
      expect(res.body).toContain('<Code>AccessDenied</Code>');
    } finally {
      s3.server.publicRead = true;
    }
    expect((await rawRequest('GET', `/${BUCKET}/anon/checkpoint`)).status).toBe(200);
  });

  test('a GET with the current ETag in If-None-Match is a 304', async () => {
    const obj = s3.server.putObject(BUCKET, 'cond/checkpoint', new TextEncoder().encode('y\n'));
    const res = await fetch(`${s3.server.url}/${BUCKET}/cond/checkpoint`, { headers: { 'If-None-Match': obj.etag } });
    expect(res.status).toBe(304);
  });
});

test('a held PUT lands late and is refused: the checkpoint never moves back', async () => {
  const a = await s3.open({ prefix: 'hold', userAgent: 'writer-A' });
  const b = await s3.open({ prefix: 'hold', userAgent: 'writer-B' });
  const e1 = await a.replaceIfMatch('checkpoint', new TextEncoder().encode('size 1\n'), null);
  const hold = s3.server.hold({ verb: 'PUT', objectClass: 'checkpoint' });
  const late = a.replaceIfMatch('checkpoint', new TextEncoder().encode('size 2 by A\n'), e1).then(() => undefined, (e: unknown) => e);
  const parked = await hold.next();
  expect(parked.userAgent).toContain('writer-A');
  hold.stop(); // park nothing more (B's write goes through); A's stays parked until released below
  // Meanwhile B publishes from the same ETag.
  await b.replaceIfMatch('checkpoint', new TextEncoder().encode('size 3 by B\n'), e1);
  parked.release();
  expect(isTilelogError(await late, 'STORAGE_PRECONDITION')).toBe(true);
  expect(await b.read('checkpoint')).toEqual(new TextEncoder().encode('size 3 by B\n'));
});

describe('as a child process', () => {
  let child: ChildProcess;
  let url: string;
  beforeAll(async () => {
    child = spawn(process.execPath, ['--import', 'tsx', 'test/support/s3-server-main.ts', '--bucket', 'child-bucket', '--public-read'], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const first = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`s3-server-main exited with ${code}`)));
    });
    url = (JSON.parse(first) as { url: string }).url;
  });
  afterAll(async () => {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.stdin!.end(); // the server exits when its stdin closes
    await exited;
  });

  const control = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const res = await fetch(`${url}/_s3test/${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
    expect(res.status).toBe(200);
    return res.json();
  };

  test('prints its URL, serves a bucket, and takes faults, holds and log queries over /_s3test/', async () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const { openS3TileStore } = await import('../../src/storage/s3-tile-store.js');
    const s = await openS3TileStore({ bucket: 'child-bucket', endpoint: url, forcePathStyle: true, credentials: TEST_CREDENTIALS, retry: { baseDelayMs: 5 } });
    try {
      await control('POST', 'faults', { kind: 'slowdown', verb: 'PUT', keyPattern: '^tile/0/', times: 1 });
      await s.createIdempotent('tile/0/000', new Uint8Array(8192));
      expect(s.counters.retries).toBe(1);
      expect((await fetch(`${url}/child-bucket/tile/0/000`)).status).toBe(200);

      const { id } = (await control('POST', 'holds', { verb: 'PUT', objectClass: 'checkpoint' })) as { id: number };
      const put = s.replaceIfMatch('checkpoint', new TextEncoder().encode('c\n'), null);
      let parked: unknown[] = [];
      while (parked.length === 0) parked = (await control('GET', `holds/${id}`)) as unknown[];
      expect(parked).toMatchObject([{ verb: 'PUT', key: 'checkpoint', objectClass: 'checkpoint' }]);
      await control('POST', `holds/${id}/stop`);
      await control('POST', `holds/${id}/release`);
      await put;

      const log = (await control('GET', 'log')) as { method: string; key: string; status: number }[];
      expect(log.filter((l) => l.key === 'tile/0/000').map((l) => `${l.method} ${l.status}`)).toEqual(['PUT 503', 'PUT 200', 'GET 200']);
      await control('POST', 'heal');
    } finally {
      s.close();
    }
  });
});
