// Helpers for tests of `tilelog serve --db` processes on one PostgreSQL
// database and one bucket of the test S3 server: who leads (read from the
// database directly, never through a test proxy), condition waits, a poller
// of the bucket's checkpoint (every size seen, one root per size), entries.

import * as path from 'node:path';
import { expect } from 'vitest';
import { admin, freshDatabase, sharedCluster } from '../support/postgres.js';
import type { S3TestServer } from '../support/s3-server.js';
import { runCli } from './helpers.js';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One log for a test: a fresh database, a bucket prefix, and a key every process shares. */
export interface PgLogSetup {
  dbUrl: string;
  prefix: string;
  keyFile: string;
}

/** A fresh database named <dbName><k>, prefix log<k> and a new log key in dir (k counts calls per dbName). */
export async function pgLogSetup(dir: string, origin: string, dbName: string): Promise<PgLogSetup> {
  const k = (setups.get(dbName) ?? 0) + 1;
  setups.set(dbName, k);
  const dbUrl = await freshDatabase(await sharedCluster(), `${dbName}${k}`);
  const keyFile = path.join(dir, `key${k}`);
  const r = await runCli(['keygen', '--origin', origin, '--out', keyFile]);
  expect(r.code, r.stderr).toBe(0);
  return { dbUrl, prefix: `log${k}`, keyFile };
}
const setups = new Map<string, number>();

/** The pid of the process holding a live lease on the log in schema, or null. */
export async function leaderPid(dbUrl: string, schema: string): Promise<number | null> {
  const row = (await admin(dbUrl, (c) => c.query(`SELECT leader, lease_expires > now() AS live FROM ${schema}.tree_state`))).rows[0];
  if (row?.leader == null || row.live !== true) return null;
  return Number(String(row.leader).split(':')[1]);
}

/** The lease epoch of the log in schema. */
export async function leaseEpoch(dbUrl: string, schema: string): Promise<number> {
  return Number((await admin(dbUrl, (c) => c.query(`SELECT epoch FROM ${schema}.tree_state`))).rows[0]!.epoch);
}

/** Polls f until it answers something other than null/false (a thrown error counts as not yet). */
export async function waitFor<T>(what: string, f: () => Promise<T | null | false>, ms = 30_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => null);
    if (v !== null && v !== false) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

export interface CheckpointPoller {
  /** Sizes in the order seen (a change recorded once). */
  readonly sizes: number[];
  readonly conflicts: string[];
  latest(): number;
  stop(): Promise<void>;
}

/** Reads <bucket>/<prefix>/checkpoint every few ms, as a client of the public log would. */
export function checkpointPoller(s3: S3TestServer, bucket: string, prefix: string): CheckpointPoller {
  const sizes: number[] = [];
  const roots = new Map<number, string>();
  const conflicts: string[] = [];
  let stop = false;
  const done = (async () => {
    while (!stop) {
      try {
        const res = await fetch(`${s3.url}/${bucket}/${prefix}/checkpoint`);
        if (res.status === 200) {
          const lines = (await res.text()).split('\n');
          const size = Number(lines[1]);
          const root = lines[2]!;
          if (sizes.length === 0 || sizes[sizes.length - 1] !== size) sizes.push(size);
          const known = roots.get(size);
          if (known !== undefined && known !== root) conflicts.push(`size ${size}: ${known} vs ${root}`);
          roots.set(size, root);
        }
      } catch {
        // the server is up for the whole test; a failed read is just skipped
      }
      await sleep(20);
    }
  })();
  return {
    sizes,
    conflicts,
    latest: () => sizes[sizes.length - 1] ?? -1,
    async stop() {
      stop = true;
      await done;
    },
  };
}

/** No size seen is smaller than one seen before it, and no size had two roots. */
export function expectNoShrinkNoFork(p: CheckpointPoller): void {
  for (let k = 1; k < p.sizes.length; k++) expect(p.sizes[k]!, `sizes seen: ${p.sizes.join(', ')}`).toBeGreaterThan(p.sizes[k - 1]!);
  expect(p.conflicts).toEqual([]);
}

/** The entry at index as text, from /v1/log/entry. */
export async function entryAt(url: string, index: number): Promise<string> {
  const res = await fetch(`${url}/v1/log/entry/${index}`);
  expect(res.status).toBe(200);
  return Buffer.from(((await res.json()) as { entry: string }).entry, 'base64').toString('utf8');
}

/** POST /add (optionally ?wait=checkpoint): the status and, on 200, the index. */
export async function add(url: string, body: string, opts: { wait?: boolean; timeoutMs?: number } = {}): Promise<{ status: number; index: number | null; text: string }> {
  const res = await fetch(`${url}/add${opts.wait === true ? '?wait=checkpoint' : ''}`, {
    method: 'POST',
    body,
    signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
  });
  const text = await res.text();
  return { status: res.status, index: res.status === 200 ? (JSON.parse(text) as { index: number }).index : null, text };
}
