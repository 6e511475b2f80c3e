// Two logs on one PostgreSQL database and one bucket of the test S3 server,
// in one process (the child-process versions are in test/cli/pg-serve*.test.ts):
// adds to either are acknowledged and published, waits resolve on both, one
// leads; when the leader's lease is taken (as after a pause) the other leads
// at the next epoch, the old one steps down to candidate (not fatal) and its
// fenced writes change nothing; a broken connection mid-batch answers
// LOG_UNKNOWN_OUTCOME; the dedup a log was created with must match.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { openPgLog, type PgLog } from '../../src/log/pg-log.js';
import { leafHash, SUMMARY_BYTES, verifyInclusion } from '../../src/merkle/index.js';
import { openS3TileStore } from '../../src/storage/s3-tile-store.js';
import { schemaNameForOrigin } from '../../src/storage/pg-schema.js';
import { admin, describePg, freshDatabase, sharedCluster } from '../support/postgres.js';
import { startS3TestServer, type S3TestServer } from '../support/s3-server.js';
import { TEST_CREDENTIALS } from '../storage/s3-helpers.js';
import { ORIGIN, quietLogger, testSigner, utf8 } from './helpers.js';

// The helpers' key and origin.
let srv: S3TestServer;
let url = '';
let n = 0;
const opened: PgLog[] = [];

async function bucketStore(prefix: string) {
  return openS3TileStore({
    bucket: 'pglog',
    prefix,
    endpoint: srv.url,
    forcePathStyle: true,
    credentials: TEST_CREDENTIALS,
    userAgent: 'pg-log-test',
    retry: { maxAttempts: 3, baseDelayMs: 2, maxDelayMs: 10, totalMs: 3_000, requestTimeoutMs: 2_000 },
  });
}

async function open(
  dbUrl: string,
  prefix: string,
  extra: { dedup?: boolean; warn?: (m: string) => void; error?: (m: string) => void; publishedPollMs?: number; tileSummariesDir?: string } = {},
): Promise<PgLog> {
  const p = await openPgLog({
    connectionString: dbUrl,
    origin: ORIGIN,
    signer: testSigner,
    tileStore: await bucketStore(prefix),
    lease: { ttlMs: 1200 },
    batchMaxDelayMs: 1,
    ...(extra.dedup !== undefined && { dedup: extra.dedup }),
    ...(extra.publishedPollMs !== undefined && { publishedPollMs: extra.publishedPollMs }),
    ...(extra.tileSummariesDir !== undefined && { tileSummariesDir: extra.tileSummariesDir }),
    logger: { ...quietLogger, warn: (m) => extra.warn?.(m), ...(extra.error !== undefined && { error: extra.error }) },
  });
  opened.push(p);
  return p;
}


const schema = schemaNameForOrigin(ORIGIN);

