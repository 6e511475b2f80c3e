// A log on s3rver (SCALE-OUT T10, issue 12): an independent S3 implementation
// from npm, in process on 127.0.0.1, through the real SDK. It ignores
// If-None-Match / If-Match, so a log's store is refused by the self-test
// (STORAGE_NO_CONDITIONAL_WRITES) before anything public is written; with
// `unconditional` (--s3-unconditional) the log runs, publishes, resumes after
// a restart, and the bucket audits over s3rver's own HTTP.
// (test/storage/s3rver-compat.test.ts covers the store's verbs alone.)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import S3rver from 's3rver';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { isTilelogError } from '../../src/errors.js';
import { openFileLog } from '../../src/log/index.js';
import { openS3TileStore, type S3TileStoreOptions } from '../../src/storage/s3-tile-store.js';
import { ORIGIN, quietLogger, testKey, testSigner, utf8 } from './helpers.js';
import { auditUrl } from './s3-log-helpers.js';

let dir: string;
let server: S3rver;
let endpoint: string;
beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'tilelog-s3rver-log-'));
  server = new S3rver({ address: '127.0.0.1', port: 0, directory: path.join(dir, 's3'), silent: true, configureBuckets: [{ name: 'logs' }] });
  const { port } = await server.run();
  endpoint = `http://127.0.0.1:${port}`;
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const options = (prefix: string): S3TileStoreOptions => ({
  bucket: 'logs',
  prefix,
  endpoint,
  forcePathStyle: true,
  credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  retry: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 10, totalMs: 10_000, requestTimeoutMs: 5_000 },
});

test('a log on s3rver is refused by the self-test before anything public is written', async () => {
  const err = await openS3TileStore(options('refused'))
    .then((store) => openFileLog({ origin: ORIGIN, signer: testSigner, stateDir: path.join(dir, 'refused-state'), tileStore: store, logger: quietLogger }))
    .then(
      () => null,
      (e: unknown) => e,
    );
  expect(isTilelogError(err, 'STORAGE_NO_CONDITIONAL_WRITES'), String(err)).toBe(true);
  expect((err as Error).message).toMatch(/the bucket s3:\/\/logs\/refused ignores conditional writes: .*--s3-unconditional/);
  // Nothing public: no checkpoint, no tile.
  expect((await fetch(`${endpoint}/logs/refused/checkpoint`)).status).toBe(404);
});

test('with unconditional, the log publishes on s3rver, resumes after a restart, and the bucket audits over HTTP', async () => {
  const stateDir = path.join(dir, 'ok-state');
  const base = `${endpoint}/logs/ok`;
  let size = 0;
  for (const round of [0, 1]) {
    const store = await openS3TileStore({ ...options('ok'), unconditional: true });
    expect(store.warning).toMatch(/ignores conditional writes/);
    const log = await openFileLog({ origin: ORIGIN, signer: testSigner, stateDir, tileStore: store, logger: quietLogger });
    try {
      expect(log.checkpoint().size).toBe(size);
      const added = await Promise.all(Array.from({ length: 300 }, (_, i) => log.add(utf8(`s3rver ${round} ${i}`))));
      const cp = await log.waitForCheckpoint(Math.max(...added.map((r) => r.index)), AbortSignal.timeout(30_000));
      size = cp.size;
      expect(size).toBe(300 * (round + 1));
      const published = await fetch(`${base}/checkpoint`);
      expect(published.status).toBe(200);
      expect((await published.text()).split('\n')[1]).toBe(String(size));
    } finally {
      await log.close();
      store.close();
    }
  }
  const audited = await auditUrl(base, testKey.verifierKey, ORIGIN);
  expect(audited, JSON.stringify(audited.mismatches)).toMatchObject({ ok: true, treeSize: 600, signatureVerified: true, bundles: 3 });
});
