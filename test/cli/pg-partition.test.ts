// A partition from PostgreSQL: two `tilelog serve --db` processes, each
// reaching the database through a TCP proxy of its own (test/support/pg-proxy.ts).
// The leader's proxy black-holes its connections (no answers, no closes):
//   - it stops signing and publishing at its lease's LOCAL deadline, having
//     heard nothing from PostgreSQL (its log names the deadline), and sends
//     no checkpoint write after that;
//   - an add to it answers 503 within its call deadline, never hangs and
//     never gets an index; the other process takes over once the lease
//     expired and publishes;
//   - healed, the old leader is a candidate (not stopped, not leading with
//     its old epoch): its adds work and are published by the new leader, and
//     when that one is killed it leads again at a later epoch;
//   - no checkpoint a poller of the bucket saw shrinks or forks, every
//     acknowledged entry is at its index, the bucket audits.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { schemaNameForOrigin } from '../../src/storage/pg-schema.js';
import { startPgProxy, type PgProxy } from '../support/pg-proxy.js';
import { describePg, freshDatabase, sharedCluster } from '../support/postgres.js';
import { startS3TestServer, type S3TestServer } from '../support/s3-server.js';
import { runCli, startServe, tempDir, type ServeHandle } from './helpers.js';
import { add, checkpointPoller, entryAt, expectNoShrinkNoFork, leaderPid, leaseEpoch, sleep, waitFor } from './pg-processes.js';

const BUCKET = 'pgpart';
const ORIGIN = 'pg-partition.test.example/log';
const CREDS = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' };
const TTL_MS = 3000;
const LEASE_FLAGS = ['--lease-ttl-ms', String(TTL_MS), '--lease-renew-ms', '800', '--lease-margin-ms', '600'];
// The sequencing pool's server limit per statement (the client gives up on a call 750 ms later) and the connect timeout (s).
const STATEMENT_TIMEOUT_MS = 1500;
const schema = schemaNameForOrigin(ORIGIN);

let s3: S3TestServer;
let dir: string;
const proxies: PgProxy[] = [];
const running: ServeHandle[] = [];

