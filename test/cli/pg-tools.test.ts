// `tilelog audit --db` and `tilelog registry reindex --db` against a real
// PostgreSQL and the S3 test server, with a real `tilelog serve --db` making
// the log: the audit cross-checks the database with the bucket (and fails
// when an entry in the database was changed), both tools are read-only (no
// schema created, the lease row untouched), the URL comes from --db,
// $TILELOG_DB or the config file's "db" field, and an unreachable server, a
// refused login and a database without the log each fail with one line that
// says what to check.

import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { PgLogStore } from '../../src/storage/pg-log-store.js';
import { schemaNameForOrigin } from '../../src/storage/pg-schema.js';
import { describePg, freshDatabase, sharedCluster } from '../support/postgres.js';
import { startS3TestServer, type S3TestServer } from '../support/s3-server.js';
import { runCli, startServe, tempDir, type RunResult } from './helpers.js';

const BUCKET = 'pgtools';
const ORIGIN = 'pg-tools.test.example/log';
const CREDS = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' };
const schema = schemaNameForOrigin(ORIGIN);
/** More than one bundle (256), so the audit compares a full and a partial bundle. */
const ENTRIES = 300;

let s3: S3TestServer;
let dir: string;
let dbUrl: string;
let vkey: string;

async function admin<T>(url: string, f: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await f(c);
  } finally {
    await c.end();
  }
}

const leaseRow = (url: string) =>
  admin(url, async (c) => (await c.query(`SELECT size, epoch, leader, lease_expires, published_size FROM ${schema}.tree_state`)).rows[0] as Record<string, unknown>);

const s3Flags = () => ['--s3-endpoint', s3.url, '--s3-force-path-style'];
const audit = (extra: string[], env: NodeJS.ProcessEnv = {}) =>
  runCli(['audit', `s3://${BUCKET}/log`, ...s3Flags(), '--log-key', vkey, '--json', ...extra], { env: { ...CREDS, ...env } });

/** A failure of a tool: exit 1, one line on stderr, no stack trace, no password. */
function oneLineFailure(r: RunResult): string {
  expect(r.code, r.stdout + r.stderr).toBe(1);
  // The AWS SDK may warn about the Node version first; tilelog's own message is one line.
  const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('tilelog '));
  expect(lines, r.stderr).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  return lines[0]!;
}

async function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

