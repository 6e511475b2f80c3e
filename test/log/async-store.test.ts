// The engine on the asynchronous store (storage/log-store.ts): one sequencing
// call in flight with natural batching, close() waiting for it, an unknown
// sequencing outcome answered 503 "may have been stored", and a fenced commit
// that answers 'lost' stopping the signer for good. Every store here is the
// real SQLite one (SqliteLogStore), wrapped only to hold a call on a promise
// the test controls or to answer as another process's takeover would.

import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { createLogApp } from '../../src/http/index.js';
import { openLog, type Log } from '../../src/log/index.js';
import type { Fence } from '../../src/storage/log-store.js';
import { MemoryTileStore } from '../../src/storage/memory-tile-store.js';
import type { SequencedEntry, SequenceResult, TreeState } from '../../src/storage/sequence-db.js';
import { SqliteLogStore } from '../../src/storage/sqlite-log-store.js';
import { SqliteSequenceDB } from '../../src/storage/sqlite-sequence-db.js';
import { ORIGIN, quietLogger, tempDir, testSigner, utf8 } from './helpers.js';

/** SqliteLogStore whose sequence() can be held on a gate, fail, and whose commitState can answer 'lost'. */
class ControlledStore extends SqliteLogStore {
  /** Entry count of every sequence() call, in call order. */
  readonly batches: number[] = [];
  /** Calls to sequence() not yet returned. */
  inFlight = 0;
  maxInFlight = 0;
  #gate: Promise<void> | null = null;
  #open: (() => void) | null = null;
  #entered: (() => void) | null = null;
  /** Reject sequence() calls: after storing the batch (a lost COMMIT answer) or without. */
  failSequence: 'after-storing' | 'before-storing' | null = null;
  /** From now on commitState answers 'lost' and changes nothing. */
  lost = false;
  commits = 0;
  lostAnswers = 0;