describePg('a log on PostgreSQL, several processes', () => {
  beforeAll(async () => {
    srv = await startS3TestServer({ buckets: ['pglog'], publicRead: true });
  });
  afterAll(async () => {
    await srv.close();
  });
  afterEach(async () => {
    for (const p of opened.splice(0)) await p.close().catch(() => undefined);
  });
  const fresh = async (): Promise<{ dbUrl: string; prefix: string }> => ({
    dbUrl: await freshDatabase(await sharedCluster(), `pglog${n}`),
    prefix: `t${n++}`,
  });

  test('adds to either log are acknowledged and published, waits resolve on both, exactly one leads', async () => {
    const { dbUrl, prefix } = await fresh();
    const a = await open(dbUrl, prefix);
    const b = await open(dbUrl, prefix);
    expect([a.log.leading(), b.log.leading()].filter(Boolean)).toHaveLength(1);
    const acks = await Promise.all(Array.from({ length: 40 }, (_, k) => (k % 2 === 0 ? a : b).log.add(utf8(`e${k}`))));
    expect(new Set(acks.map((r) => r.index)).size).toBe(40);
    const last = Math.max(...acks.map((r) => r.index));
    const [ca, cb] = await Promise.all([a.log.waitForCheckpoint(last), b.log.waitForCheckpoint(last)]);
    expect(ca.size).toBeGreaterThanOrEqual(40);
    expect(cb.size).toBeGreaterThanOrEqual(40);
    // Both see the same tree: one root per size.
    const size = Math.min(ca.size, cb.size);
    expect(await a.log.treeHash(size)).toEqual(await b.log.treeHash(size));
    // An entry added to the follower is readable (and provable) on the leader and the follower.
    for (const p of [a, b]) expect(new TextDecoder().decode(await p.log.entry(acks[1]!.index))).toBe('e1');
    const leader = (await admin(dbUrl, (c) => c.query(`SELECT leader FROM ${schema}.tree_state`))).rows[0]?.leader as string;
    const leading = a.log.leading() ? a : b;
    expect(leader).toBe(leading.lease!.holder);
  });

  test('tile summaries: each process keeps its own; the leader writes them with its tiles, the other fills its own as proofs read', async () => {
    const { dbUrl, prefix } = await fresh();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tilelog-pg-summaries-'));
    try {
      const a = await open(dbUrl, prefix, { tileSummariesDir: path.join(dir, 'a') });
      const b = await open(dbUrl, prefix, { tileSummariesDir: path.join(dir, 'b') });
      const [leader, follower] = a.log.leading() ? [a, b] : [b, a];
      const acks = await Promise.all(Array.from({ length: 600 }, (_, k) => leader.log.add(utf8(`s${k}`))));
      const cp = await follower.log.waitForCheckpoint(Math.max(...acks.map((r) => r.index)));
      await leader.log.waitForCheckpoint(cp.size - 1);
      const leaderDir = path.join(dir, leader === a ? 'a' : 'b');
      const followerDir = path.join(dir, follower === a ? 'a' : 'b');
      // Two full level-0 tiles: written by the leader as it wrote them; none yet on the follower.
      expect(fs.statSync(path.join(leaderDir, 'level-0.bin')).size).toBe(2 * SUMMARY_BYTES);
      expect(fs.existsSync(path.join(followerDir, 'level-0.bin'))).toBe(false);
      for (const p of [leader, follower]) {
        const i = 300;
        verifyInclusion(undefined, i, cp.size, leafHash(utf8(`s${acks.findIndex((r) => r.index === i)}`)), await p.log.inclusionProof(i, cp.size), cp.root);
      }
      // The follower's proof (a sibling of height 4..7 in tile 1) computed and kept tile 1's summary.
      await follower.close();
      expect(fs.statSync(path.join(followerDir, 'level-0.bin')).size).toBe(2 * SUMMARY_BYTES);
      expect(fs.readFileSync(path.join(followerDir, 'level-0.bin')).subarray(SUMMARY_BYTES)).toEqual(fs.readFileSync(path.join(leaderDir, 'level-0.bin')).subarray(SUMMARY_BYTES));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the lease taken from the leader: it steps down (not fatal), its fence changes nothing, a later epoch leads; both keep publishing', async () => {
    const { dbUrl, prefix } = await fresh();
    const warnings: string[] = [];
    const errors: string[] = [];
    const a = await open(dbUrl, prefix, { warn: (m) => warnings.push(m), error: (m) => errors.push(m) });
    const b = await open(dbUrl, prefix, { warn: (m) => warnings.push(m), error: (m) => errors.push(m) });
    const first = a.log.leading() ? a : b;
    const oldEpoch = first.log.stats().leader.epoch!;
    await first.log.add(utf8('before'));
    // What a takeover looks like to the database (as after a pause longer than the lease):
    // another candidate took epoch + 1; its lease then lapses, so one of the two takes the next epoch.
    await admin(dbUrl, (c) =>
      c.query(`UPDATE ${schema}.tree_state SET leader = 'elsewhere:1:x', epoch = epoch + 1, lease_expires = now() + interval '300 milliseconds'`),
    );
    const deadline = Date.now() + 15_000;
    while (!warnings.some((m) => /stepped down/.test(m)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(warnings.some((m) => /stepped down/.test(m))).toBe(true);
    // A step-down is said once, as what it is: no line calls it a stop or asks for a restart.
    expect(warnings.find((m) => /stepped down/.test(m))).toMatch(/^stepped down from leading log .* now a candidate: lost leadership while .*\((epoch \d+ ended|another process)/);
    expect([...warnings, ...errors].filter((m) => /stopped|until restarted|restart this/.test(m))).toEqual([]);
    expect(first.log.stats().fatal).toBeNull();
    // The old fence changes nothing.
    const state = await first.store.state();
    expect(await first.store.commitState({ epoch: oldEpoch, holder: first.lease!.holder }, state!.size, state!)).toBe('lost');
    const until = Date.now() + 15_000;
    while (!(a.log.leading() || b.log.leading()) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    const leader = a.log.leading() ? a : b;
    expect(leader.log.stats().leader.epoch).toBeGreaterThan(oldEpoch + 1);
    // Both still take adds; the leader publishes them; both waits resolve (the follower's from the published state).
    const r1 = await a.log.add(utf8('after-1'));
    const r2 = await b.log.add(utf8('after-2'));
    const top = Math.max(r1.index, r2.index);
    const [c1, c2] = await Promise.all([a.log.waitForCheckpoint(top), b.log.waitForCheckpoint(top)]);
    expect(c1.size).toBeGreaterThan(top);
    expect(c2.size).toBeGreaterThan(top);
    // The other one is a candidate: closing the leader hands it the lease (release: no wait for the ttl).
    const follower = leader === a ? b : a;
    await leader.close();
    const handover = Date.now() + 15_000;
    while (!follower.log.leading() && Date.now() < handover) await new Promise((r) => setTimeout(r, 20));
    expect(follower.log.leading()).toBe(true);
    const r3 = await follower.log.add(utf8('after-3'));
    expect((await follower.log.waitForCheckpoint(r3.index)).size).toBeGreaterThan(r3.index);
  });

  test('a connection broken mid-batch answers LOG_UNKNOWN_OUTCOME (never an index); the retry gets the stored index', async () => {
    const { dbUrl, prefix } = await fresh();
    const a = await open(dbUrl, prefix);
    await a.log.add(utf8('first'));
    const holder = new pg.Client({ connectionString: dbUrl });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT next FROM ${schema}.seq_coord WHERE id = 1 FOR UPDATE`);
      const add = a.log.add(utf8('victim')).then(
        (r) => r,
        (e: unknown) => e,
      );
      let pid: number | undefined;
      for (let k = 0; k < 200 && pid === undefined; k++) {
        const r = await admin(dbUrl, (c) => c.query("SELECT pid FROM pg_stat_activity WHERE application_name = 'tilelog' AND wait_event_type = 'Lock'"));
        pid = r.rows[0]?.pid as number | undefined;
        if (pid === undefined) await new Promise((r2) => setTimeout(r2, 20));
      }
      expect(pid).toBeDefined();
      await admin(dbUrl, (c) => c.query('SELECT pg_terminate_backend($1)', [pid]));
      const err = await add;
      expect(err).toMatchObject({ code: 'LOG_UNKNOWN_OUTCOME', message: expect.stringMatching(/may have been stored; retry/) });
      await holder.query('ROLLBACK');
      expect(await a.log.add(utf8('victim'))).toEqual({ index: 1, duplicate: false });
    } finally {
      await holder.end().catch(() => undefined);
    }
  });

  test('a follower hears of new checkpoints by NOTIFY, without waiting for its poll', async () => {
    const { dbUrl, prefix } = await fresh();
    // Both poll once a minute: only the notification can wake the follower within the test.
    const a = await open(dbUrl, prefix, { publishedPollMs: 60_000 });
    const b = await open(dbUrl, prefix, { publishedPollMs: 60_000 });
    const follower = a.log.leading() ? b : a;
    const leader = follower === a ? b : a;
    const r = await leader.log.add(utf8('notified'));
    const cp = await follower.log.waitForCheckpoint(r.index, AbortSignal.timeout(20_000));
    expect(cp.size).toBeGreaterThan(r.index);
    expect(follower.log.leading()).toBe(false);
  });

  test('dedup is fixed when the log is created: another choice is refused with LOG_CONFIG', async () => {
    const { dbUrl, prefix } = await fresh();
    const a = await open(dbUrl, prefix);
    expect(a.log.dedup).toBe(true);
    await expect(open(dbUrl, prefix, { dedup: false })).rejects.toMatchObject({ code: 'LOG_CONFIG', message: expect.stringMatching(/created with dedup on/) });
  });
});
