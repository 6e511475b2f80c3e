// T8, PostgreSQL faults, on a cluster of this file's own (it restarts it):
// - the backend of a sequencing call is terminated mid-call: the call rejects
//   as "may have been stored" (OutcomeUnknownError), never with an index; the
//   retry (dedup on) returns the stored index;
// - the connection breaks after the server got the call, before its answer
//   (a TCP proxy cuts it): same, and the retry finds the entry it stored;
// - an immediate restart (a crash) under load: no acknowledged entry lost.

import * as net from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { isOutcomeUnknown } from '../../src/storage/pg-errors.js';
import { PgLogStore } from '../../src/storage/pg-log-store.js';
import { admin, describePg, freshDatabase, privateCluster, type PgCluster } from '../support/postgres.js';
import { item } from './log-store-contract.js';

let cluster: PgCluster;
let url = '';


describePg('PostgreSQL faults', () => {
  beforeAll(async () => {
    cluster = await privateCluster();
    url = await freshDatabase(cluster, 'faults');
  });
  afterAll(() => cluster?.stop());

  test('a backend terminated mid-call: "may have been stored", and the retry returns the stored index', async () => {
    const store = await PgLogStore.open({ connectionString: url, origin: 'terminate.test/log' });
    const { default: pg } = await import('pg');
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    try {
      await store.sequence([item('before')], true);
      // Hold the sequencing lock so the call is surely in flight when its backend dies.
      await holder.query('BEGIN');
      await holder.query(`SELECT next FROM ${store.schema}.seq_coord WHERE id = 1 FOR UPDATE`);
      const call = store.sequence([item('victim')], true);
      const outcome = call.then(() => 'resolved', (e: unknown) => e);
      let pid: number | undefined;
      for (let k = 0; k < 200 && pid === undefined; k++) {
        const r = await admin(url, (c) =>
          c.query("SELECT pid FROM pg_stat_activity WHERE application_name = 'tilelog' AND wait_event_type = 'Lock'"),
        );
        pid = r.rows[0]?.pid as number | undefined;
        if (pid === undefined) await new Promise((r2) => setTimeout(r2, 50));
      }
      expect(pid).toBeDefined();
      await admin(url, (c) => c.query('SELECT pg_terminate_backend($1)', [pid]));
      const err = await outcome;
      expect(isOutcomeUnknown(err), String(err)).toBe(true);
      expect((err as Error).message).toMatch(/may have been stored; retry/);
      expect((err as { code: string }).code).toBe('STORAGE_UNAVAILABLE');
      await holder.query('ROLLBACK');
      const retry = await store.sequence([item('victim')], true);
      expect(retry[0]!.index).toBe(1);
      expect(await store.lookup(item('victim').leafHash)).toBe(1);
      expect(await store.nextIndex()).toBe(2);
    } finally {
      await holder.end().catch(() => undefined);
      await store.close();
    }
  });

  test('the answer is lost after the server got the call: unknown outcome; the retry finds the stored entry once', async () => {
    // A proxy that, when armed, cuts the connection at the server's next answer.
    let armed = false;
    const proxy = net.createServer((client) => {
      const server = net.connect(cluster.port, '127.0.0.1');
      client.on('data', (d) => server.write(d));
      server.on('data', (d) => {
        if (armed) {
          armed = false;
          client.destroy();
          server.destroy();
          return;
        }
        client.write(d);
      });
      client.on('error', () => server.destroy());
      server.on('error', () => client.destroy());
      client.on('close', () => server.destroy());
      server.on('close', () => client.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const port = (proxy.address() as net.AddressInfo).port;
    const store = await PgLogStore.open({ connectionString: url.replace(`:${cluster.port}/`, `:${port}/`), origin: 'cut.test/log', poolSize: 1 });
    try {
      await store.sequence([item('a')], true);
      armed = true;
      const err = await store.sequence([item('b'), item('c')], true).then(() => 'resolved', (e: unknown) => e);
      expect(isOutcomeUnknown(err), String(err)).toBe(true);
      const retry = await store.sequence([item('b'), item('c')], true);
      expect(retry.map((r) => r.index)).toEqual([1, 2]);
      expect(await store.nextIndex()).toBe(3);
      // The first attempt had landed: the retry was told it is a duplicate, not stored again.
      expect(retry.every((r) => r.duplicate)).toBe(true);
    } finally {
      await store.close();
      proxy.close();
    }
  });

  test('an immediate restart (crash) of the server under load loses no acknowledged entry', async () => {
    const store = await PgLogStore.open({ connectionString: url, origin: 'restart.test/log' });
    const acked = new Map<number, string>();
    let failures = 0; // unknown outcomes and refusals while the server was down (retried with new entries)
    let stop = false;
    let n = 0;
    const load = (async () => {
      while (!stop) {
        const names = Array.from({ length: 50 }, () => `e${n++}`);
        try {
          const results = await store.sequence(names.map(item), true);
          results.forEach((r, k) => acked.set(r.index, names[k]!));
        } catch {
          failures++;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    })();
    try {
      while (acked.size < 500) await new Promise((r) => setTimeout(r, 20));
      cluster.restart('immediate');
      const after = acked.size;
      while (acked.size < after + 500) await new Promise((r) => setTimeout(r, 20));
      stop = true;
      await load;
      const size = await store.nextIndex();
      const { entries } = await store.readEntries(0, size);
      const texts = entries.map((e) => new TextDecoder().decode(e));
      for (const [index, name] of acked) expect(texts[index]).toBe(name);
      expect(new Set(texts).size).toBe(size);
    } finally {
      stop = true;
      await load;
      await store.close();
    }
  });
});
