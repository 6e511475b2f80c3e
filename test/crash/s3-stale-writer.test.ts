// A stale writer on a bucket (SCALE-OUT T4/T5b, issue 12): two log processes
// given the same key, state (a copy of the first's state directory, made
// while the first is paused) and bucket in turn.
//   - SIGSTOP: the first publishes, is paused, the second (on the copy)
//     publishes a bigger tree, the first is resumed and given work: the
//     bucket's checkpoint never moves backwards (every checkpoint PUT the
//     server accepted, and a reader polling the bucket's HTTP), and the first
//     stops publishing with a clear message and answers adds with 503.
//   - a held checkpoint PUT (T5b): the first writer's checkpoint PUT is parked at
//     the server while the second publishes; released, it gets 412, and no
//     observer ever sees the size decrease.
//   - held tile PUTs (T5a): the first writer's tiles for a size are parked
//     while the second publishes that size with other entries; released,
//     they meet other bytes (412, read back, compared) and the first stops
//     with STORAGE_CONFLICT before it signs.
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { SqliteSequenceDB } from '../../src/storage/sqlite-sequence-db.js';
import { startS3TestServer, type S3TestServer } from '../support/s3-server.js';
import { tempDir } from '../log/helpers.js';
import { auditUrl, nonDecreasing, PublicReader, rootConflicts, storedCheckpointSizes } from '../log/s3-log-helpers.js';
import { CHILD_ORIGIN, childKey, LogChild } from './s3-child-driver.js';

const BUCKET = 'stale';
let srv: S3TestServer;
const tmp = tempDir('tilelog-s3-stale-');
const children: LogChild[] = [];
beforeAll(async () => {
  srv = await startS3TestServer({ buckets: [BUCKET], publicRead: true });
});
afterEach(async () => {
  for (const c of children.splice(0)) await c.stop();
});
afterAll(async () => {
  await srv.close();
  tmp.cleanup();
});

function start(stateDir: string, prefix: string, writer: string): LogChild {
  const c = new LogChild({ stateDir, endpoint: srv.url, bucket: BUCKET, prefix, writer });
  children.push(c);
  return c;
}

// copyState: the SQLite files of a log's state directory (not its lock).
function copyState(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const f of ['log.db', 'log.db-wal', 'log.db-shm']) {
    if (existsSync(path.join(from, f))) copyFileSync(path.join(from, f), path.join(to, f));
  }
}

async function postAdd(httpUrl: string, body: string): Promise<{ status: number; code: string | undefined }> {
  const res = await fetch(`${httpUrl}/add`, { method: 'POST', body });
  const json = (await res.json().catch(() => ({}))) as { error?: { code?: string } };
  return { status: res.status, code: json.error?.code };
}

const STOPPED = /stopped publishing: (another writer published a newer checkpoint of this log|.*already exists with different bytes)/;

