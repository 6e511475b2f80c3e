// An open-loop HTTP load generator: POSTs at a fixed rate (spread evenly over
// the targets), each request sent on schedule whether or not earlier ones
// were answered, for `seconds`. Unlike the closed loop (closed-loop.ts),
// whose latency is clients / throughput once the server saturates (Little's
// law), this measures the latency of an add at a load the server keeps up
// with. Latency counts from the scheduled send time, so a generator that
// falls behind shows as latency, not as a lower rate.
import * as http from 'node:http';
import { quantile } from './util.js';

export interface OpenLoopResult {
  /** Requests scheduled per second (the offered rate) and answered 2xx per second. */
  offered: number;
  rps: number;
  p50: number;
  p99: number;
  failed: number;
  firstFailure: string | null;
}

export async function openLoop(urls: readonly string[], ratePerSecond: number, seconds: number, body: (n: number) => Buffer): Promise<OpenLoopResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const lat: number[] = [];
  let failed = 0;
  let firstFailure: string | null = null;
  const total = Math.round(ratePerSecond * seconds);
  const t0 = performance.now();
  const one = (n: number, due: number): Promise<void> =>
    new Promise((resolve) => {
      const url = new URL(urls[n % urls.length]!);
      const data = body(n);
      const req = http.request(
        { agent, host: url.hostname, port: url.port, path: url.pathname + url.search, method: 'POST', headers: { 'content-length': data.length } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            if (status >= 200 && status <= 299) lat.push(performance.now() - due);
            else {
              failed++;
              firstFailure ??= `${status} ${Buffer.concat(chunks).toString().slice(0, 200)}`;
            }
            resolve();
          });
        },
      );
      req.on('error', (err) => {
        failed++;
        firstFailure ??= String(err);
        resolve();
      });
      req.end(data);
    });
  const inFlight: Promise<void>[] = [];
  for (let n = 0; n < total; n++) {
    const due = t0 + (n * 1000) / ratePerSecond;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    inFlight.push(one(n, due));
  }
  await Promise.all(inFlight);
  const elapsed = (performance.now() - t0) / 1000;
  agent.destroy();
  return { offered: ratePerSecond, rps: lat.length / elapsed, p50: quantile(lat, 0.5), p99: quantile(lat, 0.99), failed, firstFailure };
}
