// A rolled-back database: a pg_dump of the log's schema taken while the log
// was live, more entries added and published past it, then the dump restored
// over the live schema (what an operator restoring "last night's backup"
// does). The leader must refuse to sign: the bucket's checkpoint is ahead of
// the database's tree. Its log names the problem and what to do, /readyz
// turns 503, adds are refused, and the bucket's checkpoint never changes
// (no smaller or forked checkpoint is ever published).
//   - restored with every process stopped, then the leader started again;
//   - restored under a follower that keeps running and then becomes leader
//     (recovery runs at every acquisition, not only at start).
// pg_dump/pg_restore are the cluster's own (postgres-cluster.ts pgBin()).

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { schemaNameForOrigin } from '../../src/storage/pg-schema.js';
import { admin, describePg, pgBin } from '../support/postgres.js';
import { startS3TestServer, type S3TestServer } from '../support/s3-server.js';
import { startServe, tempDir, type ServeHandle } from './helpers.js';
import { add, checkpointPoller, expectNoShrinkNoFork, leaderPid, waitFor, pgLogSetup, type PgLogSetup } from './pg-processes.js';

const BUCKET = 'pgrollback';
const ORIGIN = 'pg-rollback.test.example/log';
const CREDS = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' };
const schema = schemaNameForOrigin(ORIGIN);
const REFUSAL = /the public checkpoint \(size (\d+)\) is ahead of the last checkpoint the state database signed \(size (\d+)\): the database was rolled back.*Never restore a log's database onto a live log/;

let s3: S3TestServer;
let dir: string;
const running: ServeHandle[] = [];

type Setup = PgLogSetup;
const setup = (): Promise<Setup> => pgLogSetup(dir, ORIGIN, 'pgrollback');

async function serve(s: Setup, name: string, ttlMs: number): Promise<ServeHandle> {
  const lease = ['--lease-ttl-ms', String(ttlMs), '--lease-renew-ms', String(Math.floor(ttlMs / 4)), '--lease-margin-ms', String(Math.floor(ttlMs / 5))];
  const h = await startServe(
    ['--db', s.dbUrl, '--state', path.join(dir, `${s.prefix}-${name}`), '--key', s.keyFile, '--tiles', `s3://${BUCKET}/${s.prefix}`, '--s3-endpoint', s3.url, '--s3-force-path-style', '--listen', '127.0.0.1:0', ...lease],
    { env: CREDS },
  );
  running.push(h);
  return h;
}

/** pg_dump -Fc of the log's schema into a file; returns its path. */
function dumpSchema(s: Setup): string {
  const file = path.join(dir, `${s.prefix}.dump`);
  execFileSync(path.join(pgBin()!, 'pg_dump'), ['-Fc', '-n', schema, '-f', file, s.dbUrl], { stdio: ['ignore', 'pipe', 'pipe'] });
  return file;
}

/** Restores a dump over the live schema: what is there now is dropped first. */
async function restoreSchema(s: Setup, file: string): Promise<void> {
  await admin(s.dbUrl, (c) => c.query(`DROP SCHEMA ${schema} CASCADE`));
  execFileSync(path.join(pgBin()!, 'pg_restore'), ['--no-owner', '-d', s.dbUrl, file], { stdio: ['ignore', 'pipe', 'pipe'] });
}

async function dbTreeSize(s: Setup): Promise<number> {
  return Number((await admin(s.dbUrl, (c) => c.query(`SELECT size FROM ${schema}.tree_state`))).rows[0]!.size);
}

async function bucketCheckpoint(s: Setup): Promise<string> {
  return (await fetch(`${s3.url}/${BUCKET}/${s.prefix}/checkpoint`)).text();
}

/** Adds k entries named prefix-i, each waiting for its checkpoint. */
async function addPublished(url: string, prefix: string, k: number): Promise<void> {
  for (let i = 0; i < k; i++) {
    const r = await add(url, `${prefix}-${i}`, { wait: true });
    expect(r.status, r.text).toBe(200);
  }
}

