// SqliteWorkerStore beyond the shared contract (log-store-contract-sqlite-worker.test.ts):
// calls made without awaiting run in the order they were made (the sequencer
// and checkpointer rely on it, as they did on synchronous calls); a closed
// store refuses calls with LOG_CLOSED; an open that fails leaves the file as
// it was and the database usable by the next open.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { isTilelogError } from '../../src/errors.js';
import { leafHash } from '../../src/merkle/hash.js';
import { SqliteWorkerStore } from '../../src/storage/sqlite-worker-store.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tilelog-worker-store-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const enc = new TextEncoder();
const item = (s: string) => ({ bytes: enc.encode(s), leafHash: leafHash(enc.encode(s)) });

test('calls in flight together run in call order; nextIndex follows the replies', async () => {
  const store = await SqliteWorkerStore.open(path.join(dir, 'order.db'), { origin: 'order.example/log' });
  try {
    const batches = Array.from({ length: 40 }, (_, b) => [item(`b${b}-0`), item(`b${b}-1`), item(`b${b}-0`)]);
    const pending = batches.map((batch) => store.sequence(batch, true));
    // A read issued after them sees all of them.
    const size = store.entryBytes(0, 80);
    const results = await Promise.all(pending);
    results.forEach((r, b) => expect(r).toEqual([
      { index: 2 * b, duplicate: false },
      { index: 2 * b + 1, duplicate: false },
      { index: 2 * b, duplicate: true },
    ]));
    expect(await size).toBe(batches.reduce((a, batch) => a + batch[0]!.bytes.length + batch[1]!.bytes.length, 0));
    expect(await store.nextIndex()).toBe(80);
    expect(new TextDecoder().decode((await store.entry(79))!)).toBe('b39-1');
  } finally {
    await store.close();
  }
});

test('a closed store refuses calls with LOG_CLOSED; close is idempotent', async () => {
  const store = await SqliteWorkerStore.open(path.join(dir, 'closed.db'), { origin: 'closed.example/log' });
  await store.sequence([item('a')], true);
  await Promise.all([store.close(), store.close()]);
  await expect(store.sequence([item('b')], true)).rejects.toSatisfy((err) => isTilelogError(err, 'LOG_CLOSED'));
  await expect(store.nextIndex()).rejects.toSatisfy((err) => isTilelogError(err, 'LOG_CLOSED'));
  // The database was closed cleanly: the next open finds the entry.
  const again = await SqliteWorkerStore.open(path.join(dir, 'closed.db'), { origin: 'closed.example/log' });
  expect(await again.nextIndex()).toBe(1);
  await again.close();
});

test("an open refused by the worker (another log's database) rejects with its code, and the database still opens for its own log", async () => {
  const file = path.join(dir, 'origin.db');
  const mine = await SqliteWorkerStore.open(file, { origin: 'mine.example/log' });
  await mine.sequence([item('x')], true);
  await mine.close();
  await expect(SqliteWorkerStore.open(file, { origin: 'other.example/log' })).rejects.toSatisfy(
    (err) => isTilelogError(err, 'LOG_CONFIG') && /belongs to origin "mine.example\/log"/.test((err as Error).message),
  );
  const again = await SqliteWorkerStore.open(file, { origin: 'mine.example/log' });
  expect(await again.nextIndex()).toBe(1);
  await again.close();
});
