// A child process for the PostgreSQL tests and bench: a separate frontend or
// signer candidate, talking to the server over its own connections.
//   storm <url> <origin> <order-seed> <count> <batch>
//       sequences entries 0..count-1 (in an order shuffled by the seed) in
//       batches; prints one JSON line: {"indexes": [index of entry i, ...],
//       "stored": how many were new (not duplicates) when this process sent them}
//   lease <url> <origin> <holder> <ttlMs>
//       acquires the lease; prints {"event":"acquired","epoch":N} and, when the
//       term ends, {"event":"lost","reason":...}; runs until killed.
//   bench <url> <origin> <seconds> <batch>
//       closed loop of batches of fresh random entries for the given time;
//       prints {"adds":N,"latencies":[ms per batch]}.

import { randomBytes } from 'node:crypto';
import { leafHash } from '../../src/merkle/hash.js';
import { PgLease } from '../../src/storage/pg-lease.js';
import { PgLogStore } from '../../src/storage/pg-log-store.js';

const [mode, url, origin, ...rest] = process.argv.slice(2);
const say = (o: unknown): void => void process.stdout.write(JSON.stringify(o) + '\n');

export const stormEntry = (i: number): Uint8Array => new TextEncoder().encode(`storm entry ${i}`);

// shuffled(count, seed): a permutation of 0..count-1 (xorshift32 Fisher-Yates).
export function shuffled(count: number, seed: number): number[] {
  const order = Array.from({ length: count }, (_, i) => i);
  let x = seed >>> 0 || 1;
  for (let i = count - 1; i > 0; i--) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    const j = x % (i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

async function storm(seed: number, count: number, batch: number): Promise<void> {
  const store = await PgLogStore.open({ connectionString: url!, origin: origin! });
  const order = shuffled(count, seed);
  const indexes: number[] = new Array(count);
  let stored = 0;
  for (let at = 0; at < count; at += batch) {
    const ids = order.slice(at, at + batch);
    const results = await store.sequence(
      ids.map((i) => ({ bytes: stormEntry(i), leafHash: leafHash(stormEntry(i)) })),
      true,
    );
    results.forEach((r, k) => {
      indexes[ids[k]!] = r.index;
      if (!r.duplicate) stored++;
    });
  }
  await store.close();
  say({ indexes, stored });
}

async function lease(holder: string, ttlMs: number): Promise<void> {
  const lease = await PgLease.open({ connectionString: url!, origin: origin!, holder, ttlMs, marginMs: ttlMs / 5 });
  const term = await lease.acquire(new AbortController().signal);
  say({ event: 'acquired', epoch: term.fence.epoch, holder: term.fence.holder });
  term.lost.addEventListener('abort', () => say({ event: 'lost', reason: String((term.lost.reason as Error).message) }));
  setInterval(() => undefined, 1 << 30);
}

async function bench(seconds: number, batch: number): Promise<void> {
  const store = await PgLogStore.open({ connectionString: url!, origin: origin! });
  const latencies: number[] = [];
  let adds = 0;
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    const entries = Array.from({ length: batch }, () => {
      const bytes = randomBytes(256);
      return { bytes, leafHash: leafHash(bytes) };
    });
    const t = performance.now();
    await store.sequence(entries, true);
    latencies.push(performance.now() - t);
    adds += batch;
  }
  await store.close();
  say({ adds, latencies });
}

if (mode === 'storm') await storm(Number(rest[0]), Number(rest[1]), Number(rest[2]));
else if (mode === 'lease') await lease(rest[0]!, Number(rest[1]));
else if (mode === 'bench') await bench(Number(rest[0]), Number(rest[1]));
else if (mode !== undefined) throw new Error(`pg-child: unknown mode ${mode}`);