test('SIGSTOP: the resumed stale writer never moves the checkpoint back, stops publishing with a clear message, answers adds 503', async () => {
  const prefix = 'sigstop/log';
  const base = `${srv.url}/${BUCKET}/${prefix}`;
  const dirA = path.join(tmp.dir, 'sigstop-a');
  const dirB = path.join(tmp.dir, 'sigstop-b');
  const reader = new PublicReader(base, CHILD_ORIGIN, childKey.verifierKey).start();
  try {
    const a = start(dirA, prefix, 'writer-A');
    const httpA = await a.ready();
    expect(await a.waitFor('a1', await a.add('a1', 10))).toBe(10);
    // A is quiescent (everything published); pause it and copy its state.
    a.signal('SIGSTOP');
    copyState(dirA, dirB);
    const b = start(dirB, prefix, 'writer-B');
    await b.ready();
    expect(await b.waitFor('b1', await b.add('b1', 20))).toBe(30);
    // Resume A and give it work: it signs size 15 in its own (stale) state, and must not publish it.
    a.signal('SIGCONT');
    const lastA = await a.add('a2', 5); // acknowledged: durable in A's own database
    expect(lastA).toBe(14);
    await expect(a.waitFor('a2', lastA)).rejects.toThrow(/LOG_SUPERSEDED|STORAGE_CONFLICT/);
    expect(a.stderr).toMatch(STOPPED);
    expect(a.stderr).toMatch(/Only one process may write a log|another writer|rolled back/);
    // A answers adds with 503 and the reason; B goes on.
    const refused = await postAdd(httpA, 'late');
    expect(refused.status).toBe(503);
    expect(refused.code).toMatch(/^(LOG_SUPERSEDED|STORAGE_CONFLICT)$/);
    expect(await b.waitFor('b2', await b.add('b2', 7))).toBe(37);
    await reader.stop();
    // Every checkpoint the server stored, in order, and every one the reader saw: never smaller.
    const stored = storedCheckpointSizes(srv.log, `${prefix}/checkpoint`);
    expect(nonDecreasing(stored), `stored ${stored.join(',')}`).toBe(true);
    expect(stored).not.toContain(15);
    expect(stored.at(-1)).toBe(37);
    expect(nonDecreasing(reader.sizes), `reader saw ${reader.sizes.join(',')}`).toBe(true);
    expect(rootConflicts(reader.seen)).toEqual([]);
    expect(reader.missing).toEqual([]);
    expect(reader.sizes.at(-1)).toBe(37);
    // A's refused checkpoint PUTs are in the server's log, answered 412.
    const fromA = srv.log.filter((r) => r.verb === 'PUT' && r.key === `${prefix}/checkpoint` && r.userAgent.includes('writer-A'));
    const lateA = fromA.filter((r) => r.checkpointText !== undefined && Number(r.checkpointText.split('\n')[1]) === 15);
    if (!/already exists with different bytes/.test(a.stderr)) expect(lateA.map((r) => r.status)).toEqual([412]);
    const audited = await auditUrl(base, childKey.verifierKey, CHILD_ORIGIN);
    expect(audited, JSON.stringify(audited.mismatches)).toMatchObject({ ok: true, treeSize: 37, signatureVerified: true });
  } finally {
    await reader.stop();
  }
});

