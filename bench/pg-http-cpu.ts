// CPU per 1,000 adds for pg-http.bench.ts: where the machine's two cores go
// when one or two frontends saturate PostgreSQL. Wall-clock adds/s on a
// shared machine swing with the other jobs; CPU ms per add of each process
// barely does, so these lines say what a second frontend costs (and whether
// the run was CPU-bound: the machine's busy share of its cores).
//
// Per case, summed over its runs: each `tilelog serve` process, the whole
// PostgreSQL cluster (postmaster + backends + background processes, shared
// by every log of the run, mostly the case under load), the S3 test server,
// the load generator (this process), and the machine's busy time (all
// processes, other jobs included). From each frontend's /metrics: durable
// batches, their mean size, and tilelog_add_duration_seconds summed over the
// batches (first submission to COMMIT) as a share of the run: over 100% when
// a batch pools while the one before it is in flight.

import * as os from 'node:os';
import { clusterCpuMs, cpuDelta, cpuSnapshot, machineBusyMs, processCpuMs, selfCpuMs, type CpuProbe } from './proc-cpu.js';
import type { Serve } from './serve-procs.js';

export interface CpuTargets {
  procs: readonly Serve[];
  /** The PostgreSQL data directory (null: SQLite, no cluster counted). */
  pgDataDir: string | null;
  s3Pid: number;
}

interface BatchMetrics {
  batches: number;
  entries: number;
  /** Sum over batches of first submission to COMMIT, s. */
  waitSeconds: number;
}

/** What one case's runs spent, summed. */
export class CpuTally {
  readonly ms: Record<string, number> = {};
  adds = 0;
  wallMs = 0;
  busyMs = 0;
  readonly batches: BatchMetrics[] = [];
  readonly #targets: CpuTargets;
  #before: Record<string, number> | null = null;
  #beforeMetrics: BatchMetrics[] = [];
  #beforeBusy = 0;
  #t0 = 0;
  /** CPU ms per wall second of each process while nothing is offered (timers, polling, lease), from idle(). */
  #idleRate: Record<string, number> = {};

  constructor(targets: CpuTargets) {
    this.#targets = targets;
    for (let k = 0; k < targets.procs.length; k++) this.batches.push({ batches: 0, entries: 0, waitSeconds: 0 });
  }

  #probe(): CpuProbe {
    const t = this.#targets;
    const probe: CpuProbe = {};
    t.procs.forEach((p, k) => {
      probe[`serve#${k}`] = () => (p.pid === null ? 0 : processCpuMs(p.pid) ?? 0);
    });
    if (t.pgDataDir !== null) {
      const dir = t.pgDataDir;
      probe.postgres = () => clusterCpuMs(dir);
    }
    probe.s3 = () => processCpuMs(t.s3Pid) ?? 0;
    probe.loadgen = selfCpuMs;
    return probe;
  }

  // idle(ms): measure what each process spends with no load for ms; the
  // lines then also give the cost per add net of it (the marginal cost).
  async idle(ms: number): Promise<void> {
    const probe = this.#probe();
    const before = cpuSnapshot(probe);
    const t0 = performance.now();
    await new Promise((resolve) => setTimeout(resolve, ms));
    const d = cpuDelta(before, cpuSnapshot(probe));
    const seconds = (performance.now() - t0) / 1000;
    for (const [name, v] of Object.entries(d)) this.#idleRate[name] = v / seconds;
  }

  async start(): Promise<void> {
    this.#beforeMetrics = await Promise.all(this.#targets.procs.map(batchMetrics));
    this.#before = cpuSnapshot(this.#probe());
    this.#beforeBusy = machineBusyMs();
    this.#t0 = performance.now();
  }

  async stop(adds: number): Promise<void> {
    const wall = performance.now() - this.#t0;
    const busy = machineBusyMs() - this.#beforeBusy;
    const d = cpuDelta(this.#before!, cpuSnapshot(this.#probe()));
    const after = await Promise.all(this.#targets.procs.map(batchMetrics));
    for (const [name, v] of Object.entries(d)) this.ms[name] = (this.ms[name] ?? 0) + v;
    after.forEach((m, k) => {
      const b = this.#beforeMetrics[k]!;
      const acc = this.batches[k]!;
      acc.batches += m.batches - b.batches;
      acc.entries += m.entries - b.entries;
      acc.waitSeconds += m.waitSeconds - b.waitSeconds;
    });
    this.adds += adds;
    this.wallMs += wall;
    this.busyMs += busy;
  }

  /** One line of CPU ms per 1,000 adds by process, then the batches. */
  lines(label: string): string[] {
    const per = (x: number) => ((x * 1000) / Math.max(1, this.adds)).toFixed(0);
    const names = Object.keys(this.ms);
    const total = names.reduce((a, n) => a + this.ms[n]!, 0);
    const parts = names.map((n) => `${n} ${per(this.ms[n]!)}`).join(', ');
    const cores = os.cpus().length;
    const net = (n: string) => this.ms[n]! - ((this.#idleRate[n] ?? 0) * this.wallMs) / 1000;
    const netTotal = names.reduce((a, n) => a + net(n), 0);
    const netParts = names.map((n) => `${n} ${per(net(n))}`).join(', ');
    const out = [
      `${label.padEnd(24)} ${per(total).padStart(5)} ms CPU per 1,000 adds (${parts}); machine busy ${((100 * this.busyMs) / (this.wallMs * cores)).toFixed(0)}% of ${cores} cores (${per(this.busyMs)} ms per 1,000 adds, other jobs included)`,
      `${''.padEnd(24)} ${per(netTotal).padStart(5)} ms net of idle (${netParts}); ${(this.adds / (this.wallMs / 1000)).toFixed(0)} adds/s over ${(this.wallMs / 1000).toFixed(1)} s`,
    ];
    const bs = this.batches
      .map((b, k) => `serve#${k}: ${b.batches} batches of ${(b.entries / Math.max(1, b.batches)).toFixed(0)}, batch waits (first add to COMMIT) sum to ${((100 * b.waitSeconds * 1000) / this.wallMs).toFixed(0)}% of the run`)
      .join('; ');
    out.push(`${''.padEnd(24)} ${bs}`);
    return out;
  }
}

// batchMetrics(p): tilelog_batch_size_{count,sum} and
// tilelog_add_duration_seconds_sum from p's /metrics (zeros if unreadable).
async function batchMetrics(p: Serve): Promise<BatchMetrics> {
  try {
    const text = await (await fetch(`${p.url}/metrics`)).text();
    const num = (name: string) => {
      const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text);
      return m === null ? 0 : Number(m[1]);
    };
    return { batches: num('tilelog_batch_size_count'), entries: num('tilelog_batch_size_sum'), waitSeconds: num('tilelog_add_duration_seconds_sum') };
  } catch {
    return { batches: 0, entries: 0, waitSeconds: 0 };
  }
}
