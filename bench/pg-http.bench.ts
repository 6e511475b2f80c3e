// PostgreSQL over HTTP (issue 13, Performance): real `tilelog serve`
// processes (children, dist/cli/main.js) on 127.0.0.1, the public tree on the
// S3 test server (a child), the state either in SQLite (one process: the
// baseline) or in one private PostgreSQL cluster (fsync on) shared by one or
// two processes. Every case uses the same load generator (closed-loop.ts, in
// this process) with the same number of clients, split evenly over the
// frontends. Cases alternate within each run and runs repeat; lines give the
// median over runs with the spread [min-max].
//
//   adds        CLIENTS clients POST /add (unique entries) for SECONDS: durable
//               adds/s, ack latency p50/p99; dedup on and off (a log each);
//   rate        RATE adds/s offered (open loop, open-loop.ts), spread over the
//               frontends, dedup on: ack p50/p99 at a load the server keeps up
//               with (the closed loop's latency is clients / throughput);
//   ttc         TTC_CLIENTS clients POST /add?wait=checkpoint: time to a
//               published checkpoint p50/p99 (on a second frontend, through
//               LISTEN/NOTIFY or polling);
//   bytes       pg_total_relation_size of the log schema's tables / entries,
//               beside SQLite's log.db (+ -wal) / entries;
//   failover    default lease settings (ttl 10 s, renew 3 s, margin 2 s):
//               SIGKILL the leader, restart it, kill-to-next-checkpoint p50/p99
//               over CYCLES kills; baseline: SIGKILL and restart of the one
//               SQLite process (failover.ts).
//   cpu         per adds case, CPU ms per 1,000 adds of each process (each
//               frontend, the PostgreSQL cluster, the S3 test server, the load
//               generator) and the machine's busy share (pg-http-cpu.ts); the
//               frontends' sequencing calls from TILELOG_PG_TRACE
//               (pg-trace-stats.ts): batch size, where a call's time goes, an
//               upper bound on the time the row lock is held.
// Targets (printed, never asserted): two frontends > one in adds/s; ack p99
// <= 100 ms; failover p99 <= 15 s.
// Knobs: BENCH_PG_HTTP_SECONDS (2), BENCH_PG_HTTP_RUNS (3), BENCH_PG_HTTP_CLIENTS
// (64), BENCH_PG_HTTP_RATE (200), BENCH_PG_FAILOVER_CYCLES (3; 0 skips it),
// BENCH_PG_HTTP_ONLY_ADDS (1: only the adds cases and their CPU lines),
// BENCH_PG_HTTP_TRACE (0: no call trace), BENCH_PG_HTTP_LINGER_MS (--batch-linger-ms
// of the PostgreSQL frontends; unset: the server's default).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import pg from 'pg';
import { schemaNameForOrigin } from '../src/storage/pg-schema.js';
import { freshDatabase, pgUnavailable, privateCluster } from '../test/support/postgres-cluster.js';
import { closedLoop, type LoadResult } from './closed-loop.js';
import { pgFailovers, sqliteRestarts } from './failover.js';
import { openLoop, type OpenLoopResult } from './open-loop.js';
import { CpuTally } from './pg-http-cpu.js';
import { summarizeTrace, traceLine } from './pg-trace-stats.js';
import { keygen, Serve, s3Args, sleep, startS3, type S3Child } from './serve-procs.js';
import { freePort, header, median, quantile, rate } from './util.js';

const SECONDS = Number(process.env.BENCH_PG_HTTP_SECONDS ?? 2);
const RUNS = Number(process.env.BENCH_PG_HTTP_RUNS ?? 3);
const CLIENTS = Number(process.env.BENCH_PG_HTTP_CLIENTS ?? 64);
const TTC_CLIENTS = 16;
const RATE = Number(process.env.BENCH_PG_HTTP_RATE ?? 200);
const ONLY_ADDS = process.env.BENCH_PG_HTTP_ONLY_ADDS === '1';
const CYCLES = ONLY_ADDS ? 0 : Number(process.env.BENCH_PG_FAILOVER_CYCLES ?? 3);
const TRACE = process.env.BENCH_PG_HTTP_TRACE !== '0';
/** --batch-linger-ms for the PostgreSQL frontends (unset: the server's default). */
const LINGER_MS = process.env.BENCH_PG_HTTP_LINGER_MS;
const BUCKET = 'pgbench';
const TARGET_ACK_P99_MS = 100;
const TARGET_FAILOVER_P99_MS = 15_000;

