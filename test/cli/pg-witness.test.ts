// Witness cosigning on a log in PostgreSQL, across failovers: two real
// `tilelog serve --db` candidates (one bucket of the S3 test server) with one
// witness (the real witness code, served in this process), SIGKILL the
// leader twice, restarting it each time.
//   - only the leader contacts the witness: each process submits under its own
//     URL prefix, and every request came from the process that held the lease
//     then (the lease row is sampled throughout; a follower that submitted
//     would do so every refresh, seconds away from any term of its own);
//   - the new leader gathers cosignatures: after each failover the published
//     checkpoint is larger and carries the witness's cosignature;
//   - the witness never saw a fork or a rollback: no checkpoint submitted was
//     smaller than the one it had cosigned (or another root at its size), it
//     refused nothing as inconsistent (no 422, no evidence recorded), and the
//     sizes it cosigned only grew.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { Hono } from 'hono';
import pg from 'pg';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startServer, type RunningServer } from '../../src/http/index.js';
import { hashEqual } from '../../src/merkle/index.js';
import { openCheckpoint, parseCheckpoint, parseNote, parseVerifierKey } from '../../src/note/index.js';
import { parseCosignatureVerifierKey } from '../../src/note/cosignature.js';
import { schemaNameForOrigin } from '../../src/storage/pg-schema.js';
import { parseAddCheckpointRequest } from '../../src/witness/request.js';
import { openTestWitness, type TestWitness } from '../witness/helpers.js';
import { describePg, freshDatabase, sharedCluster } from '../support/postgres.js';
import { startS3TestServer, type S3TestServer } from '../support/s3-server.js';
import { runCli, startServe, tempDir, type ServeHandle } from './helpers.js';
import { sleep, waitFor } from './pg-processes.js';

const BUCKET = 'pgwitness';
const ORIGIN = 'pg-witness.test.example/log';
const CREDS = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' };
const TTL_MS = 1500;
const FAILOVERS = 2;
const schema = schemaNameForOrigin(ORIGIN);

/** One add-checkpoint request as the witness saw it. */
interface Submission {
  caller: string;
  at: number;
  size: number;
  /** The size the witness had cosigned when the request arrived (0: never). */
  cosignedBefore: number;
  /** Another root at a size it had cosigned. */
  otherRoot: boolean;
  status: number;
}

let s3: S3TestServer;
let dir: string;
let dbUrl: string;
let keyFile: string;
let vkey: string;
let witness: TestWitness;
let witnessServer: RunningServer;
const submissions: Submission[] = [];
const running: ServeHandle[] = [];
/** caller name -> pid of the process that submits under it. */
const pids = new Map<string, number>();


// The witness behind a prefix per caller: /<caller>/add-checkpoint. Each
// request is recorded with what the witness held when it arrived.
function witnessFront(w: TestWitness): Hono {
  const app = new Hono();
  app.post('/:caller/add-checkpoint', async (c) => {
    const body = new Uint8Array(await c.req.arrayBuffer());
    const req = parseAddCheckpointRequest(body);
    const cp = parseCheckpoint(parseNote(req.note).text);
    const latest = w.store.latest(ORIGIN);
    const cosignedAtSize = w.store.cosignedRoot(ORIGIN, cp.size);
    const res = await w.app.request('/add-checkpoint', { method: 'POST', body: Buffer.from(body) });
    submissions.push({
      caller: c.req.param('caller'),
      at: performance.now(),
      size: cp.size,
      cosignedBefore: latest?.size ?? 0,
      otherRoot: cosignedAtSize !== null && !hashEqual(cosignedAtSize, cp.root),
      status: res.status,
    });
    return res;
  });
  return app;
}

async function serve(caller: string): Promise<ServeHandle> {
  const h = await startServe(
    [
      '--db', dbUrl, '--state', path.join(dir, caller), '--key', keyFile, '--tiles', `s3://${BUCKET}/log`, '--s3-endpoint', s3.url, '--s3-force-path-style',
      '--listen', '127.0.0.1:0', '--lease-ttl-ms', String(TTL_MS), '--lease-renew-ms', '400', '--lease-margin-ms', '300',
      '--witness', `${witnessServer.url}/${caller},${witness.witness.verifierKey}`, '--witness-timeout-ms', '2000', '--witness-refresh-s', '1',
    ],
    { env: CREDS },
  );
  running.push(h);
  pids.set(caller, h.child.pid!);
  return h;
}

async function leaderPid(): Promise<number | null> {
  const c = new pg.Client({ connectionString: dbUrl });
  await c.connect();
  try {
    const row = (await c.query(`SELECT leader, lease_expires > now() AS live FROM ${schema}.tree_state`)).rows[0];
    return row?.leader == null || row.live !== true ? null : Number(String(row.leader).split(':')[1]);
  } finally {
    await c.end();
  }
}

/** Samples the lease row every 50 ms: (time, leader pid). */
function leaseSampler() {
  const samples: { at: number; pid: number | null }[] = [];
  let stop = false;
  const done = (async () => {
    while (!stop) {
      const pid = await leaderPid().catch(() => undefined);
      if (pid !== undefined) samples.push({ at: performance.now(), pid });
      await sleep(50);
    }
  })();
  return { samples, stop: async () => ((stop = true), await done) };
}

