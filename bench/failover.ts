// Kill-to-next-checkpoint for pg-http.bench.ts: a light bounded add load on
// every process of a log, SIGKILL the process that signs, restart it at once
// on the same port (a supervisor), and time from the kill to the first public
// checkpoint written by whoever signs next (a poller of the bucket's
// `checkpoint`, every POLL_MS). With PostgreSQL the other process takes over
// when the lease lapses; with SQLite (the baseline) the restarted process
// itself recovers and publishes.
//
// Which publication counts: a PUT the dead leader had in flight may land just
// after the kill, so for PostgreSQL only a checkpoint seen after the new epoch
// was seen (less two poll periods) counts; for SQLite one seen after the
// restarted process started (it cannot publish earlier).

import pg from 'pg';
import { sleep, type Serve } from './serve-procs.js';

const POLL_MS = 20;

/** Bounded load: `perProcess` adds in flight to each process; a refused or failed add waits 50 ms (no busy loop on a dead port). */
export function backgroundLoad(procs: readonly Serve[], perProcess: number, tag: string): { acked: () => number; stop(): Promise<void> } {
  let stop = false;
  let acked = 0;
  let n = 0;
  const workers = procs.flatMap((p) =>
    Array.from({ length: perProcess }, async () => {
      while (!stop) {
        try {
          const res = await fetch(`${p.url}/add`, { method: 'POST', body: `failover ${tag} ${n++}`, signal: AbortSignal.timeout(5000) });
          await res.arrayBuffer();
          if (res.status === 200) acked++;
          else await sleep(50);
        } catch {
          await sleep(50);
        }
      }
    }),
  );
  return {
    acked: () => acked,
    async stop() {
      stop = true;
      await Promise.all(workers);
    },
  };
}

/** The bucket's checkpoint as seen every POLL_MS: each size change with the time it was seen. */
export function checkpointWatch(url: string): { changes: { size: number; at: number }[]; stop(): Promise<void> } {
  const changes: { size: number; at: number }[] = [];
  let stop = false;
  const done = (async () => {
    while (!stop) {
      try {
        const res = await fetch(url);
        const text = await res.text();
        if (res.status === 200) {
          const size = Number(text.split('\n')[1]);
          if (changes.length === 0 || changes[changes.length - 1]!.size !== size) changes.push({ size, at: performance.now() });
        }
      } catch {
        // the server is up for the whole run; a failed read is skipped
      }
      await sleep(POLL_MS);
    }
  })();
  return {
    changes,
    async stop() {
      stop = true;
      await done;
    },
  };
}

async function waitUntil<T>(what: string, f: () => Promise<T | null> | T | null, ms: number): Promise<T> {
  const until = performance.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== null) return v;
    if (performance.now() > until) throw new Error(`failover bench: timed out waiting for ${what}`);
    await sleep(POLL_MS);
  }
}

function firstAfter(changes: readonly { at: number }[], from: number): number | null {
  return changes.find((c) => c.at >= from)?.at ?? null;
}

/** The signer lease as PostgreSQL holds it: epoch and the holder's pid while live. */
async function lease(db: pg.Client, schema: string): Promise<{ epoch: number; pid: number | null }> {
  const row = (await db.query(`SELECT epoch, leader, lease_expires > now() AS live FROM ${schema}.tree_state WHERE id = 1`)).rows[0] as
    | { epoch: string; leader: string | null; live: boolean | null }
    | undefined;
  const pid = row?.leader != null && row.live === true ? Number(row.leader.split(':')[1]) : null;
  return { epoch: Number(row?.epoch ?? 0), pid };
}

/** PostgreSQL: `cycles` SIGKILLs of the leader among procs; ms from each kill to the new leader's first checkpoint. */
export async function pgFailovers(procs: Serve[], dbUrl: string, schema: string, checkpointUrl: string, cycles: number): Promise<number[]> {
  const db = new pg.Client({ connectionString: dbUrl });
  await db.connect();
  const watch = checkpointWatch(checkpointUrl);
  const load = backgroundLoad(procs, 4, 'pg');
  const out: number[] = [];
  try {
    for (let c = 0; c < cycles; c++) {
      const before = await waitUntil('a leader', async () => ((l) => (l.pid === null ? null : l))(await lease(db, schema)), 60_000);
      const leader = procs.find((p) => p.pid === before.pid);
      if (leader === undefined) throw new Error(`failover bench: the leader (pid ${before.pid}) is none of the benchmark's processes`);
      await sleep(500);
      const t0 = performance.now();
      await leader.kill('SIGKILL');
      const restarted = leader.start();
      const seen = await waitUntil('a new leader', async () => ((l) => (l.epoch > before.epoch && l.pid !== null ? performance.now() : null))(await lease(db, schema)), 120_000);
      const published = await waitUntil('the new leader publishing', () => firstAfter(watch.changes, seen - 2 * POLL_MS), 60_000);
      out.push(published - t0);
      await restarted;
      await sleep(1000);
    }
  } finally {
    await load.stop();
    await watch.stop();
    await db.end();
  }
  return out;
}

/** SQLite baseline: `cycles` SIGKILLs of the one process, restarted at once; ms from each kill to its next checkpoint. */
export async function sqliteRestarts(proc: Serve, checkpointUrl: string, cycles: number): Promise<number[]> {
  const watch = checkpointWatch(checkpointUrl);
  const load = backgroundLoad([proc], 8, 'sqlite');
  const out: number[] = [];
  try {
    for (let c = 0; c < cycles; c++) {
      await sleep(500);
      const t0 = performance.now();
      await proc.kill('SIGKILL');
      const spawned = performance.now();
      await proc.start();
      const published = await waitUntil('the restarted process publishing', () => firstAfter(watch.changes, spawned), 60_000);
      out.push(published - t0);
      await sleep(500);
    }
  } finally {
    await load.stop();
    await watch.stop();
  }
  return out;
}
