// A store whose reads lag its writes (stale reads), with a lost answer to a
// checkpoint PUT: the retry is refused (412: our own write landed) and the
// read-back still shows the old version (or none). That is not another
// writer: the log must not stop publishing with LOG_SUPERSEDED; it retries
// (STORAGE_UNAVAILABLE meanwhile: at open, "retry later") and publishes once
// reads catch up. The matrix (s3-fault-matrix.test.ts) covers a later write;
// this covers the very first checkpoint of a new log, where the stale read
// shows no object at all.
import * as path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { openFileLog } from '../../src/log/index.js';
import { openS3TileStore } from '../../src/storage/s3-tile-store.js';
import { startS3TestServer, type S3TestServer } from '../support/s3-server.js';
import { TEST_CREDENTIALS } from '../storage/s3-helpers.js';
import { ORIGIN, quietLogger, tempDir, testSigner, utf8 } from './helpers.js';

let srv: S3TestServer;
const tmp = tempDir('tilelog-s3-stale-cp-');
beforeAll(async () => {
  srv = await startS3TestServer({ buckets: ['stale-cp'], publicRead: true });
});
afterAll(async () => {
  await srv.close();
  tmp.cleanup();
});

test("a new log's first checkpoint write loses its answer while reads are stale: the open says retry later, never LOG_SUPERSEDED; it opens and publishes once reads catch up", async () => {
  const store = await openS3TileStore({
    bucket: 'stale-cp',
    prefix: 'first',
    endpoint: srv.url,
    forcePathStyle: true,
    credentials: TEST_CREDENTIALS,
    userAgent: 'stale-cp-writer',
    retry: { maxAttempts: 3, baseDelayMs: 2, maxDelayMs: 10, totalMs: 3_000, requestTimeoutMs: 2_000 },
  });
  try {
    const stale = srv.inject({ kind: 'stale', verb: 'GET', userAgent: 'stale-cp-writer', objectClass: 'checkpoint' });
    const lost = srv.inject({ kind: 'lost', verb: 'PUT', objectClass: 'checkpoint', times: 1 });
    const stateDir = path.join(tmp.dir, 'state');
    const open = () => openFileLog({ origin: ORIGIN, signer: testSigner, stateDir, tileStore: store, logger: quietLogger });
    // Bounded: an open that keeps re-creating the checkpoint while reads say it is absent never settles.
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<Error>((resolve) => (timer = setTimeout(() => resolve(new Error('the open neither failed nor succeeded within 20 s')), 20_000)));
    const err = await Promise.race([
      open().then(
        async (log) => {
          await log.close();
          return null;
        },
        (e: unknown) => e,
      ),
      deadline,
    ]);
    clearTimeout(timer);
    expect(lost.hits).toBe(1);
    expect(stale.hits).toBeGreaterThan(0);
    expect(err).toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
    expect((err as Error).message).toMatch(/reads lag its writes; retry later/);
    stale.remove();
    const log = await open();
    try {
      const r = await log.add(utf8('after'));
      expect((await log.waitForCheckpoint(r.index, AbortSignal.timeout(10_000))).size).toBe(1);
      expect(log.stats().publication.stopped).toBeNull();
    } finally {
      await log.close();
    }
  } finally {
    store.close();
  }
});