describePg('a partition from PostgreSQL (a proxy black-holes the leader)', () => {
  beforeAll(async () => {
    s3 = await startS3TestServer({ port: 0, buckets: [BUCKET], publicRead: true });
    dir = tempDir('tilelog-pg-partition-');
  });
  afterAll(async () => {
    for (const h of running) await h.stop('SIGKILL').catch(() => undefined);
    for (const p of proxies) await p.close();
    await s3.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the leader stops at its local deadline, the other leads; healed, the old one is a candidate again; nothing shrinks, forks or is lost', async () => {
    const dbUrl = await freshDatabase(await sharedCluster(), 'pgpart');
    const keyFile = path.join(dir, 'key');
    expect((await runCli(['keygen', '--origin', ORIGIN, '--out', keyFile])).code).toBe(0);
    const start = async (name: string): Promise<{ h: ServeHandle; proxy: PgProxy; name: string }> => {
      const proxy = await startPgProxy(Number(new URL(dbUrl).port));
      proxies.push(proxy);
      const db = `${proxy.via(dbUrl)}?statement_timeout=${STATEMENT_TIMEOUT_MS}&connect_timeout=2`;
      const h = await startServe(
        ['--db', db, '--state', path.join(dir, name), '--key', keyFile, '--tiles', `s3://${BUCKET}/log`, '--s3-endpoint', s3.url, '--s3-force-path-style', '--listen', '127.0.0.1:0', ...LEASE_FLAGS],
        // The app id goes into each S3 request's user agent: the request log tells the processes apart.
        { env: { ...CREDS, AWS_SDK_UA_APP_ID: `proc-${name}` } },
      );
      running.push(h);
      return { h, proxy, name };
    };
    const a = await start('a');
    const b = await start('b');
    const poller = checkpointPoller(s3, BUCKET, 'log');

    // Bounded load on both: 2 adds in flight per process.
    const acked = new Map<string, number>();
    let stopLoad = false;
    let seq = 0;
    const load = [a, b].flatMap((p) =>
      Array.from({ length: 2 }, async () => {
        while (!stopLoad) {
          const body = `${p.name}-${seq++}`;
          const r = await add(p.h.url, body, { timeoutMs: 60_000 }).catch(() => null);
          if (r?.status === 200) acked.set(body, r.index!);
          else await sleep(100);
        }
      }),
    );

    try {
      const pid = await waitFor('a leader', () => leaderPid(dbUrl, schema));
      const [old, other] = a.h.child.pid === pid ? [a, b] : [b, a];
      const oldEpoch = await leaseEpoch(dbUrl, schema);
      await waitFor('a checkpoint under load', async () => poller.latest() > 5);

      old.proxy.blackhole();
      // It stops on its own clock: nothing from PostgreSQL can reach it.
      await waitFor('the partitioned leader stepping down', async () => /stepped down.*the local deadline passed/.test(old.h.stderr()), 30_000);
      const stoppedAt = s3.log.length;
      expect(old.h.stderr()).not.toMatch(/LOG_FORK|LOG_CORRUPT|the log stopped/);

      // An add to the partitioned process answers 503 (its call deadline or the pool's connect timeout), never an index.
      const cut = await add(old.h.url, 'during the partition', { timeoutMs: 45_000 });
      expect(cut.status, cut.text).toBe(503);
      expect(cut.text).toMatch(/retry/);

      // The other takes over once the lease expired (by the database's clock) and publishes.
      await waitFor('the other process leading', async () => (await leaderPid(dbUrl, schema)) === other.h.child.pid, 30_000);
      expect(await leaseEpoch(dbUrl, schema)).toBeGreaterThan(oldEpoch);
      const retried = await add(other.h.url, 'during the partition', { wait: true });
      expect(retried.status, retried.text).toBe(200);
      await waitFor('the new leader publishing', async () => poller.latest() > retried.index!);
      // Nothing the partitioned process sent to the bucket after it stepped down was a checkpoint write.
      expect(s3.log.some((r) => r.userAgent.includes(`proc-${old.name}`))).toBe(true);
      const lateWrites = s3.log.slice(stoppedAt).filter((r) => r.verb === 'PUT' && r.key === 'log/checkpoint' && r.userAgent.includes(`proc-${old.name}`));
      expect(lateWrites).toEqual([]);

      old.proxy.heal();
      // Healed: a candidate. Its adds are acknowledged (the stored index for the one it could not answer) and published by the leader.
      const again = await add(old.h.url, 'during the partition', { wait: true, timeoutMs: 45_000 });
      expect(again.status, again.text).toBe(200);
      expect(again.index).toBe(retried.index);
      const after = await add(old.h.url, 'after the heal', { wait: true, timeoutMs: 45_000 });
      expect(after.status, after.text).toBe(200);
      acked.set('after the heal', after.index!);
      acked.set('during the partition', retried.index!);
      const metrics = await (await fetch(`${old.h.url}/metrics`)).text();
      expect(metrics).toMatch(/^tilelog_leader 0$/m);
      expect(await leaderPid(dbUrl, schema)).toBe(other.h.child.pid);

      // It can lead again: kill the leader; the old one takes over at a later epoch and publishes.
      const epochBefore = await leaseEpoch(dbUrl, schema);
      await other.h.stop('SIGKILL');
      await waitFor('the old leader leading again', async () => (await leaderPid(dbUrl, schema)) === old.h.child.pid, 30_000);
      expect(await leaseEpoch(dbUrl, schema)).toBeGreaterThan(epochBefore);
      const last = await add(old.h.url, 'led again', { wait: true });
      expect(last.status, last.text).toBe(200);
      acked.set('led again', last.index!);
      await waitFor('the last checkpoint', async () => poller.latest() > last.index!);
    } finally {
      stopLoad = true;
      await Promise.all(load);
    }
    const survivor = a.h.child.exitCode === null && a.h.child.signalCode === null ? a.h : b.h;
    const top = Math.max(...acked.values());
    await waitFor('a checkpoint covering every acknowledged entry', async () => poller.latest() > top, 30_000);
    await poller.stop();
    expectNoShrinkNoFork(poller);
    for (const [body, index] of acked) expect(await entryAt(survivor.url, index)).toBe(body);
    const audit = await runCli(['audit', `${s3.url}/${BUCKET}/log`, '--log-key', survivor.verifierKey]);
    expect(audit.code, audit.stderr).toBe(0);
  }, 120_000);
});
