// TILELOG_PG_TRACE=<file>: a measurement aid for benchmarks
// (bench/pg-http.bench.ts), off unless set. Every sequencing call of a
// PostgreSQL log appends one line to the file (created if missing):
//   <pid> <entries> <sent> <statementStart> <functionEnd> <received>
// times in ms since the epoch (SequenceTiming in pg-log-store.ts). Lines are
// buffered and written at most every 200 ms, so tracing adds no write per batch.

import * as fs from 'node:fs';
import type { SequenceTiming } from '../storage/pg-log-store.js';

export const PG_TRACE_ENV = 'TILELOG_PG_TRACE';

/** The trace hook for openPgLog, or undefined when TILELOG_PG_TRACE is not set. */
export function sequenceTraceFromEnv(env: NodeJS.ProcessEnv = process.env): ((t: SequenceTiming) => void) | undefined {
  const file = env[PG_TRACE_ENV];
  if (file === undefined || file === '') return undefined;
  let lines: string[] = [];
  const write = (): void => {
    if (lines.length === 0) return;
    const text = lines.join('');
    lines = [];
    fs.appendFileSync(file, text);
  };
  setInterval(write, 200).unref();
  process.once('exit', write);
  return (t) => {
    lines.push(`${process.pid} ${t.entries} ${t.sent.toFixed(3)} ${t.statementStart.toFixed(3)} ${t.functionEnd.toFixed(3)} ${t.received.toFixed(3)}\n`);
  };
}
