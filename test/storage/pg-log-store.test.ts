// PgLogStore on a real PostgreSQL (the run's private cluster, a database of
// this file's own): the storage contract, then what is PostgreSQL's own: the
// binary bytea[] parameters, bigint bounds, schema names, refusals, errors.

import * as net from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { isTilelogError } from '../../src/errors.js';
import { byteaArray } from '../../src/storage/pg-binary.js';
import { PgLease } from '../../src/storage/pg-lease.js';
import { PgLogStore } from '../../src/storage/pg-log-store.js';
import { assertSchemaName, schemaNameForOrigin } from '../../src/storage/pg-schema.js';
import type { Leadership } from '../../src/storage/log-store.js';
import { describePg, freshDatabase, sharedCluster } from '../support/postgres.js';
import { item, runLogStoreContract, type LogStoreUnderTest, type OpenSpec } from './log-store-contract.js';

let url = '';

// openPg: the store plus a lease held by this harness (long ttl: the contract
// never waits for one to lapse); takeOver releases it and a second candidate
// acquires the next epoch, while the contract keeps using the old fence.
async function openPg(spec: OpenSpec): Promise<LogStoreUnderTest> {
  const store = await PgLogStore.open({ connectionString: url, origin: spec.origin, schema: spec.key, dedup: spec.dedup });
  const leases: PgLease[] = [];
  const terms: Leadership[] = [];
  const lead = async (holder: string): Promise<Leadership> => {
    const lease = await PgLease.open({ connectionString: url, origin: spec.origin, schema: spec.key, holder, ttlMs: 60_000 });
    leases.push(lease);
    const term = await lease.acquire(AbortSignal.timeout(30_000));
    terms.push(term);
    return term;
  };
  const first = await lead('contract-a');
  return {
    sequence: store,
    state: store,
    fence: first.fence,
    takeOver: async () => {
      await first.release();
      return (await lead('contract-b')).fence;
    },
    close: async () => {
      for (const t of terms) await t.release().catch(() => undefined);
      for (const l of leases) await l.close();
      await store.close();
    },
  };
}

describePg('PgLogStore', () => {
  beforeAll(async () => {
    url = await freshDatabase(await sharedCluster(), 'pgstore');
  });

  runLogStoreContract('PostgreSQL', openPg);

  test('schema names come from the origin, need no quoting, and keep folded-alike origins apart', () => {
    const a = schemaNameForOrigin('example.com/log');
    const b = schemaNameForOrigin('example.com:log');
    expect(a).toMatch(/^log_example_com_log_[0-9a-f]{10}$/);
    expect(b).not.toBe(a);
    expect(schemaNameForOrigin('x'.repeat(300)).length).toBeLessThanOrEqual(63);
    for (const name of [a, b, schemaNameForOrigin('Ünïcode ☃ log'), schemaNameForOrigin('///')]) expect(() => assertSchemaName(name)).not.toThrow();
    for (const bad of ['', 'Log', 'a-b', 'pg_x', '1a', 'a;drop', 'x'.repeat(64)]) {
      expect(() => assertSchemaName(bad)).toThrow(/schema name/);
    }
  });

  test('the binary bytea[] encoding round-trips through the server, empty and odd sizes included', async () => {
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const items = [new Uint8Array(0), new Uint8Array([0]), new Uint8Array(65535).fill(7), Buffer.from('tilelog')];
      const r = await client.query('SELECT cardinality($1::bytea[]) AS n, $1::bytea[] AS a', [byteaArray(items)]);
      expect(r.rows[0].n).toBe(4);
      expect((r.rows[0].a as Buffer[]).map((b) => Buffer.from(b).toString('hex'))).toEqual(items.map((b) => Buffer.from(b).toString('hex')));
      const e = await client.query('SELECT cardinality($1::bytea[]) AS n', [byteaArray([])]);
      expect(e.rows[0].n).toBe(0);
    } finally {
      await client.end();
    }
  });

  test('a bigint beyond 2^53-1 is refused as LOG_CORRUPT, not rounded', async () => {
    const store = await PgLogStore.open({ connectionString: url, origin: 'big.test/log', schema: 'big_test' });
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query('UPDATE big_test.seq_coord SET next = $1', ['9007199254740991']);
      expect(await store.nextIndex()).toBe(Number.MAX_SAFE_INTEGER);
      await client.query('ALTER TABLE big_test.seq_coord DROP CONSTRAINT seq_coord_next_check');
      await client.query('UPDATE big_test.seq_coord SET next = $1', ['9007199254740993']);
      await expect(store.nextIndex()).rejects.toMatchObject({ code: 'LOG_CORRUPT' });
    } finally {
      await client.end();
      await store.close();
    }
  });

  test('a dedup log refuses a call without dedup; two stores opening one new log at once create it once', async () => {
    const [a, b] = await Promise.all([
      PgLogStore.open({ connectionString: url, origin: 'race.test/log' }),
      PgLogStore.open({ connectionString: url, origin: 'race.test/log' }),
    ]);
    try {
      expect(a.schema).toBe(schemaNameForOrigin('race.test/log'));
      await expect(a.sequence([item('x')], false)).rejects.toMatchObject({ code: 'LOG_CONFIG' });
      expect(await a.sequence([item('x')], true)).toEqual([{ index: 0, duplicate: false }]);
      expect(await b.sequence([item('x')], true)).toEqual([{ index: 0, duplicate: true }]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('an unreachable server is STORAGE_UNAVAILABLE naming user@host:port/db and what to check, without the password', async () => {
    // A port that was free a moment ago: nothing listens there.
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const err = await PgLogStore.open({ connectionString: `postgres://tl:secret@127.0.0.1:${port}/logs`, origin: 'x.test/log' }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isTilelogError(err, 'STORAGE_UNAVAILABLE')).toBe(true);
    const message = (err as Error).message;
    expect(message).toContain(`tl@127.0.0.1:${port}/logs`);
    expect(message).toMatch(/PostgreSQL is running/);
    expect(message).not.toContain('secret');
    await expect(PgLogStore.open({ connectionString: 'mysql://x/y', origin: 'x.test/log' })).rejects.toMatchObject({ code: 'LOG_CONFIG' });
  });
});

afterAll(() => undefined);