/** What every case checks once the leader refused. */
async function expectRefused(s: Setup, h: ServeHandle, publishedBefore: string, restoredSize: number): Promise<void> {
  const m = REFUSAL.exec(h.stderr())!;
  expect(m, h.stderr()).not.toBeNull();
  expect(Number(m[1])).toBeGreaterThan(Number(m[2]));
  expect(Number(m[2])).toBe(restoredSize);
  expect(h.stderr()).toMatch(/the log stopped: it signs nothing/);
  expect((await fetch(`${h.url}/readyz`)).status).toBe(503);
  const refused = await add(h.url, 'after the restore');
  expect(refused.status).not.toBe(200);
  // Nothing was signed from the restored database, nothing published over the bucket's checkpoint.
  expect(await dbTreeSize(s)).toBe(restoredSize);
  expect(await bucketCheckpoint(s)).toBe(publishedBefore);
}

describePg('a rolled-back PostgreSQL database (a dump restored over a live log)', () => {
  beforeAll(async () => {
    s3 = await startS3TestServer({ port: 0, buckets: [BUCKET], publicRead: true });
    dir = tempDir('tilelog-pg-rollback-');
  });
  afterEach(async () => {
    for (const h of running.splice(0)) await h.stop('SIGKILL').catch(() => undefined);
  });
  afterAll(async () => {
    await s3.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('restored while stopped: the leader started again refuses to sign, naming the rollback; the bucket keeps its checkpoint', async () => {
    const s = await setup();
    const poller = checkpointPoller(s3, BUCKET, s.prefix);
    let h = await serve(s, 'a', 1500);
    await addPublished(h.url, 'before-dump', 4);
    const file = dumpSchema(s);
    const dumpedSize = await dbTreeSize(s);
    await addPublished(h.url, 'after-dump', 4);
    expect((await h.stop('SIGTERM')).code).toBe(0);
    const publishedBefore = await bucketCheckpoint(s);
    expect(Number(publishedBefore.split('\n')[1])).toBeGreaterThan(dumpedSize);

    await restoreSchema(s, file);
    expect(await dbTreeSize(s)).toBe(dumpedSize);
    // The bucket's public objects: the tree (tiles, bundles, checkpoint), not the store's self-test probes (.tilelog/).
    const treeWrites = (): number => s3.log.filter((r) => r.verb === 'PUT' && r.key.startsWith(`${s.prefix}/`) && !r.key.includes('/.tilelog/')).length;
    const putsBefore = treeWrites();
    h = await serve(s, 'a2', 1500);
    await waitFor('the refusal', async () => REFUSAL.test(h.stderr()), 30_000);
    await expectRefused(s, h, publishedBefore, dumpedSize);
    // It wrote nothing of the tree (recovery checks the public checkpoint before any write).
    expect(treeWrites()).toBe(putsBefore);
    await poller.stop();
    expectNoShrinkNoFork(poller);
  }, 90_000);

  test('restored under a running follower: when it becomes leader, its recovery refuses to sign', async () => {
    const s = await setup();
    const poller = checkpointPoller(s3, BUCKET, s.prefix);
    // A longer lease: the restore is done before the follower may take over from the killed leader.
    const TTL_MS = 6000;
    const a = await serve(s, 'a', TTL_MS);
    const b = await serve(s, 'b', TTL_MS);
    const pid = await waitFor('a leader', () => leaderPid(s.dbUrl, schema));
    const [leader, follower] = a.child.pid === pid ? [a, b] : [b, a];
    await addPublished(follower.url, 'before-dump', 3);
    const file = dumpSchema(s);
    const dumpedSize = await dbTreeSize(s);
    await addPublished(follower.url, 'after-dump', 3);
    await leader.stop('SIGKILL');
    const publishedBefore = await bucketCheckpoint(s);
    expect(Number(publishedBefore.split('\n')[1])).toBeGreaterThan(dumpedSize);

    // The follower keeps running through the restore; the restored lease row has long expired, so it takes over.
    await restoreSchema(s, file);
    await waitFor('the follower refusing as leader', async () => REFUSAL.test(follower.stderr()), 45_000);
    await expectRefused(s, follower, publishedBefore, dumpedSize);
    await poller.stop();
    expectNoShrinkNoFork(poller);
  }, 90_000);
});
