// Statement timeouts (the server's statement_timeout, set by the database
// URL's ?statement_timeout=): a call the server cancels rolled back, so it
// answers "nothing was stored; retry" (STORAGE_UNAVAILABLE, 503), never an
// index and never a false "stored"; the retry stores the entry once.
//   - a batch waiting for the sequencing row lock another session holds;
//   - a batch slowed inside its inserts (a test-only pg_sleep trigger);
//   - no answer at all (a black-holed connection): the client's own deadline
//     resets the connection; a write is "may have been stored" (its bytes may
//     still arrive), a read is unavailable; after the heal the retry finds
//     the entry stored exactly once;
//   - a log's add, and the signer's commit of the tree state blocked behind a
//     lock on the tree_state row: retried, not fatal, no fork, published.

import { afterAll, beforeAll, expect, test } from 'vitest';
import type pg from 'pg';
import { openPgLog, type PgLog } from '../../src/log/pg-log.js';
import { isOutcomeUnknown } from '../../src/storage/pg-errors.js';
import { PgLogStore } from '../../src/storage/pg-log-store.js';
import { schemaNameForOrigin } from '../../src/storage/pg-schema.js';
import { openS3TileStore } from '../../src/storage/s3-tile-store.js';
import { ORIGIN, quietLogger, testSigner, utf8 } from '../log/helpers.js';
import { admin, describePg, freshDatabase, sharedCluster } from '../support/postgres.js';
import { startS3TestServer, type S3TestServer } from '../support/s3-server.js';
import { startPgProxy } from '../support/pg-proxy.js';
import { item } from './log-store-contract.js';
import { TEST_CREDENTIALS } from './s3-helpers.js';

const TIMEOUT_MS = 800;
let dbUrl = '';
let srv: S3TestServer;

/** A session that holds a row lock until released (what a slow or stuck operator transaction does). */
async function holdLock(sql: string): Promise<{ release(): Promise<void> }> {
  const { default: PgClient } = await import('pg').then((m) => ({ default: m.default.Client }));
  const c: pg.Client = new PgClient({ connectionString: dbUrl });
  await c.connect();
  await c.query('BEGIN');
  await c.query(sql);
  return {
    async release() {
      await c.query('ROLLBACK');
      await c.end();
    },
  };
}

const withTimeout = (url: string): string => `${url}?statement_timeout=${TIMEOUT_MS}`;

