// A closed-loop HTTP load generator in the bench process: `clients` workers,
// each with its own keep-alive connection, send one request, wait for the
// answer, send the next, for `seconds`. Used where every request needs its
// own body built per request (unique registry names) so that two targets
// can be measured with the very same generator. Its CPU shares the machine
// with the server, equally for every target it drives.
import * as http from 'node:http';
import { quantile } from './util.js';

export interface LoadResult {
  /** Completed 2xx answers per second. */
  rps: number;
  /** Latency of 2xx answers, ms. */
  p50: number;
  p99: number;
  ok: number;
  /** Every 2xx latency, ms (to merge several loops run side by side). */
  latencies: number[];
  /** Non-2xx answers and transport errors. */
  failed: number;
  firstFailure: string | null;
}

export interface LoadTarget {
  url: string;
  headers?: Record<string, string>;
  /** The n-th request's body (n counts across all clients of this run). */
  body: (n: number) => Buffer;
}

export async function closedLoop(t: LoadTarget, clients: number, seconds: number): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  const url = new URL(t.url);
  const lat: number[] = [];
  let failed = 0;
  let firstFailure: string | null = null;
  let n = 0;
  const end = performance.now() + seconds * 1000;
  const one = (body: Buffer) =>
    new Promise<number>((resolve) => {
      const req = http.request(
        { agent, host: url.hostname, port: url.port, path: url.pathname + url.search, method: 'POST', headers: { ...t.headers, 'content-length': body.length } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            if (status < 200 || status > 299) firstFailure ??= `${status} ${Buffer.concat(chunks).toString().slice(0, 200)}`;
            resolve(status);
          });
        },
      );
      req.on('error', (err) => {
        firstFailure ??= String(err);
        resolve(0);
      });
      req.end(body);
    });
  const t0 = performance.now();
  const worker = async () => {
    while (performance.now() < end) {
      const start = performance.now();
      const status = await one(t.body(n++));
      if (status >= 200 && status <= 299) lat.push(performance.now() - start);
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: clients }, worker));
  const elapsed = (performance.now() - t0) / 1000;
  agent.destroy();
  const round = (x: number) => Math.round(x * 10) / 10;
  return { rps: lat.length / elapsed, p50: round(quantile(lat, 0.5)), p99: round(quantile(lat, 0.99)), ok: lat.length, latencies: lat, failed, firstFailure };
}
