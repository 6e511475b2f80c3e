// CPU time of processes from /proc (Linux), for benchmarks on a shared
// machine: wall-clock rates swing with whatever else runs, but the CPU a
// process spent per unit of work does not (much). A snapshot before and after
// a run gives ms of CPU per process; divided by the work done, the cost.
//
// - processCpuMs(pid): utime + stime of one process, ms (resolution: one
//   clock tick, 10 ms at CLK_TCK 100); null once it is gone.
// - clusterCpuMs(dataDir): a PostgreSQL cluster, all of it: the postmaster,
//   every live child (backends, walwriter, checkpointer, ...) and, through the
//   postmaster's cutime + cstime, every child that exited and was reaped.

import * as fs from 'node:fs';
import * as path from 'node:path';

/** Clock ticks per second: Linux reports 100 to user space on every architecture tilelog runs on. */
const TICKS_PER_SECOND = 100;

// statFields(pid): the fields of /proc/<pid>/stat after the command name
// (which may hold spaces and parentheses: cut at the LAST ')'). Field k of
// proc(5) (1-based) is at index k - 3.
function statFields(pid: number): string[] | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

const ticksToMs = (ticks: number): number => (ticks * 1000) / TICKS_PER_SECOND;

/** utime + stime of pid in ms, or null when there is no such process. */
export function processCpuMs(pid: number): number | null {
  const f = statFields(pid);
  if (f === null) return null;
  return ticksToMs(Number(f[14 - 3]) + Number(f[15 - 3]));
}

/** pid's reaped children's utime + stime (cutime + cstime), ms. */
function reapedChildrenCpuMs(pid: number): number {
  const f = statFields(pid);
  return f === null ? 0 : ticksToMs(Number(f[16 - 3]) + Number(f[17 - 3]));
}

/** The live children of ppid (a scan of /proc). */
export function childPids(ppid: number): number[] {
  const out: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const f = statFields(Number(name));
    if (f !== null && Number(f[4 - 3]) === ppid) out.push(Number(name));
  }
  return out;
}

/** The postmaster's pid: the first line of <dataDir>/postmaster.pid. */
export function postmasterPid(dataDir: string): number {
  const first = fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]!;
  const pid = Number(first);
  if (!Number.isSafeInteger(pid) || pid <= 0) throw new Error(`proc-cpu: no pid in ${dataDir}/postmaster.pid`);
  return pid;
}

/** CPU ms of a whole PostgreSQL cluster so far: postmaster + live children + reaped children. */
export function clusterCpuMs(dataDir: string): number {
  const pm = postmasterPid(dataDir);
  let total = (processCpuMs(pm) ?? 0) + reapedChildrenCpuMs(pm);
  for (const child of childPids(pm)) total += processCpuMs(child) ?? 0;
  return total;
}

/** CPU ms of this process (the load generator), user + system. */
export function selfCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** A named set of CPU counters, read together. */
export type CpuProbe = Record<string, () => number>;

/** Reads every counter of probe now. */
export function cpuSnapshot(probe: CpuProbe): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, read] of Object.entries(probe)) out[name] = read();
  return out;
}

/** after - before per counter, ms. */
export function cpuDelta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of Object.keys(after)) out[name] = after[name]! - (before[name] ?? 0);
  return out;
}

/** The machine's busy CPU ms so far (all cores, from /proc/stat: everything but idle and iowait). */
export function machineBusyMs(): number {
  const cpu = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already inside user)
  const busy = cpu.reduce((a, x) => a + x, 0) - (cpu[3] ?? 0) - (cpu[4] ?? 0);
  return ticksToMs(busy);
}