describePg('PostgreSQL statement timeouts', () => {
  beforeAll(async () => {
    dbUrl = await freshDatabase(await sharedCluster(), 'timeouts');
    srv = await startS3TestServer({ buckets: ['pgtimeouts'], publicRead: true });
  });
  afterAll(async () => {
    await srv?.close();
  });

  test('a batch waiting for the sequencing lock past statement_timeout: "nothing was stored; retry"; the retry stores it once', async () => {
    const store = await PgLogStore.open({ connectionString: withTimeout(dbUrl), origin: 'lock-timeout.test/log' });
    try {
      await store.sequence([item('first')], true);
      const lock = await holdLock(`SELECT next FROM ${store.schema}.seq_coord WHERE id = 1 FOR UPDATE`);
      let err: unknown;
      try {
        err = await store.sequence([item('x'), item('y')], true).then(() => 'resolved', (e: unknown) => e);
      } finally {
        await lock.release();
      }
      expect(isOutcomeUnknown(err), String(err)).toBe(false);
      expect(err).toMatchObject({ code: 'STORAGE_UNAVAILABLE', message: expect.stringMatching(/57014.*nothing was stored; retry/) });
      expect(await store.nextIndex()).toBe(1);
      const retry = await store.sequence([item('x'), item('y')], true);
      expect(retry).toEqual([
        { index: 1, duplicate: false },
        { index: 2, duplicate: false },
      ]);
      expect(await store.nextIndex()).toBe(3);
    } finally {
      await store.close();
    }
  });

  test('a batch slowed inside its inserts (a pg_sleep trigger) is cancelled and rolled back whole; the retry stores it once', async () => {
    const store = await PgLogStore.open({ connectionString: withTimeout(dbUrl), origin: 'slow-insert.test/log' });
    const s = store.schema;
    try {
      await store.sequence([item('first')], true);
      // Test-only schema change: every insert into entries sleeps past the limit.
      await admin(dbUrl, async (c) => {
        await c.query(`CREATE FUNCTION ${s}.test_slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(${(3 * TIMEOUT_MS) / 1000}); RETURN NEW; END $$`);
        await c.query(`CREATE TRIGGER test_slow BEFORE INSERT ON ${s}.entries FOR EACH ROW EXECUTE FUNCTION ${s}.test_slow()`);
      });
      const err = await store.sequence([item('p'), item('q'), item('r')], true).then(() => 'resolved', (e: unknown) => e);
      expect(err).toMatchObject({ code: 'STORAGE_UNAVAILABLE', message: expect.stringMatching(/nothing was stored; retry/) });
      await admin(dbUrl, (c) => c.query(`DROP TRIGGER test_slow ON ${s}.entries; DROP FUNCTION ${s}.test_slow()`));
      // Nothing of the cancelled batch is there: not the entries, not the counter.
      expect(await store.nextIndex()).toBe(1);
      for (const name of ['p', 'q', 'r']) expect(await store.lookup(item(name).leafHash)).toBeNull();
      const retry = await store.sequence([item('p'), item('q'), item('r')], true);
      expect(retry.map((r) => [r.index, r.duplicate])).toEqual([
        [1, false],
        [2, false],
        [3, false],
      ]);
    } finally {
      await store.close();
    }
  });

  test('no answer at all (black-holed): the call deadline resets the connection; unknown outcome for a write, unavailable for a read; stored once after the retry', async () => {
    const proxy = await startPgProxy(Number(new URL(dbUrl).port));
    const store = await PgLogStore.open({ connectionString: withTimeout(proxy.via(dbUrl)), origin: 'blackhole.test/log', connectTimeoutMs: 1_000 });
    try {
      await store.sequence([item('first')], true);
      proxy.blackhole();
      const write = await store.sequence([item('lost answer')], true).then(() => 'resolved', (e: unknown) => e);
      expect(isOutcomeUnknown(write), String(write)).toBe(true);
      expect((write as Error).message).toMatch(/no answer from the server within \d+ ms; the connection was reset.*may have been stored; retry/);
      const read = await store.nextIndex().then(() => 'resolved', (e: unknown) => e);
      expect(read).toMatchObject({ code: 'STORAGE_UNAVAILABLE' });
      expect(isOutcomeUnknown(read)).toBe(false);
      // Healed: the held bytes of the abandoned call may reach the server now, before or after the retry; either way once.
      proxy.heal();
      const retry = await store.sequence([item('lost answer')], true);
      expect(retry[0]!.index).toBe(1);
      const size = await admin(dbUrl, async (c) => Number((await c.query(`SELECT count(*) AS n FROM ${store.schema}.entries`)).rows[0].n));
      expect(size).toBe(2);
    } finally {
      await store.close();
      await proxy.close();
    }
  });

  test("a log's add and the signer's commit blocked past statement_timeout: 503 then the stored index; the commit is retried, no fork, published", async () => {
    const warnings: string[] = [];
    const schema = schemaNameForOrigin(ORIGIN);
    const tileStore = await openS3TileStore({
      bucket: 'pgtimeouts',
      prefix: 'log',
      endpoint: srv.url,
      forcePathStyle: true,
      credentials: TEST_CREDENTIALS,
      retry: { maxAttempts: 3, baseDelayMs: 2, maxDelayMs: 10, totalMs: 3_000, requestTimeoutMs: 2_000 },
    });
    const p: PgLog = await openPgLog({
      connectionString: withTimeout(dbUrl),
      origin: ORIGIN,
      signer: testSigner,
      tileStore,
      // A lease much longer than the lock is held: the renewal (on its own pool and limit) outlasts it, so one term sees it all.
      lease: { ttlMs: 20_000, renewMs: 5_000, marginMs: 3_000 },
      batchMaxDelayMs: 1,
      checkpointIntervalMs: 0,
      logger: { ...quietLogger, warn: (m) => warnings.push(m) },
    });
    try {
      const acked = new Map<string, number>();
      for (const name of ['a', 'b', 'c']) acked.set(name, (await p.log.add(utf8(name))).index);
      await p.log.waitForCheckpoint(acked.get('c')!);
      const epoch = p.log.stats().leader.epoch;

      // 1. An add behind a held sequencing lock.
      const seqLock = await holdLock(`SELECT next FROM ${schema}.seq_coord WHERE id = 1 FOR UPDATE`);
      let err: unknown;
      try {
        err = await p.log.add(utf8('blocked')).then((r) => r, (e: unknown) => e);
      } finally {
        await seqLock.release();
      }
      expect(err).toMatchObject({ code: 'STORAGE_UNAVAILABLE', message: expect.stringMatching(/retry/) });
      const stored = await p.log.add(utf8('blocked'));
      expect(stored.duplicate).toBe(false);
      acked.set('blocked', stored.index);

      // 2. The signer's commit behind a held lock on the tree state row: its statement is cancelled; it retries.
      const stateLock = await holdLock(`SELECT size FROM ${schema}.tree_state WHERE id = 1 FOR UPDATE`);
      let committedBehindLock: number;
      try {
        const r = await p.log.add(utf8('while the state is locked'));
        acked.set('while the state is locked', r.index);
        committedBehindLock = r.index;
        // Long enough for at least one cancelled commit (the limit is TIMEOUT_MS).
        const failedBefore = p.log.stats().failedPasses;
        const until = Date.now() + 20_000;
        while (p.log.stats().failedPasses === failedBefore && Date.now() < until) await new Promise((r2) => setTimeout(r2, 20));
        expect(p.log.stats().failedPasses).toBeGreaterThan(failedBefore);
        expect((await p.store.state())!.size).toBeLessThanOrEqual(committedBehindLock);
      } finally {
        await stateLock.release();
      }
      const cp = await p.log.waitForCheckpoint(committedBehindLock, AbortSignal.timeout(20_000));
      expect(cp.size).toBeGreaterThan(committedBehindLock);
      expect(warnings.some((m) => /checkpoint pass failed/.test(m))).toBe(true);
      // Same term, not stopped, no fork; every acknowledged entry at its index.
      const stats = p.log.stats();
      expect(stats.fatal).toBeNull();
      expect(stats.leader.epoch).toBe(epoch);
      for (const [name, index] of acked) expect(new TextDecoder().decode((await p.log.entry(index))!)).toBe(name);
      const history = await p.store.checkpointsFrom(0, 1000);
      expect(new Set(history.map((h) => h.size)).size).toBe(history.length);
    } finally {
      await p.close();
    }
  });
});
