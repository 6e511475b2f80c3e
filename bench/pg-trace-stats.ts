// Reading TILELOG_PG_TRACE files (src/cli/pg-trace.ts) for pg-http.bench.ts:
// per sequencing call, when the frontend sent it, when the statement reached
// the server, when the function (lock, dedup, inserts) ended, and when the
// answer (after the COMMIT) was back in the frontend's event loop. Only calls
// sent inside the measured windows count.
//
// Figures per case (all frontends of a log share its seq_coord row lock):
//   batch           mean entries per call;
//   to server       statementStart - sent: the socket and the backend waking;
//   function        functionEnd - statementStart: the lock wait + the work;
//   commit+back     received - functionEnd: the COMMIT (WAL flush) and the way
//                   back, including the frontend's event loop being busy;
//   between         sent(next) - received, per frontend: what the frontend
//                   does between its calls (acknowledging, HTTP);
//   lock busy <=    the union over calls of [statementStart, received] as a
//                   share of the window: an upper bound on the time the row
//                   lock was held (it is taken after statementStart and let go
//                   before received). Near 100% with two frontends would mean
//                   the lock serializes them; well below, it does not.

import * as fs from 'node:fs';

interface Call {
  pid: number;
  entries: number;
  sent: number;
  statementStart: number;
  functionEnd: number;
  received: number;
}

export interface TraceSummary {
  calls: number;
  meanEntries: number;
  toServerMs: number;
  functionMs: number;
  commitBackMs: number;
  betweenMs: number;
  lockBusyShare: number;
}

function readCalls(file: string): Call[] {
  if (!fs.existsSync(file)) return [];
  const out: Call[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const f = line.split(' ').map(Number);
    if (f.length !== 6 || f.some((x) => !Number.isFinite(x))) continue;
    out.push({ pid: f[0]!, entries: f[1]!, sent: f[2]!, statementStart: f[3]!, functionEnd: f[4]!, received: f[5]! });
  }
  return out;
}

// unionLength(intervals): the measure of the union of [a, b) intervals, clipped to [lo, hi).
function unionLength(intervals: [number, number][], lo: number, hi: number): number {
  const xs = intervals.map(([a, b]) => [Math.max(a, lo), Math.min(b, hi)] as [number, number]).filter(([a, b]) => b > a);
  xs.sort((p, q) => p[0] - q[0]);
  let total = 0;
  let end = -Infinity;
  for (const [a, b] of xs) {
    if (a >= end) {
      total += b - a;
      end = b;
    } else if (b > end) {
      total += b - end;
      end = b;
    }
  }
  return total;
}

/** The summary of the calls in file sent inside windows ([start, end) epoch ms), or null without any. */
export function summarizeTrace(file: string, windows: readonly [number, number][]): TraceSummary | null {
  const all = readCalls(file);
  const windowOf = (t: number) => windows.findIndex(([a, b]) => t >= a && t < b);
  const inside = (t: number) => windowOf(t) >= 0;
  const calls = all.filter((c) => inside(c.sent));
  if (calls.length === 0) return null;
  const mean = (f: (c: Call) => number, xs: readonly Call[] = calls) => xs.reduce((a, c) => a + f(c), 0) / Math.max(1, xs.length);
  // Between calls, per frontend: consecutive calls of one pid inside one window.
  const gaps: number[] = [];
  for (const pid of new Set(calls.map((c) => c.pid))) {
    const mine = all.filter((c) => c.pid === pid).sort((a, b) => a.sent - b.sent);
    for (let k = 1; k < mine.length; k++) {
      const w = windowOf(mine[k]!.sent);
      if (w >= 0 && w === windowOf(mine[k - 1]!.sent)) gaps.push(mine[k]!.sent - mine[k - 1]!.received);
    }
  }
  const span = windows.reduce((a, [s, e]) => a + (e - s), 0);
  const busy = windows.reduce((a, [s, e]) => a + unionLength(calls.map((c) => [c.statementStart, c.received]), s, e), 0);
  return {
    calls: calls.length,
    meanEntries: mean((c) => c.entries),
    toServerMs: mean((c) => c.statementStart - c.sent),
    functionMs: mean((c) => c.functionEnd - c.statementStart),
    commitBackMs: mean((c) => c.received - c.functionEnd),
    betweenMs: gaps.length === 0 ? 0 : gaps.reduce((a, x) => a + x, 0) / gaps.length,
    lockBusyShare: busy / span,
  };
}

export function traceLine(s: TraceSummary): string {
  const f = (x: number) => x.toFixed(2);
  return (
    `${s.calls} calls of ${s.meanEntries.toFixed(1)} entries; per call ms: to server ${f(s.toServerMs)}, function ${f(s.functionMs)}, ` +
    `commit+back ${f(s.commitBackMs)}, frontend between calls ${f(s.betweenMs)}; lock busy <= ${(100 * s.lockBusyShare).toFixed(0)}% of the time`
  );
}
