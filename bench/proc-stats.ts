// What a benchmark reads of the machine and of a server process from /proc
// (Linux): CPU time of the process and of its main thread, how busy the
// machine's cores were, and the event-loop delay a server preloaded with
// servers/loop-delay.mjs reports on SIGUSR2. CPU per request is the figure
// that noise from other jobs on a shared machine moves least.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const TICKS_PER_S = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** The preload to pass as `--import <LOOP_DELAY_PRELOAD>` to a server's node. */
export const LOOP_DELAY_PRELOAD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'servers/loop-delay.mjs');

// utime + stime (fields 14 and 15) of a /proc stat line, in ms; the command
// name (field 2) may hold spaces and parentheses, so fields count from the last ')'.
function statCpuMs(file: string): number {
  const text = fs.readFileSync(file, 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_S;
}

export interface CpuSample {
  /** The whole process (every thread), ms. */
  processMs: number;
  /** Its main thread (the event loop), ms. */
  mainMs: number;
  /** The machine: busy and total jiffies over all cores. */
  machineBusy: number;
  machineTotal: number;
}

export function cpuSample(pid: number): CpuSample {
  const [cpu] = fs.readFileSync('/proc/stat', 'utf8').split('\n');
  const j = cpu!.trim().split(/\s+/).slice(1).map(Number);
  const idle = (j[3] ?? 0) + (j[4] ?? 0);
  const total = j.slice(0, 8).reduce((a, b) => a + b, 0);
  return {
    processMs: statCpuMs(`/proc/${pid}/stat`),
    mainMs: statCpuMs(`/proc/${pid}/task/${pid}/stat`),
    machineBusy: total - idle,
    machineTotal: total,
  };
}

export interface CpuUse {
  processMs: number;
  mainMs: number;
  /** Busy cores of the machine on average (0..cores), every process counted. */
  machineCores: number;
}

export function cpuBetween(a: CpuSample, b: CpuSample): CpuUse {
  const total = b.machineTotal - a.machineTotal;
  return {
    processMs: b.processMs - a.processMs,
    mainMs: b.mainMs - a.mainMs,
    machineCores: total > 0 ? ((b.machineBusy - a.machineBusy) / total) * os.cpus().length : 0,
  };
}

export interface LoopDelay {
  p50: number;
  p99: number;
  max: number;
  mean: number;
}

/** Event-loop delay since the previous call (ms): signals pid and waits for its line in file. */
export async function loopDelay(pid: number, file: string): Promise<LoopDelay | null> {
  const lines = () => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0) : []);
  const before = lines().length;
  process.kill(pid, 'SIGUSR2');
  for (let i = 0; i < 200; i++) {
    const now = lines();
    if (now.length > before) return JSON.parse(now[now.length - 1]!) as LoopDelay;
    await new Promise((r) => setTimeout(r, 10));
  }
  return null;
}