type Kind = 'sqlite' | 'pg1' | 'pg2';
const KINDS: readonly Kind[] = ['sqlite', 'pg1', 'pg2'];
const LABEL: Record<Kind, string> = { sqlite: 'sqlite, 1 process', pg1: 'postgres, 1 frontend', pg2: 'postgres, 2 frontends' };

/** One log under test: its processes (frontends), where its state and tree are. */
interface Setup {
  kind: Kind;
  dedup: boolean;
  origin: string;
  procs: Serve[];
  stateDirs: string[];
  prefix: string;
  /** State bytes and entries right after the start (a fresh log), for the per-entry cost net of fixed overhead. */
  empty: { bytes: number; entries: number };
  /** The TILELOG_PG_TRACE file of its processes (null: not traced). */
  trace: string | null;
}

const runId = Math.random().toString(36).slice(2, 8);

async function makeSetup(kind: Kind, dedup: boolean, s3: S3Child, dbUrl: string, dir: string): Promise<Setup> {
  const tag = `${kind}-${dedup ? 'dedup' : 'nodedup'}`;
  const origin = `bench.tilelog.example/${tag}`;
  const prefix = tag;
  const keyFile = path.join(dir, `${tag}.key`);
  keygen(origin, keyFile);
  const n = kind === 'pg2' ? 2 : 1;
  const procs: Serve[] = [];
  const stateDirs: string[] = [];
  const trace = TRACE && kind !== 'sqlite' ? path.join(dir, `${tag}.trace`) : null;
  for (let k = 0; k < n; k++) {
    const state = path.join(dir, `${tag}-${k}`);
    stateDirs.push(state);
    const args = ['--state', state, '--key', keyFile, ...s3Args(s3, BUCKET, prefix), ...(dedup ? [] : ['--no-dedup'])];
    if (kind !== 'sqlite') args.push('--db', dbUrl, ...(LINGER_MS !== undefined ? ['--batch-linger-ms', LINGER_MS] : []));
    procs.push(new Serve(`${tag}#${k}`, await freePort(), args, trace === null ? {} : { TILELOG_PG_TRACE: trace }));
  }
  // One after the other: the first creates the schema (or the SQLite log) and its first checkpoint.
  for (const p of procs) await p.start();
  const setup: Setup = { kind, dedup, origin, procs, stateDirs, prefix, empty: { bytes: 0, entries: 0 }, trace };
  setup.empty = await stateBytes(setup, dbUrl);
  return setup;
}

/** CLIENTS (or `clients`) split over the setup's frontends, run side by side; latencies merged. */
async function load(s: Setup, clients: number, wait: boolean, label: string): Promise<LoadResult> {
  const per = Math.max(1, Math.floor(clients / s.procs.length));
  const results = await Promise.all(
    s.procs.map((p, k) =>
      closedLoop(
        {
          url: `${p.url}/add${wait ? '?wait=checkpoint' : ''}`,
          headers: { 'content-type': 'application/octet-stream' },
          body: (n) => Buffer.from(`bench ${runId} ${label} ${k} ${n} padding-padding-padding`),
        },
        per,
        SECONDS,
      ),
    ),
  );
  const latencies = results.flatMap((r) => r.latencies);
  return {
    rps: results.reduce((a, r) => a + r.rps, 0),
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    ok: latencies.length,
    latencies: [],
    failed: results.reduce((a, r) => a + r.failed, 0),
    firstFailure: results.find((r) => r.firstFailure !== null)?.firstFailure ?? null,
  };
}

function spread(xs: readonly number[], f: (x: number) => string): string {
  if (xs.length === 0) return '-';
  const m = f(median(xs));
  return xs.length > 1 ? `${m} [${f(Math.min(...xs))}-${f(Math.max(...xs))}]` : m;
}
const ms = (x: number) => x.toFixed(1);
const perSec = (x: number) => rate(x);
const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');