  /** Hold the next sequence() calls until release(); resolves when the first one is entered. */
  hold(): Promise<void> {
    this.#gate = new Promise<void>((resolve) => (this.#open = resolve));
    return new Promise<void>((resolve) => (this.#entered = resolve));
  }

  release(): void {
    this.#open?.();
    this.#gate = null;
  }

  override async sequence(batch: readonly SequencedEntry[], dedup: boolean): Promise<SequenceResult[]> {
    this.batches.push(batch.length);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      this.#entered?.();
      this.#entered = null;
      if (this.#gate !== null) await this.#gate;
      if (this.failSequence === 'before-storing') throw new Error('connection to the database lost');
      const results = await super.sequence(batch, dedup);
      if (this.failSequence === 'after-storing') throw new Error('connection to the database lost');
      return results;
    } finally {
      this.inFlight--;
    }
  }

  override async commitState(fence: Fence, expectedSize: number | null, next: TreeState): Promise<'ok' | 'lost'> {
    this.commits++;
    if (this.lost) {
      this.lostAnswers++;
      return 'lost';
    }
    return super.commitState(fence, expectedSize, next);
  }
}

/** testSigner, counting signatures. */
const countingSigner = () => {
  const s = { count: 0, name: testSigner.name, keyId: testSigner.keyId, verifierKey: testSigner.verifierKey };
  return Object.assign(s, {
    sign: (m: Uint8Array) => {
      s.count++;
      return testSigner.sign(m);
    },
  });
};

let tmp: ReturnType<typeof tempDir>;
let sqlite: SqliteSequenceDB;
let store: ControlledStore;
let tiles: MemoryTileStore;
let log: Log | null;

beforeEach(() => {
  tmp = tempDir('tilelog-async-');
  sqlite = new SqliteSequenceDB(path.join(tmp.dir, 'log.db'), { origin: ORIGIN });
  store = new ControlledStore(sqlite);
  tiles = new MemoryTileStore();
  log = null;
});
afterEach(async () => {
  store.release();
  await log?.close();
  sqlite.close();
  tmp.cleanup();
});

const open = (extra: Partial<Parameters<typeof openLog>[0]> = {}) =>
  openLog({ origin: ORIGIN, signer: testSigner, store, tiles, logger: quietLogger, batchMaxDelayMs: 0, ...extra });
const publicText = () => new TextDecoder().decode(tiles.objects.get('checkpoint')!);
const ticks = (n = 20) => new Promise<void>((r) => setTimeout(r, n));

describe('natural batching: one sequencing call in flight', () => {
  test('adds that arrive while a call is in flight form the next batch, sequenced as one call once it returns', async () => {
    log = await open();
    const entered = store.hold();
    const first = log.add(utf8('a'));
    await entered;
    const more = ['b', 'c', 'd'].map((e) => log!.add(utf8(e)));
    await ticks();
    // Still one call: the three later adds wait in the pool instead of starting a second call.
    expect(store.batches).toEqual([1]);
    expect(log.stats().pending).toBe(4);
    store.release();
    expect(await first).toEqual({ index: 0, duplicate: false });
    expect(await Promise.all(more)).toEqual([1, 2, 3].map((index) => ({ index, duplicate: false })));
    expect(store.batches).toEqual([1, 3]);
    expect(store.maxInFlight).toBe(1);
    expect(log.stats().sequenced).toBe(4);
    expect((await log.waitForCheckpoint(3)).size).toBe(4);
  });

  // Clients that add again once answered, one after another (client k after
  // 1 + 15k ms): without a linger each comes back to an idle sequencer and
  // the batches split (how much depends on timers: not asserted); with one,
  // the next batch waits for all of them (the linger is long: the pool
  // reaching the target ends it, not the time).
  test('batchLingerMs: the answered clients\' next adds form one whole batch', async () => {
    log = await open({ batchLingerMs: 60_000 });
    const again: Promise<unknown>[] = [];
    const clients = 6;
    await Promise.all(
      Array.from({ length: clients }, (_, k) =>
        log!.add(utf8(`first ${k}`)).then(() => {
          again.push(new Promise((resolve) => setTimeout(resolve, 1 + 15 * k)).then(() => log!.add(utf8(`again ${k}`))));
        }),
      ),
    );
    await Promise.all(again);
    expect(store.batches).toEqual([clients, clients]);
    expect(log.stats().sequenced).toBe(2 * clients);
  });

  test('close() waits for the call in flight, then sequences what pooled meanwhile; all of it is durable', async () => {
    log = await open();
    const entered = store.hold();
    const a = log.add(utf8('a'));
    await entered;
    const b = log.add(utf8('b'));
    let closed = false;
    const closing = log.close().then(() => (closed = true));
    await ticks(50);
    expect(closed).toBe(false);
    await expect(log.add(utf8('c'))).rejects.toMatchObject({ code: 'LOG_CLOSED' });
    store.release();
    await closing;
    expect(await a).toEqual({ index: 0, duplicate: false });
    expect(await b).toEqual({ index: 1, duplicate: false });
    expect(sqlite.sequencedSize()).toBe(2);
    // close() published everything durable.
    expect(publicText()).toMatch(/\n2\n/);
  });
});

describe('a sequencing call that rejects', () => {
  test.each(['after-storing', 'before-storing'] as const)(
    '(%s) answers every add 503 LOG_UNKNOWN_OUTCOME "may have been stored", never an index; a retry gets the stored index',
    async (mode) => {
      log = await open();
      const app = createLogApp(log, { logError: () => undefined });
      store.failSequence = mode;
      const direct = log.add(utf8('x'));
      const viaHttp = await app.request('/add', { method: 'POST', body: 'y' });
      await expect(direct).rejects.toMatchObject({ code: 'LOG_UNKNOWN_OUTCOME', message: expect.stringMatching(/may have been stored; retry/) });
      expect(viaHttp.status).toBe(503);
      const body = (await viaHttp.json()) as { error: { code: string; message: string }; index?: number };
      expect(body.error.code).toBe('LOG_UNKNOWN_OUTCOME');
      expect(body.error.message).toMatch(/may have been stored/);
      expect(body.index).toBeUndefined();
      expect(viaHttp.headers.get('retry-after')).toBe('1');

      store.failSequence = null;
      const retried = await log.add(utf8('x'));
      // Stored by the failed call: the retry finds it (dedup); not stored: it is stored now.
      expect(retried).toEqual(mode === 'after-storing' ? { index: 0, duplicate: true } : { index: 0, duplicate: false });
      expect((await log.waitForCheckpoint(0)).size).toBe(mode === 'after-storing' ? 2 : 1);
    },
  );
});

describe('a fenced commit that answers lost', () => {
  test('stops the signer: nothing is signed or published after it; waiters get a retryable LOG_NOT_LEADER', async () => {
    const signer = countingSigner();
    const errors: string[] = [];
    log = await open({ signer, logger: { ...quietLogger, error: (m) => errors.push(m) } });
    await log.add(utf8('a'));
    await log.add(utf8('b'));
    expect((await log.waitForCheckpoint(1)).size).toBe(2);
    const published = publicText();
    const objects = new Set(tiles.objects.keys());

    store.lost = true;
    const commitsBefore = store.commits;
    const signedBefore = signer.count;
    // Sequencing still works (a frontend's job); the entry is durable.
    expect(await log.add(utf8('c'))).toEqual({ index: 2, duplicate: false });
    const waiting = log.waitForCheckpoint(2);
    await expect(waiting).rejects.toMatchObject({ code: 'LOG_NOT_LEADER', message: expect.stringMatching(/lost leadership/) });
    expect(store.lostAnswers).toBe(1);
    // The pass that learnt it had signed its checkpoint once (the text never left the process); nothing since.
    expect(signer.count).toBe(signedBefore + 1);
    expect(log.stats().fatal).toMatch(/lost leadership/);
    expect(errors.some((m) => /lost leadership/.test(m))).toBe(true);

    // Later adds are refused with the same retryable error, and nothing more is signed, committed or published.
    await expect(log.add(utf8('d'))).rejects.toMatchObject({ code: 'LOG_NOT_LEADER' });
    const app = createLogApp(log, { logError: () => undefined });
    const res = await app.request('/add', { method: 'POST', body: 'e' });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('LOG_NOT_LEADER');
    await ticks(100);
    await log.close();
    log = null;
    expect(signer.count).toBe(signedBefore + 1);
    expect(store.commits).toBe(commitsBefore + 1);
    expect(publicText()).toBe(published);
    expect(sqlite.state()!.size).toBe(2);
    // The refused pass wrote its size-3 tiles before the commit (beyond every
    // checkpoint; the next leader recreates them byte for byte): nothing else appeared.
    const added = [...tiles.objects.keys()].filter((k) => !objects.has(k));
    expect(added.every((k) => k.endsWith('.p/3'))).toBe(true);
  });
});
