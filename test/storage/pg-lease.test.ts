// PgLease with real processes: one candidate leads, the other waits; the
// leader is paused with SIGSTOP (it cannot renew) and the other takes the
// next epoch after the ttl; the paused leader's fence then changes nothing
// ('lost'), and when resumed it learns its term is over. release() hands the
// lease over at once.

import { afterEach, beforeAll, expect, test } from 'vitest';
import { PgLease, leaseTiming, retryDelay } from '../../src/storage/pg-lease.js';
import { PgLogStore } from '../../src/storage/pg-log-store.js';
import type { TreeState } from '../../src/storage/log-store.js';
import { describePg, freshDatabase, sharedCluster } from '../support/postgres.js';
import { startChild, type Child } from './pg-children.js';

const TTL_MS = 1500;
let url = '';
const children: Child[] = [];
const st = (size: number, r: number): TreeState => ({
  size,
  root: new Uint8Array(32).fill(r),
  text: `cp ${size}\n`,
  edge: new Uint8Array([1]),
  prevSize: 0,
  prevEdge: new Uint8Array(0),
});

describePg('PgLease (PostgreSQL)', () => {
  beforeAll(async () => {
    url = await freshDatabase(await sharedCluster(), 'lease');
  });
  afterEach(() => {
    for (const c of children.splice(0)) {
      c.process.kill('SIGCONT');
      c.process.kill('SIGKILL');
    }
  });

  test('timing rules: renewals land before the local deadline', () => {
    expect(leaseTiming({})).toEqual({ ttlMs: 10_000, renewMs: 10_000 / 3, marginMs: 2_000, pollMs: 5_000 });
    expect(() => leaseTiming({ ttlMs: 1000, renewMs: 900, marginMs: 200 })).toThrow(/below ttl - margin/);
    expect(() => leaseTiming({ ttlMs: 1000, marginMs: 1000 })).toThrow(/margin/);
    expect(() => leaseTiming({ ttlMs: 10 })).toThrow(/ttl/);
  });

  test('a failed candidate waits until the lease lapses (plus a little), within [20 ms, pollMs]', () => {
    expect(retryDelay(1000, 5000)).toBe(1020);
    expect(retryDelay(9000, 5000)).toBe(5000);
    expect(retryDelay(-300, 5000)).toBe(20);
    expect(retryDelay(NaN, 5000)).toBe(5000);
  });

  test('a candidate takes over when a dead leader\'s lease lapses, not a whole poll period later', async () => {
    const origin = 'lapse.test/log';
    const store = await PgLogStore.open({ connectionString: url, origin });
    const e = await PgLease.open({ connectionString: url, origin, holder: 'e', ttlMs: TTL_MS });
    // Polling alone would next try a minute later, past the acquire's 20 s limit.
    const f = await PgLease.open({ connectionString: url, origin, holder: 'f', ttlMs: TTL_MS, pollMs: 60_000 });
    try {
      const termE = await e.acquire(AbortSignal.timeout(10_000));
      const waiting = f.acquire(AbortSignal.timeout(20_000));
      await new Promise((r) => setTimeout(r, 300));
      await e.close(); // it can no longer renew: a dead leader
      const termF = await waiting;
      expect(termF.fence).toEqual({ epoch: termE.fence.epoch + 1, holder: 'f' });
      await termF.release();
    } finally {
      await e.close();
      await f.close();
      await store.close();
    }
  });

  test('a paused leader is replaced by epoch + 1; its fence is refused; resumed, it learns it lost', async () => {
    const origin = 'pause.test/log';
    const store = await PgLogStore.open({ connectionString: url, origin });
    try {
      const a = startChild(['lease', url, origin, 'candidate-a', String(TTL_MS)]);
      children.push(a);
      const acquiredA = await a.next((l) => l.event === 'acquired');
      const b = startChild(['lease', url, origin, 'candidate-b', String(TTL_MS)]);
      children.push(b);
      // A renews every ttl/3: for three lease lengths B must wait.
      await new Promise((r) => setTimeout(r, 3 * TTL_MS));
      expect(b.lines.filter((l) => l.event === 'acquired')).toEqual([]);
      expect(a.lines.filter((l) => l.event === 'lost')).toEqual([]);
      const fenceA = { epoch: acquiredA.epoch as number, holder: 'candidate-a' };
      expect(await store.commitState(fenceA, null, st(1, 1))).toBe('ok');

      a.process.kill('SIGSTOP');
      const acquiredB = await b.next((l) => l.event === 'acquired');
      expect(acquiredB.epoch).toBe(fenceA.epoch + 1);
      // The paused leader's writes change nothing.
      expect(await store.commitState(fenceA, 1, st(2, 2))).toBe('lost');
      expect(await store.setGcCursor(fenceA, 1)).toBe('lost');
      expect((await store.state())?.size).toBe(1);
      expect(await store.commitState({ epoch: acquiredB.epoch as number, holder: 'candidate-b' }, 1, st(2, 2))).toBe('ok');

      a.process.kill('SIGCONT');
      const lost = await a.next((l) => l.event === 'lost');
      expect(String(lost.reason)).toMatch(/deadline|took over/);
    } finally {
      await store.close();
    }
  });

  test('release() lets a waiting candidate take over at once, with the next epoch', async () => {
    const origin = 'release.test/log';
    const store = await PgLogStore.open({ connectionString: url, origin });
    // A long ttl: without release the other would wait a minute (its acquire gives up after 20 s).
    const c = await PgLease.open({ connectionString: url, origin, holder: 'c', ttlMs: 60_000 });
    const d = await PgLease.open({ connectionString: url, origin, holder: 'd', ttlMs: 60_000, pollMs: 100 });
    try {
      const termC = await c.acquire(AbortSignal.timeout(10_000));
      const waiting = d.acquire(AbortSignal.timeout(20_000));
      let dDone = false;
      void waiting.then(() => (dDone = true), () => undefined);
      await new Promise((r) => setTimeout(r, 500));
      expect(dDone).toBe(false);
      await termC.release();
      expect(termC.lost.aborted).toBe(true);
      const termD = await waiting;
      expect(termD.fence).toEqual({ epoch: termC.fence.epoch + 1, holder: 'd' });
      expect(await store.commitState(termC.fence, null, st(1, 1))).toBe('lost');
      expect(await store.commitState(termD.fence, null, st(1, 1))).toBe('ok');
      expect(termD.lost.aborted).toBe(false);
      // A candidate's acquire ends when its signal aborts.
      const ac = new AbortController();
      const pending = c.acquire(ac.signal);
      setTimeout(() => ac.abort(new Error('shutting down')), 200);
      await expect(pending).rejects.toThrow('shutting down');
      await termD.release();
    } finally {
      await c.close();
      await d.close();
      await store.close();
    }
  });
});