/** State bytes and entries: the schema's tables (with indexes and TOAST) for PostgreSQL, log.db and its WAL for SQLite. */
async function stateBytes(s: Setup, dbUrl: string): Promise<{ bytes: number; entries: number; tables?: string }> {
  if (s.kind === 'sqlite') {
    const size = (f: string) => (fs.existsSync(f) ? fs.statSync(f).size : 0);
    const db = path.join(s.stateDirs[0]!, 'log.db');
    const entries = ((await (await fetch(`${s.procs[0]!.url}/v1/log/info`)).json()) as { treeSize: number }).treeSize;
    return { bytes: size(db) + size(`${db}-wal`), entries };
  }
  const schema = schemaNameForOrigin(s.origin);
  const c = new pg.Client({ connectionString: dbUrl });
  await c.connect();
  try {
    const sizes = await c.query(
      `SELECT c.relname, pg_relation_size(c.oid)::bigint AS heap, (pg_total_relation_size(c.oid) - pg_relation_size(c.oid))::bigint AS rest
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relkind = 'r' ORDER BY pg_total_relation_size(c.oid) DESC`,
      [schema],
    );
    const rows = sizes.rows as { relname: string; heap: string; rest: string }[];
    const bytes = rows.reduce((a, r) => a + Number(r.heap) + Number(r.rest), 0);
    const tables = rows.map((r) => `${r.relname} ${Math.round(Number(r.heap) / 1024)}+${Math.round(Number(r.rest) / 1024)} KiB`).join(', ');
    const entries = await c.query(`SELECT next FROM ${schema}.seq_coord WHERE id = 1`);
    return { bytes, entries: Number(entries.rows[0]!.next), tables };
  } finally {
    await c.end();
  }
}

// reportBytes: bytes per entry, in all and net of the fresh log's size. The
// SQLite processes are stopped first (SIGTERM: the WAL is checkpointed into
// log.db); PostgreSQL's tables are measured live (its WAL is not counted).
async function reportBytes(setups: readonly Setup[], dbUrl: string): Promise<void> {
  await sleep(1500); // the last checkpoints (1 s apart on a bucket)
  const end = new Map<Setup, { bytes: number; entries: number; tables?: string }>();
  for (const s of setups) end.set(s, await stateBytes(s, dbUrl));
  for (const s of setups.filter((x) => x.kind === 'sqlite')) {
    await s.procs[0]!.kill('SIGTERM');
    const db = path.join(s.stateDirs[0]!, 'log.db');
    const size = (f: string) => (fs.existsSync(f) ? fs.statSync(f).size : 0);
    end.set(s, { bytes: size(db) + size(`${db}-wal`), entries: end.get(s)!.entries });
  }
  console.log('\n## state bytes per entry (entries of ~60 bytes): all / net of a fresh log (sqlite: log.db + wal after a clean stop; postgres: the schema\'s tables with indexes)');
  for (const dedup of [true, false]) {
    const net = (s: Setup) => (end.get(s)!.bytes - s.empty.bytes) / Math.max(1, end.get(s)!.entries - s.empty.entries);
    const all = (s: Setup) => end.get(s)!.bytes / Math.max(1, end.get(s)!.entries);
    const base = setups.find((s) => s.kind === 'sqlite' && s.dedup === dedup)!;
    for (const s of setups.filter((x) => x.dedup === dedup)) {
      const ratio = s.kind === 'sqlite' ? '' : `   x${(net(s) / net(base)).toFixed(2)} sqlite net`;
      console.log(`${LABEL[s.kind].padEnd(24)} dedup ${dedup ? 'on ' : 'off'}  ${all(s).toFixed(0).padStart(6)} / ${net(s).toFixed(0).padStart(5)} B/entry (${end.get(s)!.entries} entries)${ratio}`);
      if (end.get(s)!.tables !== undefined) console.log(`    tables (heap+indexes/TOAST): ${end.get(s)!.tables}`);
    }
  }
}