describePg('audit and registry reindex with --db (PostgreSQL + bucket)', () => {
  beforeAll(async () => {
    s3 = await startS3TestServer({ port: 0, buckets: [BUCKET], publicRead: true });
    dir = tempDir('tilelog-pg-tools-');
    dbUrl = await freshDatabase(await sharedCluster(), 'pgtools');
    const keyFile = path.join(dir, 'log.key');
    const kg = await runCli(['keygen', '--origin', ORIGIN, '--out', keyFile]);
    expect(kg.code, kg.stderr).toBe(0);
    vkey = kg.stdout.trim();
    const serve = await startServe(
      ['--db', dbUrl, '--state', path.join(dir, 'state'), '--key', keyFile, '--tiles', `s3://${BUCKET}/log`, ...s3Flags(), '--listen', '127.0.0.1:0',
        '--lease-ttl-ms', '1500', '--lease-renew-ms', '400', '--lease-margin-ms', '300'],
      { env: CREDS },
    );
    try {
      for (let i = 0; i < ENTRIES; i += 50) {
        await Promise.all(Array.from({ length: 50 }, async (_, k) => {
          const res = await fetch(`${serve.url}/add`, { method: 'POST', body: `tools-${i + k}` });
          expect(res.status).toBe(200);
        }));
      }
      const last = await fetch(`${serve.url}/add?wait=checkpoint`, { method: 'POST', body: 'tools-last' });
      expect(last.status).toBe(200);
    } finally {
      // A clean stop publishes everything and releases the lease.
      expect((await serve.stop('SIGTERM')).code).toBe(0);
    }
  }, 120_000);

  afterAll(async () => {
    await s3?.close();
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('audit --db: the database and the bucket agree, every entry compared; nothing in the database changes', async () => {
    const before = await leaseRow(dbUrl);
    const r = await audit(['--db', dbUrl]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ ok: true, treeSize: ENTRIES + 1, signatureVerified: true, mismatches: [] });
    expect(out.database).toMatchObject({ schema, signedSize: ENTRIES + 1, publishedSize: ENTRIES + 1, sequenced: ENTRIES + 1, entriesCompared: ENTRIES + 1 });
    expect(out.database.target).not.toMatch(/:[^@/]*@/);
    // Read-only: no lease taken, no state moved.
    expect(await leaseRow(dbUrl)).toEqual(before);
    // The text verdict names the database.
    const text = await runCli(['audit', `s3://${BUCKET}/log`, ...s3Flags(), '--log-key', vkey, '--db', dbUrl], { env: CREDS });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`^OK: ${ORIGIN} at size ${ENTRIES + 1}`));
    expect(text.stdout).toMatch(new RegExp(`schema ${schema}\\): signed size ${ENTRIES + 1}, published ${ENTRIES + 1}, ${ENTRIES + 1} entries sequenced; ${ENTRIES + 1} entries compared`));
  }, 60_000);

  test('the URL from $TILELOG_DB or the config file\'s "db" field, as serve takes it', async () => {
    const viaEnv = await audit([], { TILELOG_DB: dbUrl });
    expect(viaEnv.code, viaEnv.stderr).toBe(0);
    expect(JSON.parse(viaEnv.stdout).database.entriesCompared).toBe(ENTRIES + 1);
    const config = path.join(dir, 'serve.json');
    fs.writeFileSync(config, JSON.stringify({ db: dbUrl, listen: '127.0.0.1:0', 'lease-ttl-ms': 1500 }));
    const viaFile = await audit(['--config', config]);
    expect(viaFile.code, viaFile.stderr).toBe(0);
    expect(JSON.parse(viaFile.stdout).database.signedSize).toBe(ENTRIES + 1);
    // Without any of them, the audit reads the bucket alone.
    const alone = await audit([]);
    expect(alone.code, alone.stderr).toBe(0);
    expect(JSON.parse(alone.stdout).database).toBeUndefined();
  }, 60_000);

  test('audit --db fails when an entry in the database differs from its bundle, a recorded root from the checkpoint, or the database is behind the bucket', async () => {
    const copy = await freshDatabase(await sharedCluster(), 'pgtoolscopy');
    // Tamper with a copy, so the other tests keep the original.
    await copySchema(dbUrl, copy);
    const ok = await audit(['--db', copy]);
    expect(ok.code, ok.stderr + ok.stdout).toBe(0);
    await admin(copy, (c) => c.query(`UPDATE ${schema}.entries SET data = convert_to('tampered', 'UTF8') WHERE idx = 260`));
    const bad = await audit(['--db', copy]);
    expect(bad.code).toBe(1);
    const out = JSON.parse(bad.stdout);
    expect(out.ok).toBe(false);
    expect(out.mismatches).toEqual([{ path: expect.stringMatching(/^database /), problem: 'entry 260 differs from the one in its bundle' }]);
    await admin(copy, (c) => c.query(`UPDATE ${schema}.checkpoints SET root = decode(repeat('00', 32), 'hex') WHERE size = $1`, [ENTRIES + 1]));
    const badRoot = JSON.parse((await audit(['--db', copy])).stdout);
    expect(badRoot.mismatches.map((m: { problem: string }) => m.problem)).toContainEqual(expect.stringMatching(new RegExp(`^recorded root \\S+ for size ${ENTRIES + 1}, the bucket's checkpoint has`)));
    // A database restored from before the log ever signed: behind the bucket.
    await admin(copy, (c) => c.query(`UPDATE ${schema}.tree_state SET size = NULL, root = NULL, text = NULL, edge = NULL, prev_size = NULL, prev_edge = NULL`));
    const rolledBack = JSON.parse((await audit(['--db', copy])).stdout);
    expect(rolledBack.mismatches.map((m: { problem: string }) => m.problem)).toContainEqual(
      `no signed state, behind the bucket's checkpoint (size ${ENTRIES + 1}): the database was rolled back, or belongs to another bucket`,
    );
  }, 60_000);

  test('registry reindex --db rebuilds registry.db from the published entries, read-only', async () => {
    const before = await leaseRow(dbUrl);
    const state = path.join(dir, 'reindex-state');
    const r = await runCli(['registry', 'reindex', '--state', state, '--db', dbUrl, '--origin', ORIGIN, '--json']);
    expect(r.code, r.stderr).toBe(0);
    // None of these entries are registry entries: all read, none applied.
    expect(JSON.parse(r.stdout)).toEqual({ origin: ORIGIN, leaves: ENTRIES + 1, applied: 0, skipped: ENTRIES + 1, agents: 0, keys: 0 });
    expect(fs.existsSync(path.join(state, 'registry.db'))).toBe(true);
    expect(await leaseRow(dbUrl)).toEqual(before);
    // A frontend's state has no log.key: the origin must be given.
    const noOrigin = await runCli(['registry', 'reindex', '--state', state, '--db', dbUrl]);
    expect(noOrigin.code).toBe(2);
    expect(noOrigin.stderr).toMatch(/give --origin <origin>/);
  }, 60_000);

  test('an unreachable server, a refused login, a database without the log: one line each saying what to check; nothing created', async () => {
    const port = await closedPort();
    const down = oneLineFailure(await audit(['--db', `postgres://tilelog:secret-pw@127.0.0.1:${port}/nothing`]));
    expect(down).toMatch(new RegExp(`^tilelog audit: cannot reach PostgreSQL at tilelog@127\\.0\\.0\\.1:${port}/nothing \\(.*\\); check that it is running and that --db names the right host and port$`));
    expect(down).not.toContain('secret-pw');

    const empty = await freshDatabase(await sharedCluster(), 'pgtoolsempty');
    const noLog = oneLineFailure(await audit([], { TILELOG_DB: empty }));
    expect(noLog).toMatch(new RegExp(`holds no log ${ORIGIN} \\(no schema ${schema}\\); check TILELOG_DB names the database 'tilelog serve --db' uses for this log`));
    const noLogReindex = oneLineFailure(await runCli(['registry', 'reindex', '--state', path.join(dir, 'r2'), '--db', empty, '--origin', ORIGIN]));
    expect(noLogReindex).toMatch(/^tilelog registry: .* holds no log/);
    // Read-only: the tools created nothing there.
    const schemas = await admin(empty, async (c) => (await c.query("SELECT count(*)::int AS n FROM information_schema.schemata WHERE schema_name LIKE 'log_%'")).rows[0].n);
    expect(schemas).toBe(0);

    const cluster = await sharedCluster();
    if (cluster.dataDir === null) return; // an external server: its authentication is not ours to change
    await requirePassword(cluster.dataDir, dbUrl, 'tools_pw', 'right-password');
    const url = new URL(dbUrl);
    url.username = 'tools_pw';
    url.password = 'wrong-password';
    const denied = oneLineFailure(await audit(['--db', url.toString()]));
    expect(denied).toMatch(/refused the login \(.*password authentication failed.*\); check the user and password in --db$/);
    expect(denied).not.toContain('wrong-password');
  }, 60_000);
});

