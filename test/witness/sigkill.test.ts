// SIGKILL: a real `tilelog witness serve` child is killed right after it
// acknowledged a cosignature (or at a random moment with requests in flight).
// After each kill the state on disk must hold everything acknowledged: a 200
// for size N means the stored size is at least N and the history has (N, root).
// The witness is then restarted on the same state and the log catches up.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { toBase64 } from '../../src/merkle/index.js';
import { SqliteWitnessStore } from '../../src/witness/index.js';
import { runCli, startJsonCli } from '../cli/helpers.js';
import { TestLog, tempDir, WITNESS_KEY } from './helpers.js';

const ORIGIN = 'example.com/sigkill';
const ITERATIONS = 5;
const log = new TestLog(ORIGIN, 600);
const dir = tempDir('tilelog-witness-kill-');
const state = path.join(dir, 'state');
const keyFile = path.join(dir, 'witness.key');

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function startWitness(): Promise<{ url: string; kill: () => void; exited: Promise<void> }> {
  const { child, summary, exited } = await startJsonCli<{ url: string }>(['witness', 'serve', '--state', state, '--key', keyFile, '--listen', '127.0.0.1:0', '--json']);
  const url = summary.url;
  return { url, kill: () => child.kill('SIGKILL'), exited: exited.then(() => undefined) };
}

describe('witness serve under SIGKILL', () => {
  test('every acknowledged cosignature survives', async () => {
    fs.writeFileSync(keyFile, `${WITNESS_KEY.signerKey}\n`, { mode: 0o600 });
    const added = await runCli(['witness', 'add-log', '--state', state, '--origin', ORIGIN, '--key', log.vkey]);
    expect(added.code, added.stderr).toBe(0);

    let tracked = 0; // what the "log" believes the witness cosigned
    const acked: { size: number; root: string }[] = [];
    for (let it = 0; it < ITERATIONS; it++) {
      const w = await startWitness();
      const killAfterAcks = 1 + Math.floor(Math.random() * 6);
      const killByTimer = it % 2 === 1; // odd iterations: a random moment, requests in flight
      let acksThisRun = 0;
      let dead = false;
      const kill = () => {
        if (!dead) w.kill();
        dead = true;
      };
      // The timer starts at the run's first acknowledgement, not at spawn: on a
      // loaded machine a timer from spawn could fire before any request was
      // answered, and a run without an ack tests nothing.
      let timerArmed = false;
      const armTimer = () => {
        if (killByTimer && !timerArmed) setTimeout(kill, 20 + Math.random() * 150);
        timerArmed = true;
      };

      const worker = async () => {
        while (!dead) {
          const from = tracked;
          const to = Math.min(from + 1 + Math.floor(Math.random() * 4), log.maxSize);
          if (to === from) return;
          let res: Response;
          try {
            res = await fetch(`${w.url}/add-checkpoint`, { method: 'POST', body: await log.request(from, to) });
          } catch {
            return; // the child died under us
          }
          if (res.status === 200) {
            // Acknowledged: record it, and maybe kill right now, before anything else runs.
            acked.push({ size: to, root: toBase64(await log.root(to)) });
            tracked = Math.max(tracked, to);
            acksThisRun++;
            armTimer();
            if (!killByTimer && acksThisRun >= killAfterAcks) kill();
            await res.text().catch(() => '');
          } else {
            const text = await res.text().catch(() => '');
            expect(res.status, text).toBe(409);
            tracked = Math.max(tracked, Number(text.trim()));
          }
        }
      };
      await Promise.all([worker(), worker(), worker()]);
      kill();
      await w.exited;

      // The state on disk, opened the way the next run will open it.
      const store = new SqliteWitnessStore(path.join(state, 'witness.db'));
      try {
        const latest = store.latest(ORIGIN);
        const maxAcked = Math.max(0, ...acked.map((a) => a.size));
        expect(latest?.size ?? 0).toBeGreaterThanOrEqual(maxAcked);
        const history = store.history({ origin: ORIGIN, limit: 1000 }).map((h) => ({ size: h.size, root: toBase64(h.root) }));
        expect(history).toEqual(expect.arrayContaining(acked));
        for (const h of history) expect(h.root).toBe(toBase64(await log.root(h.size)));
        tracked = latest?.size ?? 0; // a log would learn this through a 409
      } finally {
        store.close();
      }
    }
    expect(acked.length).toBeGreaterThanOrEqual(ITERATIONS);

    // A last restart: the witness answers from where it stopped.
    const w = await startWitness();
    try {
      const res = await fetch(`${w.url}/add-checkpoint`, { method: 'POST', body: await log.request(0, 1) });
      expect(res.status).toBe(409);
      expect(await res.text()).toBe(`${tracked}\n`);
    } finally {
      w.kill();
      await w.exited;
    }
  });
});
