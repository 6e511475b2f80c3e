// PostgreSQL sequencing: durable adds/s and batch latency (one sequence()
// call = one commit) for 1 and 2 frontend processes against a private
// cluster (fsync on, loopback), beside SqliteSequenceDB (synchronous=FULL) in
// the same run. Closed loop: each frontend has one call in flight; entries of
// 256 random bytes, dedup on.
// Knobs: BENCH_PG_SECONDS (default 8), BENCH_PG_BATCH (default 256).

import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { leafHash } from '../src/merkle/hash.js';
import { SqliteSequenceDB } from '../src/storage/sqlite-sequence-db.js';
import { freshDatabase, privateCluster } from '../test/support/postgres-cluster.js';
import { startChild } from '../test/storage/pg-children.js';
import { header, line, quantile, rate } from './util.js';

const SECONDS = Number(process.env.BENCH_PG_SECONDS ?? 8);
const BATCH = Number(process.env.BENCH_PG_BATCH ?? 256);

interface Run {
  adds: number;
  latencies: number[];
  seconds: number;
}

function sqliteRun(): Run {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tilelog-pgbench-'));
  const db = new SqliteSequenceDB(path.join(dir, 'log.db'), { origin: 'bench.test/sqlite' });
  const latencies: number[] = [];
  let adds = 0;
  const start = performance.now();
  while (performance.now() - start < SECONDS * 1000) {
    const entries = Array.from({ length: BATCH }, () => {
      const bytes = randomBytes(256);
      return { bytes, leafHash: leafHash(bytes) };
    });
    const t = performance.now();
    db.sequence(entries, true);
    latencies.push(performance.now() - t);
    adds += BATCH;
  }
  const seconds = (performance.now() - start) / 1000;
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return { adds, latencies, seconds };
}

async function pgRun(url: string, frontends: number): Promise<Run> {
  const origin = `bench.test/pg${frontends}`;
  const children = Array.from({ length: frontends }, () => startChild(['bench', url, origin, String(SECONDS), String(BATCH)]));
  const lines = await Promise.all(children.map((c) => c.next((l) => 'adds' in l, (SECONDS + 60) * 1000)));
  return {
    adds: lines.reduce((s, l) => s + (l.adds as number), 0),
    latencies: lines.flatMap((l) => l.latencies as number[]),
    seconds: SECONDS,
  };
}

const describe = (r: Run): string =>
  `${rate(r.adds / r.seconds)}/s p50 ${quantile(r.latencies, 0.5).toFixed(1)} ms p99 ${quantile(r.latencies, 0.99).toFixed(1)} ms`;

header('PostgreSQL sequencing (durable adds)', `${SECONDS} s per case, batches of ${BATCH} x 256 B, dedup on, ${os.loadavg()[0]!.toFixed(1)} load`);
const cluster = await privateCluster();
try {
  const sqlite = sqliteRun();
  // A child opens the store before its clock starts; the schema is created by the first.
  const one = await pgRun(await freshDatabase(cluster, 'bench1'), 1);
  const two = await pgRun(await freshDatabase(cluster, 'bench2'), 2);
  const base = sqlite.adds / sqlite.seconds;
  console.log(`sqlite (in process)                ${describe(sqlite)}`);
  console.log(`postgres, 1 frontend               ${describe(one)}`);
  console.log(`postgres, 2 frontends              ${describe(two)}`);
  line('pg 1 frontend adds/s', `${rate(one.adds / one.seconds)}/s`, 'sqlite', `${rate(base)}/s`, one.adds / one.seconds / base);
  line('pg 2 frontends adds/s', `${rate(two.adds / two.seconds)}/s`, 'pg 1 frontend', `${rate(one.adds / one.seconds)}/s`, two.adds / one.adds);
} finally {
  cluster.stop();
}