// copySchema: the log's tables from one database into another's same-named schema (SELECT then INSERT; small tables).
async function copySchema(from: string, to: string): Promise<void> {
  // The schema made by the server's own migration, then the rows of each table.
  const store = await PgLogStore.open({ connectionString: to, origin: ORIGIN });
  await store.close();
  for (const table of ['entries', 'checkpoints', 'tree_state', 'seq_coord', 'witness_sizes']) {
    const rows = (await admin(from, (c) => c.query(`SELECT * FROM ${schema}.${table}`))).rows as Record<string, unknown>[];
    await admin(to, async (c) => {
      await c.query(`DELETE FROM ${schema}.${table}`);
      for (const row of rows) {
        const cols = Object.keys(row);
        await c.query(`INSERT INTO ${schema}.${table} (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})`, cols.map((k) => row[k]));
      }
    });
  }
}

// requirePassword: a role that must log in with a password (scram), on the
// test cluster: a pg_hba.conf line for that role alone, first, then a reload.
async function requirePassword(dataDir: string, url: string, role: string, password: string): Promise<void> {
  await admin(url, async (c) => {
    await c.query(`DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${role}') THEN CREATE ROLE ${role} LOGIN; END IF; END $$`);
    await c.query(`ALTER ROLE ${role} PASSWORD '${password}'`);
  });
  const hba = path.join(dataDir, 'pg_hba.conf');
  const text = fs.readFileSync(hba, 'utf8');
  const line = `host all ${role} 127.0.0.1/32 scram-sha-256\n`;
  if (!text.startsWith(line)) fs.writeFileSync(hba, line + text);
  await admin(url, (c) => c.query('SELECT pg_reload_conf()'));
}
