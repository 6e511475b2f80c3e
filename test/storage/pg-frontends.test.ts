// T2, two frontends, one dedup storm: two processes, each its own PgLogStore
// (its own connections), sequence the same 3,000 entries in different orders
// in batches of 100. The sequence must be dense, hold every entry once, and
// both processes must have been told the stored index of every entry.

import { beforeAll, expect, test } from 'vitest';
import { PgLogStore } from '../../src/storage/pg-log-store.js';
import { describePg, freshDatabase, sharedCluster } from '../support/postgres.js';
import { startChild } from './pg-children.js';

const COUNT = 3000;
const BATCH = 100;
const ORIGIN = 'storm.test/log';
let url = '';

describePg('two frontends, one dedup storm (PostgreSQL)', () => {
  beforeAll(async () => {
    url = await freshDatabase(await sharedCluster(), 'storm');
  });

  test('3,000 entries in two orders from two processes: dense, each stored once, both told the stored index', async () => {
    const store = await PgLogStore.open({ connectionString: url, origin: ORIGIN });
    try {
      const a = startChild(['storm', url, ORIGIN, '12345', String(COUNT), String(BATCH)]);
      const b = startChild(['storm', url, ORIGIN, '67890', String(COUNT), String(BATCH)]);
      const [ra, rb] = await Promise.all([a.next((l) => 'indexes' in l, 110_000), b.next((l) => 'indexes' in l, 110_000)]);
      expect(await a.exited).toBe(0);
      expect(await b.exited).toBe(0);
      const ia = ra.indexes as number[];
      const ib = rb.indexes as number[];

      expect(await store.nextIndex()).toBe(COUNT);
      const { entries } = await store.readEntries(0, COUNT);
      const texts = entries.map((e) => new TextDecoder().decode(e));
      const where = new Map<string, number>();
      texts.forEach((t, i) => {
        expect(where.has(t), `${t} stored twice`).toBe(false);
        where.set(t, i);
      });
      for (let i = 0; i < COUNT; i++) {
        const stored = where.get(`storm entry ${i}`);
        expect(stored, `entry ${i} missing`).toBeDefined();
        expect(ia[i]).toBe(stored);
        expect(ib[i]).toBe(stored);
      }
      // Each entry was new to exactly one of the two (the other was told it is a duplicate).
      expect((ra.stored as number) + (rb.stored as number)).toBe(COUNT);
    } finally {
      await store.close();
    }
  });
});