test("a held checkpoint PUT of the stale writer, released after the other published, gets 412; observers never see the size decrease", async () => {
  const prefix = 'held/log';
  const base = `${srv.url}/${BUCKET}/${prefix}`;
  const dirA = path.join(tmp.dir, 'held-a');
  const dirB = path.join(tmp.dir, 'held-b');
  const reader = new PublicReader(base, CHILD_ORIGIN, childKey.verifierKey).start();
  try {
    const a = start(dirA, prefix, 'writer-A');
    await a.ready();
    expect(await a.waitFor('a1', await a.add('a1', 10))).toBe(10);
    a.signal('SIGSTOP');
    copyState(dirA, dirB);
    a.signal('SIGCONT');
    // A's next checkpoint PUT is parked at the server.
    const hold = srv.hold({ verb: 'PUT', objectClass: 'checkpoint', userAgent: 'writer-A', keyPattern: /^held\// });
    const lastA = await a.add('a2', 5);
    const held = await hold.next();
    hold.stop();
    expect(held.key).toBe(`${prefix}/checkpoint`);
    // B, on the copy, publishes a bigger tree meanwhile.
    const b = start(dirB, prefix, 'writer-B');
    await b.ready();
    expect(await b.waitFor('b1', await b.add('b1', 20))).toBe(30);
    // Released late: refused, A reconciles (a newer checkpoint of this log) and stops.
    held.release();
    await expect(a.waitFor('a2', lastA)).rejects.toThrow(/LOG_SUPERSEDED/);
    expect(a.stderr).toMatch(/another writer published a newer checkpoint of this log in the bucket s3:\/\/stale\/held\/log \(size 30; this process was publishing size 15\)/);
    const puts = srv.log.filter((r) => r.verb === 'PUT' && r.key === `${prefix}/checkpoint`);
    const late = puts.filter((r) => r.userAgent.includes('writer-A') && r.checkpointText !== undefined && r.checkpointText.split('\n')[1] === '15');
    expect(late.map((r) => r.status)).toEqual([412]);
    expect(await b.waitFor('b2', await b.add('b2', 3))).toBe(33);
    await reader.stop();
    const stored = storedCheckpointSizes(srv.log, `${prefix}/checkpoint`);
    expect(nonDecreasing(stored), `stored ${stored.join(',')}`).toBe(true);
    expect(stored).not.toContain(15);
    expect(nonDecreasing(reader.sizes), `reader saw ${reader.sizes.join(',')}`).toBe(true);
    expect(reader.sizes).not.toContain(15);
    expect(rootConflicts(reader.seen)).toEqual([]);
    expect(reader.missing).toEqual([]);
    const audited = await auditUrl(base, childKey.verifierKey, CHILD_ORIGIN);
    expect(audited, JSON.stringify(audited.mismatches)).toMatchObject({ ok: true, treeSize: 33, signatureVerified: true });
  } finally {
    await reader.stop();
  }
});

test('held tile PUTs of the stale writer, released after the other published the same size, are refused as a tile conflict: it stops before signing', async () => {
  const prefix = 'held-tile/log';
  const base = `${srv.url}/${BUCKET}/${prefix}`;
  const dirA = path.join(tmp.dir, 'held-tile-a');
  const dirB = path.join(tmp.dir, 'held-tile-b');
  const reader = new PublicReader(base, CHILD_ORIGIN, childKey.verifierKey).start();
  try {
    const a = start(dirA, prefix, 'writer-A');
    const httpA = await a.ready();
    expect(await a.waitFor('a1', await a.add('a1', 10))).toBe(10);
    a.signal('SIGSTOP');
    copyState(dirA, dirB);
    a.signal('SIGCONT');
    // A's tile and bundle PUTs for size 15 are parked at the server.
    const hold = srv.hold({ verb: 'PUT', userAgent: 'writer-A', keyPattern: /^held-tile\/log\/tile\// });
    const lastA = await a.add('a2', 5);
    await hold.next();
    // B, on the copy, publishes size 15 with its own entries, then 30.
    const b = start(dirB, prefix, 'writer-B');
    await b.ready();
    expect(await b.waitFor('b1', await b.add('b1', 5))).toBe(15);
    expect(await b.waitFor('b2', await b.add('b2', 15))).toBe(30);
    // Released: the same paths now hold B's bytes; A finds the conflict and stops without signing.
    hold.stop();
    hold.releaseAll();
    await expect(a.waitFor('a2', lastA)).rejects.toThrow(/STORAGE_CONFLICT/);
    expect(a.stderr).toMatch(/stopped publishing: .*tile\/.*\.p\/15 already exists with different bytes/);
    expect((await postAdd(httpA, 'late')).status).toBe(503);
    const aCheckpoints = srv.log.filter((r) => r.verb === 'PUT' && r.key === `${prefix}/checkpoint` && r.userAgent.includes('writer-A') && r.checkpointText !== undefined);
    expect(aCheckpoints.map((r) => Number(r.checkpointText!.split('\n')[1]))).not.toContain(15);
    // A's database never signed size 15.
    await a.stop();
    const dbA = new SqliteSequenceDB(path.join(dirA, 'log.db'), { origin: CHILD_ORIGIN });
    try {
      expect(dbA.state()!.size).toBe(10);
      expect(dbA.rootForSize(15)).toBeNull();
      expect(dbA.sequencedSize()).toBe(15); // its adds were durable all the same
    } finally {
      dbA.close();
    }
    await reader.stop();
    const stored = storedCheckpointSizes(srv.log, `${prefix}/checkpoint`);
    expect(nonDecreasing(stored), `stored ${stored.join(',')}`).toBe(true);
    expect(nonDecreasing(reader.sizes), `reader saw ${reader.sizes.join(',')}`).toBe(true);
    expect(rootConflicts(reader.seen)).toEqual([]);
    expect(reader.missing).toEqual([]);
    const audited = await auditUrl(base, childKey.verifierKey, CHILD_ORIGIN);
    expect(audited, JSON.stringify(audited.mismatches)).toMatchObject({ ok: true, treeSize: 30, signatureVerified: true });
  } finally {
    await reader.stop();
  }
});
