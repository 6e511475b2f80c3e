// Preloaded into a benchmarked server (node --import): measures its event
// loop's delay (perf_hooks.monitorEventLoopDelay, 10 ms resolution). On each
// SIGUSR2 it appends the figures since the previous SIGUSR2 to the file
// named by BENCH_LOOP_DELAY_FILE, as one JSON line in ms, and starts over.
import { appendFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const file = process.env.BENCH_LOOP_DELAY_FILE;
if (file) {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  process.on('SIGUSR2', () => {
    const ms = (ns) => Math.round(ns / 1e4) / 100;
    appendFileSync(file, `${JSON.stringify({ p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max), mean: ms(h.mean) })}\n`);
    h.reset();
  });
}