/** The bucket's checkpoint, opened with the log key and the witness's cosignature key. */
async function publishedCheckpoint(): Promise<{ size: number; signers: string[] }> {
  const text = await (await fetch(`${s3.url}/${BUCKET}/log/checkpoint`)).text();
  const opened = openCheckpoint(text, ORIGIN, [parseVerifierKey(vkey), parseCosignatureVerifierKey(witness.witness.verifierKey)]);
  return { size: opened.checkpoint.size, signers: opened.verified.map((v) => v.name) };
}

describePg('witness cosigning on a PostgreSQL log, across leader failovers', () => {
  beforeAll(async () => {
    s3 = await startS3TestServer({ port: 0, buckets: [BUCKET], publicRead: true });
    dir = tempDir('tilelog-pg-witness-');
    dbUrl = await freshDatabase(await sharedCluster(), 'pgwitness');
    keyFile = path.join(dir, 'log.key');
    const kg = await runCli(['keygen', '--origin', ORIGIN, '--out', keyFile]);
    expect(kg.code, kg.stderr).toBe(0);
    vkey = kg.stdout.trim();
    witness = openTestWitness({ logs: [[ORIGIN, vkey]] });
    witnessServer = await startServer(witnessFront(witness), { host: '127.0.0.1', port: 0 });
  });

  afterAll(async () => {
    for (const h of running.splice(0)) await h.stop('SIGKILL').catch(() => undefined);
    await witnessServer?.close();
    witness?.close();
    await s3?.close();
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  });

  test(`SIGKILL the leader ${FAILOVERS} times: only the leader submits, the new leader publishes cosigned checkpoints, the witness sees no fork or rollback`, async () => {
    // Sampling from before the first start (the first term begins as the first process opens).
    const sampler = leaseSampler();
    const procs: ServeHandle[] = [await serve('a0'), await serve('b0')];
    const witnessName = witness.witness.name;
    let added = 0;
    const add = async (h: ServeHandle): Promise<number> => {
      const res = await fetch(`${h.url}/add?wait=checkpoint`, { method: 'POST', body: `witnessed-${added++}`, signal: AbortSignal.timeout(30_000) });
      expect(res.status, await res.clone().text()).toBe(200);
      const { index, checkpoint } = (await res.json()) as { index: number; checkpoint: string };
      // ?wait=checkpoint waits for the published (cosigned) checkpoint.
      expect(checkpoint).toContain(`— ${witnessName} `);
      return index;
    };
    try {
      for (const h of procs) await add(h);
      for (let k = 0; k < FAILOVERS; k++) {
        const pid = await waitFor('a leader', leaderPid);
        const i = procs.findIndex((h) => h.child.pid === pid);
        expect(i).toBeGreaterThanOrEqual(0);
        const before = await publishedCheckpoint();
        expect(before.signers).toContain(witnessName);
        procs[i]!.child.kill('SIGKILL');
        await procs[i]!.stop('SIGKILL');
        // Restarted at once, as a supervisor would. Either the survivor or the
        // restarted process may win the expired lease: the one that starts
        // before the survivor notices the expiry takes it fairly.
        const restarting = serve(`${i === 0 ? 'a' : 'b'}${k + 1}`);
        const survivor = procs[1 - i]!;
        await waitFor('a new leader', async () => ((await leaderPid()) ?? pid) !== pid, 30_000);
        const index = await add(survivor);
        const after = await waitFor('a cosigned checkpoint covering the new entry', async () => {
          const p = await publishedCheckpoint();
          return p.size > index ? p : null;
        });
        expect(after.size).toBeGreaterThan(before.size);
        expect(after.signers).toEqual([ORIGIN, witnessName]);
        procs[i] = await restarting;
        await add(procs[i]!); // the restarted process's adds are cosigned too, whichever leads
      }
      // A few refresh rounds with the last leader and a follower beside it.
      await sleep(2_500);
    } finally {
      await sampler.stop();
    }

    // The new leaders gathered cosignatures: the witness cosigned past every failover.
    const sizes = witness.store.history({ origin: ORIGIN }).map((h) => h.size);
    for (let k = 1; k < sizes.length; k++) expect(sizes[k]!).toBeGreaterThanOrEqual(sizes[k - 1]!);
    expect(sizes[sizes.length - 1]).toBe((await publishedCheckpoint()).size);
    // No fork, no rollback: nothing submitted below what it had cosigned, no other root, nothing refused as inconsistent.
    expect(submissions.length).toBeGreaterThan(0);
    expect(submissions.filter((s) => s.size < s.cosignedBefore || s.otherRoot || s.status === 422)).toEqual([]);
    expect(submissions.filter((s) => s.status !== 200 && s.status !== 409)).toEqual([]);
    expect(witness.store.evidence({ origin: ORIGIN })).toEqual([]);
    // Only the leader submitted: each request within a lease length of a sample naming its process the leader.
    const strays = submissions.filter((s) => {
      const pid = pids.get(s.caller);
      return !sampler.samples.some((x) => x.pid === pid && Math.abs(x.at - s.at) <= TTL_MS);
    });
    expect(strays).toEqual([]);
    // Several processes led (the check above is not empty), and the one that never led never submitted.
    const callers = new Set(submissions.map((s) => s.caller));
    expect(callers.size).toBeGreaterThanOrEqual(FAILOVERS + 1);
    const leaders = new Set(sampler.samples.map((x) => x.pid));
    const neverLed = [...pids].filter(([, pid]) => !leaders.has(pid)).map(([caller]) => caller);
    expect(neverLed.length).toBeGreaterThan(0);
    for (const caller of neverLed) expect(callers.has(caller)).toBe(false);
  }, 90_000);
});