export async function main(): Promise<void> {
  const why = pgUnavailable();
  if (why !== null) {
    console.log(`\n# PostgreSQL over HTTP: skipped (${why})`);
    return;
  }
  header(
    'PostgreSQL over HTTP: tilelog serve processes, tree on the S3 test server, vs SQLite',
    `${RUNS} runs x ${SECONDS} s per case, ${CLIENTS} clients (ttc: ${TTC_CLIENTS}), closed loop in the bench process; ` +
      `load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')} at start (shared machine: medians [min-max])`,
  );
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tilelog-bench-pg-http-'));
  const cluster = await privateCluster();
  const s3 = await startS3(BUCKET);
  const setups: Setup[] = [];
  try {
    const dbUrl = await freshDatabase(cluster, 'pghttp');
    for (const dedup of [true, false]) for (const kind of KINDS) setups.push(await makeSetup(kind, dedup, s3, dbUrl, dir));
    const find = (kind: Kind, dedup: boolean) => setups.find((s) => s.kind === kind && s.dedup === dedup)!;

    // Warm-up (JIT, connections, first tiles), then the runs, cases alternating.
    for (const s of setups) await closedLoop({ url: `${s.procs[0]!.url}/add`, body: (n) => Buffer.from(`warm ${runId} ${s.prefix} ${n}`) }, 16, 1);
    const adds = new Map<Setup, LoadResult[]>(setups.map((s) => [s, []]));
    const ttc = new Map<Setup, LoadResult[]>(setups.map((s) => [s, []]));
    const paced = new Map<Setup, OpenLoopResult[]>(setups.map((s) => [s, []]));
    const cpu = new Map<Setup, CpuTally>(setups.map((s) => [s, new CpuTally({ procs: s.procs, pgDataDir: s.kind === 'sqlite' ? null : cluster.dataDir, s3Pid: s3.pid })]));
    const windows = new Map<Setup, [number, number][]>(setups.map((s) => [s, []]));
    // What every process spends idle (all at once: the cluster is shared), to give the cost per add net of it.
    await sleep(1000);
    await Promise.all([...cpu.values()].map((t) => t.idle(3000)));
    const epochMs = () => performance.timeOrigin + performance.now();
    for (let run = 0; run < RUNS; run++) {
      for (const s of setups) {
        await cpu.get(s)!.start();
        const t0 = epochMs();
        const r = await load(s, CLIENTS, false, `a${run}`);
        windows.get(s)!.push([t0, epochMs()]);
        await cpu.get(s)!.stop(r.ok);
        adds.get(s)!.push(r);
      }
      if (ONLY_ADDS) continue;
      for (const s of setups.filter((x) => x.dedup)) {
        const urls = s.procs.map((p) => `${p.url}/add`);
        paced.get(s)!.push(await openLoop(urls, RATE, SECONDS, (n) => Buffer.from(`bench ${runId} r${run} ${s.prefix} ${n} padding-padding-padding`)));
      }
      for (const s of setups.filter((x) => x.dedup)) ttc.get(s)!.push(await load(s, TTC_CLIENTS, true, `t${run}`));
    }
    const failures = [...adds.values(), ...ttc.values()].flat().filter((r) => r.failed > 0);
    if (failures.length > 0) console.log(`  note: ${failures.reduce((a, r) => a + r.failed, 0)} adds failed, e.g. ${failures[0]!.firstFailure}`);

    const rps = (s: Setup) => median(adds.get(s)!.map((r) => r.rps));
    const p99 = (s: Setup) => median(adds.get(s)!.map((r) => r.p99));
    for (const dedup of [true, false]) {
      console.log(`\n## durable adds, dedup ${dedup ? 'on' : 'off'}: adds/s, ack p50, ack p99 (ms)`);
      const base = find('sqlite', dedup);
      for (const kind of KINDS) {
        const s = find(kind, dedup);
        const rs = adds.get(s)!;
        console.log(
          `${LABEL[kind].padEnd(24)} ${spread(rs.map((r) => r.rps), perSec).padStart(22)}/s  p50 ${spread(rs.map((r) => r.p50), ms).padStart(20)}  p99 ${spread(rs.map((r) => r.p99), ms).padStart(20)}` +
            (kind === 'sqlite' ? '' : `   x${(rps(s) / rps(base)).toFixed(2)} sqlite adds/s, x${(p99(s) / p99(base)).toFixed(2)} sqlite p99`),
        );
      }
      const one = find('pg1', dedup);
      const two = find('pg2', dedup);
      console.log(`  target two frontends > one: ${verdict(rps(two) > rps(one))} (x${(rps(two) / rps(one)).toFixed(2)})`);
      for (const s of [one, two]) {
        console.log(`  target ack p99 <= ${TARGET_ACK_P99_MS} ms saturated (closed loop, ${CLIENTS} clients), ${LABEL[s.kind]}: ${verdict(p99(s) <= TARGET_ACK_P99_MS)} (${ms(p99(s))} ms; sqlite ${ms(p99(base))} ms)`);
      }
      console.log(`\n## CPU per 1,000 durable adds, dedup ${dedup ? 'on' : 'off'} (summed over the runs above; ms of each process's user + system time)`);
      for (const kind of KINDS) {
        const s = find(kind, dedup);
        for (const line of cpu.get(s)!.lines(LABEL[kind])) console.log(line);
        const t = s.trace === null ? null : summarizeTrace(s.trace, windows.get(s)!);
        if (t !== null) console.log(`${''.padEnd(24)} ${traceLine(t)}`);
      }
    }
    if (ONLY_ADDS) return;

    console.log(`\n## ack latency at ${RATE} adds/s offered (open loop, dedup on): answered/s, p50, p99 (ms)`);
    const pacedP99 = (s: Setup) => median(paced.get(s)!.map((r) => r.p99));
    const pacedBase = find('sqlite', true);
    for (const kind of KINDS) {
      const s = find(kind, true);
      const rs = paced.get(s)!;
      const failed = rs.reduce((a, r) => a + r.failed, 0);
      console.log(
        `${LABEL[kind].padEnd(24)} ${spread(rs.map((r) => r.rps), perSec).padStart(16)}/s  p50 ${spread(rs.map((r) => r.p50), ms).padStart(20)}  p99 ${spread(rs.map((r) => r.p99), ms).padStart(20)}` +
          (kind === 'sqlite' ? '' : `   x${(pacedP99(s) / pacedP99(pacedBase)).toFixed(2)} sqlite p99`) +
          (failed > 0 ? `  (${failed} failed: ${rs.find((r) => r.firstFailure !== null)?.firstFailure})` : ''),
      );
      if (kind !== 'sqlite') console.log(`  target ack p99 <= ${TARGET_ACK_P99_MS} ms at ${RATE}/s, ${LABEL[kind]}: ${verdict(pacedP99(s) <= TARGET_ACK_P99_MS)}`);
    }

    console.log(`\n## time to checkpoint (POST /add?wait=checkpoint, ${TTC_CLIENTS} clients, dedup on): p50, p99 (ms)`);
    const ttcBase = median(ttc.get(find('sqlite', true))!.map((r) => r.p99));
    for (const kind of KINDS) {
      const rs = ttc.get(find(kind, true))!;
      const ratio = kind === 'sqlite' ? '' : `   x${(median(rs.map((r) => r.p99)) / ttcBase).toFixed(2)} sqlite p99`;
      console.log(`${LABEL[kind].padEnd(24)} p50 ${spread(rs.map((r) => r.p50), ms).padStart(24)}  p99 ${spread(rs.map((r) => r.p99), ms).padStart(24)}${ratio}`);
    }

    if (CYCLES > 0) {
      console.log(`\n## failover, default lease (ttl 10 s, renew 3 s, margin 2 s): SIGKILL the leader, ${CYCLES} cycles, kill to next published checkpoint`);
      const two = find('pg2', true);
      const base = await sqliteRestarts(find('sqlite', true).procs[0]!, `${s3.url}/${BUCKET}/${find('sqlite', true).prefix}/checkpoint`, CYCLES);
      const times = await pgFailovers(two.procs, dbUrl, schemaNameForOrigin(two.origin), `${s3.url}/${BUCKET}/${two.prefix}/checkpoint`, CYCLES);
      const s = (xs: number[]) => `p50 ${(quantile(xs, 0.5) / 1000).toFixed(2)} s, p99 ${(quantile(xs, 0.99) / 1000).toFixed(2)} s (all: ${xs.map((x) => (x / 1000).toFixed(2)).join(', ')})`;
      console.log(`sqlite, SIGKILL + restart    ${s(base)}`);
      console.log(`postgres, 2 candidates      ${s(times)}   x${(quantile(times, 0.99) / quantile(base, 0.99)).toFixed(2)} sqlite p99`);
      console.log(`  target failover p99 <= ${TARGET_FAILOVER_P99_MS / 1000} s: ${verdict(quantile(times, 0.99) <= TARGET_FAILOVER_P99_MS)} (p99 of ${CYCLES} is their maximum${CYCLES < 10 ? '; BENCH_PG_FAILOVER_CYCLES for more' : ''})`);
    }
    await reportBytes(setups, dbUrl);
  } finally {
    await Promise.all(setups.flatMap((s) => s.procs.map((p) => p.kill('SIGTERM'))));
    await s3.close();
    cluster.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
