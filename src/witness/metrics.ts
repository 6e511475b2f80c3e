// Prometheus metrics for one witness app, in a registry of its own:
//
//   tilelog_witness_server_requests_total{result}   counter  add-checkpoint answers: cosigned, or the
//                                                            error code (WITNESS_OLD_SIZE, WITNESS_UNVERIFIED,
//                                                            WITNESS_INCONSISTENT, ..., INTERNAL)
//   tilelog_witness_cosigned_size{origin}            gauge    the size last cosigned per configured log
//   tilelog_witness_http_requests_total{method,route,status}, tilelog_witness_rate_limited_total{route}
//
// Requests are counted as plain numbers per request and read at scrape time;
// the cosigned sizes are read from the store at scrape time.

import type { Context } from 'hono';
import { Counter, Gauge, Registry } from 'prom-client';
import { TilelogError } from '../errors.js';
import { registerHttpMetrics } from '../http/metrics.js';
import { RequestCounts } from '../http/observe.js';
import type { Witness } from './witness.js';

export const ADD_CHECKPOINT_ROUTE = '/add-checkpoint';

export interface WitnessMetrics {
  readonly registry: Registry;
  readonly requests: RequestCounts;
  /** Counts one answer of POST /add-checkpoint by result. */
  onAnswer(c: Context, route: string, status: number): void;
}

export function createWitnessMetrics(witness: Witness): WitnessMetrics {
  const registry = new Registry();
  const requests = new RequestCounts();
  registerHttpMetrics(registry, requests, 'tilelog_witness');
  const results = new Map<string, number>();
  new Counter({
    name: 'tilelog_witness_server_requests_total',
    help: 'add-checkpoint answers by result: cosigned, or the error code.',
    labelNames: ['result'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [result, n] of results) this.inc({ result }, n);
    },
  });
  new Gauge({
    name: 'tilelog_witness_cosigned_size',
    help: 'Tree size this witness last cosigned, per log origin (0: never).',
    labelNames: ['origin'],
    registers: [registry],
    collect() {
      this.reset();
      for (const l of witness.status()) this.set({ origin: l.origin }, l.size ?? 0);
    },
  });
  return {
    registry,
    requests,
    onAnswer(c, route, status) {
      if (route !== ADD_CHECKPOINT_ROUTE || c.req.method !== 'POST') return;
      const err = c.error;
      const result = status === 200 ? 'cosigned' : err instanceof TilelogError && status !== 500 ? err.code : status === 500 ? 'INTERNAL' : String(status);
      results.set(result, (results.get(result) ?? 0) + 1);
    },
  };
}
