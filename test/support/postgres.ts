// The PostgreSQL test helper: the cluster functions (postgres-cluster.ts,
// which imports nothing from vitest so the global setup can use it) and
// describePg, which runs a suite only where PostgreSQL is available: under CI
// its absence FAILS the run, elsewhere the suite is skipped with the reason.

import pg from 'pg';
import { describe, it } from 'vitest';
import { pgUnavailable } from './postgres-cluster.js';

export * from './postgres-cluster.js';

/** describe(), or a failing test under CI / a visible skip elsewhere when PostgreSQL is missing. */
export function describePg(name: string, fn: () => void): void {
  const reason = pgUnavailable();
  if (reason === null) {
    describe(name, fn);
    return;
  }
  if (process.env.CI) {
    describe(name, () => {
      it('needs PostgreSQL', () => {
        throw new Error(`${name}: ${reason}; CI must install it (.ci/run)`);
      });
    });
    return;
  }
  describe.skip(`${name} (skipped: ${reason})`, fn);
}


/** Runs f on a connection of its own to dbUrl (an operator's session: inspect, lock, terminate), closed afterwards. */
export async function admin<T>(dbUrl: string, f: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: dbUrl });
  await c.connect();
  try {
    return await f(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}
