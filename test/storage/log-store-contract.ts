// The storage contract of the asynchronous trusted state (SequenceStore +
// TreeStateStore, src/storage/log-store.ts), written once and run against
// every backend: runLogStoreContract(name, open) from a backend's test file.
// The rules are SqliteSequenceDB's (sequence-db.ts) plus the fence: dense
// indexes, exact dedup across calls and within a batch, the compare-and-swap
// of the tree state (LOG_FORK cases change nothing), 'lost' for a superseded
// fence, the history, the gc cursor, witness hints, the origin check, reopen.

import { afterEach, describe, expect, test } from 'vitest';
import { isTilelogError } from '../../src/errors.js';
import { leafHash } from '../../src/merkle/hash.js';
import type { Fence, SequenceStore, TreeState, TreeStateStore } from '../../src/storage/log-store.js';

/** One opened backend, as the contract drives it. */
export interface LogStoreUnderTest {
  readonly sequence: SequenceStore;
  readonly state: TreeStateStore;
  /** A fence that holds now. */
  readonly fence: Fence;
  /** Another signer takes over; returns its fence. Absent where a backend has one signer forever (SQLite). */
  takeOver?(): Promise<Fence>;
  close(): Promise<void>;
}

export interface OpenSpec {
  /** Names the storage place: the same key reopens the same store. */
  readonly key: string;
  readonly origin: string;
  readonly dedup: boolean;
}

export type OpenLogStore = (spec: OpenSpec) => Promise<LogStoreUnderTest>;

const enc = new TextEncoder();
export const item = (s: string) => ({ bytes: enc.encode(s), leafHash: leafHash(enc.encode(s)) });
const root = (n: number): Uint8Array => new Uint8Array(32).fill(n);
const state = (size: number, r: number, prevSize = 0): TreeState => ({
  size,
  root: root(r),
  text: `checkpoint ${size} ${r}\n`,
  edge: new Uint8Array([size & 0xff, r, 1, 2, 3]),
  prevSize,
  prevEdge: new Uint8Array(prevSize === 0 ? 0 : 3).fill(prevSize & 0xff),
});
const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const text = (b: Uint8Array | null): string | null => (b === null ? null : new TextDecoder().decode(b));

async function rejectsWith(p: Promise<unknown>, code: string): Promise<Error> {
  try {
    await p;
  } catch (err) {
    expect(isTilelogError(err), String(err)).toBe(true);
    expect((err as { code: string }).code).toBe(code);
    return err as Error;
  }
  throw new Error(`expected a rejection with ${code}`);
}

/** takeover: the backend can have its fence superseded (PostgreSQL); SQLite has one signer forever. */
export function runLogStoreContract(name: string, open: OpenLogStore, { takeover = true }: { takeover?: boolean } = {}): void {
  describe(`log store contract: ${name}`, () => {
    let n = 0;
    const opened: LogStoreUnderTest[] = [];
    const fresh = async (dedup = true, origin = 'contract.test/log'): Promise<{ s: LogStoreUnderTest; spec: OpenSpec }> => {
      const spec = { key: `c${process.pid}_${n++}_${Date.now().toString(36)}`, origin, dedup };
      const s = await open(spec);
      opened.push(s);
      return { s, spec };
    };
    const reopen = async (spec: OpenSpec): Promise<LogStoreUnderTest> => {
      const s = await open(spec);
      opened.push(s);
      return s;
    };
    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close().catch(() => undefined);
    });

    test('a new store is empty', async () => {
      const { s } = await fresh();
      expect(s.sequence.origin).toBe('contract.test/log');
      expect(await s.sequence.nextIndex()).toBe(0);
      expect(await s.state.state()).toBeNull();
      expect(await s.state.gcCursor()).toBe(0);
      expect(await s.state.witnessSize('w')).toBeNull();
      expect(await s.sequence.readEntries(0, 0)).toEqual({ entries: [], leafHashes: [] });
      expect(await s.sequence.entry(0)).toBeNull();
      expect(await s.sequence.lookup(item('a').leafHash)).toBeNull();
      expect(await s.sequence.checkpointHistory(10, Number.MAX_SAFE_INTEGER)).toEqual([]);
      expect(await s.sequence.checkpointsFrom(0, 10)).toEqual([]);
      expect(await s.sequence.sequence([], true)).toEqual([]);
    });

    test('indexes are dense across batches; reads return what was stored', async () => {
      const { s } = await fresh();
      expect(await s.sequence.sequence([item('a'), item('bb'), item('ccc')], true)).toEqual([
        { index: 0, duplicate: false },
        { index: 1, duplicate: false },
        { index: 2, duplicate: false },
      ]);
      expect(await s.sequence.sequence([item('dddd'), item('e')], true)).toEqual([
        { index: 3, duplicate: false },
        { index: 4, duplicate: false },
      ]);
      expect(await s.sequence.nextIndex()).toBe(5);
      const range = await s.sequence.readEntries(1, 4);
      expect(range.entries.map((e) => text(e))).toEqual(['bb', 'ccc', 'dddd']);
      // Bytes, not classes: a Buffer (a Uint8Array) is as good as a plain Uint8Array.
      expect(range.leafHashes.map(hex)).toEqual([item('bb').leafHash, item('ccc').leafHash, item('dddd').leafHash].map(hex));
      expect(range.entries[0]).toBeInstanceOf(Uint8Array);
      expect(text(await s.sequence.entry(4))).toBe('e');
      expect(await s.sequence.entry(5)).toBeNull();
      expect(await s.sequence.lookup(item('ccc').leafHash)).toBe(2);
      expect(await s.sequence.entryBytes(0, 5)).toBe(1 + 2 + 3 + 4 + 1);
      expect(await s.sequence.entryBytes(1, 3)).toBe(5);
      expect(await s.sequence.entryBytes(5, 5)).toBe(0);
      await rejectsWith(s.sequence.readEntries(3, 6), 'LOG_NOT_FOUND');
    });

    test('dedup: a repeat gets the earlier index, within a batch and across calls', async () => {
      const { s } = await fresh();
      expect(await s.sequence.sequence([item('a'), item('b'), item('a')], true)).toEqual([
        { index: 0, duplicate: false },
        { index: 1, duplicate: false },
        { index: 0, duplicate: true },
      ]);
      expect(await s.sequence.sequence([item('c'), item('b'), item('c'), item('d')], true)).toEqual([
        { index: 2, duplicate: false },
        { index: 1, duplicate: true },
        { index: 2, duplicate: true },
        { index: 3, duplicate: false },
      ]);
      expect(await s.sequence.sequence([item('a'), item('d')], true)).toEqual([
        { index: 0, duplicate: true },
        { index: 3, duplicate: true },
      ]);
      expect(await s.sequence.nextIndex()).toBe(4);
      expect((await s.sequence.readEntries(0, 4)).entries.map(text)).toEqual(['a', 'b', 'c', 'd']);
    });

    test('dedup off: every entry is stored; lookup finds the lowest index', async () => {
      const { s } = await fresh(false);
      expect(await s.sequence.sequence([item('a'), item('a')], false)).toEqual([
        { index: 0, duplicate: false },
        { index: 1, duplicate: false },
      ]);
      expect(await s.sequence.sequence([item('a')], false)).toEqual([{ index: 2, duplicate: false }]);
      expect(await s.sequence.nextIndex()).toBe(3);
      expect(await s.sequence.lookup(item('a').leafHash)).toBe(0);
    });

    test('commitState: compare-and-swap on the size; LOG_FORK changes nothing; the history', async () => {
      const { s } = await fresh();
      const f = s.fence;
      expect(await s.state.commitState(f, null, state(1, 1))).toBe('ok');
      expect(await s.state.state()).toEqual(state(1, 1));
      expect(await s.state.commitState(f, 1, state(3, 3, 1))).toBe('ok');
      expect(await s.state.state()).toEqual(state(3, 3, 1));
      // Not the size the caller built on.
      await rejectsWith(s.state.commitState(f, 1, state(4, 4, 1)), 'LOG_FORK');
      await rejectsWith(s.state.commitState(f, null, state(4, 4)), 'LOG_FORK');
      // A smaller tree than the one signed.
      await rejectsWith(s.state.commitState(f, 3, state(2, 2, 3)), 'LOG_FORK');
      // A second root for a signed size.
      await rejectsWith(s.state.commitState(f, 3, state(3, 9, 3)), 'LOG_FORK');
      expect(await s.state.state()).toEqual(state(3, 3, 1));
      // The same tree again is fine (a re-signed checkpoint of the same size).
      expect(await s.state.commitState(f, 3, state(3, 3, 3))).toBe('ok');
      expect(await s.state.commitState(f, 3, state(7, 7, 3))).toBe('ok');

      expect(await s.sequence.rootForSize(3)).toEqual(root(3));
      expect(await s.sequence.rootForSize(2)).toBeNull();
      expect(await s.sequence.sizeForRoot(root(7))).toBe(7);
      expect(await s.sequence.sizeForRoot(root(9))).toBeNull();
      const all = await s.sequence.checkpointHistory(10, Number.MAX_SAFE_INTEGER);
      expect(all.map((c) => c.size)).toEqual([1, 3, 7]);
      expect(all.map((c) => c.root)).toEqual([root(1), root(3), root(7)]);
      for (const c of all) {
        expect(typeof c.time).toBe('number');
        expect(Math.abs((c.time as number) - Date.now())).toBeLessThan(10 * 60_000);
      }
      expect((await s.sequence.checkpointHistory(2, 6)).map((c) => c.size)).toEqual([1, 3]);
      expect((await s.sequence.checkpointHistory(1, 7)).map((c) => c.size)).toEqual([7]);
      expect(await s.sequence.checkpointHistory(0, 7)).toEqual([]);
      expect((await s.sequence.checkpointsFrom(2, 10)).map((c) => c.size)).toEqual([3, 7]);
      expect((await s.sequence.checkpointsFrom(0, 2)).map((c) => c.size)).toEqual([1, 3]);
      expect(await s.sequence.checkpointsFrom(8, 10)).toEqual([]);
    });

    if (takeover) {
      test("a superseded fence gets 'lost' and changes nothing", async () => {
        const { s } = await fresh();
        if (s.takeOver === undefined) throw new Error(`${name}: takeover is on but the store under test has no takeOver()`);
        const old = s.fence;
        expect(await s.state.commitState(old, null, state(2, 2))).toBe('ok');
        expect(await s.state.setGcCursor(old, 1)).toBe('ok');
        const next = await s.takeOver();
        expect(next.epoch).toBeGreaterThan(old.epoch);
        expect(await s.state.commitState(old, 2, state(5, 5, 2))).toBe('lost');
        // 'lost' wins over the fork checks: a stale signer steps down, it is not a fork.
        expect(await s.state.commitState(old, 0, state(1, 1))).toBe('lost');
        expect(await s.state.setGcCursor(old, 2)).toBe('lost');
        expect(await s.state.state()).toEqual(state(2, 2));
        expect(await s.sequence.rootForSize(5)).toBeNull();
        expect(await s.state.gcCursor()).toBe(1);
        expect(await s.state.commitState(next, 2, state(5, 5, 2))).toBe('ok');
        expect(await s.state.setGcCursor(next, 2)).toBe('ok');
        expect(await s.state.gcCursor()).toBe(2);
      });
    }

    test('published state: recorded by the signer, never moves back, fenced', async () => {
      const { s } = await fresh();
      expect(await s.sequence.published()).toBeNull();
      expect(await s.state.setPublished(s.fence, { size: 3, text: 'cp 3\n', etag: '"e3"' })).toBe('ok');
      expect(await s.sequence.published()).toEqual({ size: 3, text: 'cp 3\n', etag: '"e3"' });
      // A smaller size is ignored (a late write of an older publication), not an error.
      expect(await s.state.setPublished(s.fence, { size: 2, text: 'cp 2\n', etag: '"e2"' })).toBe('ok');
      expect((await s.sequence.published())?.size).toBe(3);
      // The same size again: new cosignatures or a new ETag.
      expect(await s.state.setPublished(s.fence, { size: 3, text: 'cp 3 again\n', etag: null })).toBe('ok');
      expect(await s.sequence.published()).toEqual({ size: 3, text: 'cp 3 again\n', etag: null });
      if (!takeover) return; // one signer forever: no stale fence to refuse
      if (s.takeOver === undefined) throw new Error(`${name}: takeover is on but the store under test has no takeOver()`);
      const old = s.fence;
      const next = await s.takeOver();
      expect(await s.state.setPublished(old, { size: 9, text: 'cp 9\n', etag: '"e9"' })).toBe('lost');
      expect((await s.sequence.published())?.size).toBe(3);
      expect(await s.state.setPublished(next, { size: 9, text: 'cp 9\n', etag: '"e9"' })).toBe('ok');
      expect((await s.sequence.published())?.etag).toBe('"e9"');
    });

    test('gc cursor and witness sizes', async () => {
      const { s } = await fresh();
      expect(await s.state.setGcCursor(s.fence, 256)).toBe('ok');
      expect(await s.state.gcCursor()).toBe(256);
      await s.state.setWitnessSize('witness.example/w1+abcd+AAAA', 5);
      await s.state.setWitnessSize('witness.example/w2+abcd+BBBB', 9);
      await s.state.setWitnessSize('witness.example/w1+abcd+AAAA', 7);
      expect(await s.state.witnessSize('witness.example/w1+abcd+AAAA')).toBe(7);
      expect(await s.state.witnessSize('witness.example/w2+abcd+BBBB')).toBe(9);
      expect(await s.state.witnessSize('witness.example/w3')).toBeNull();
    });

    test('a store of another origin is refused; reopening keeps everything', async () => {
      const { s, spec } = await fresh();
      await s.sequence.sequence([item('a'), item('b')], true);
      expect(await s.state.commitState(s.fence, null, state(2, 2))).toBe('ok');
      expect(await s.state.setGcCursor(s.fence, 1)).toBe('ok');
      await s.state.setWitnessSize('w', 2);
      await s.close();

      const err = await rejectsWith(open({ ...spec, origin: 'other.test/log' }), 'LOG_CONFIG');
      expect(err.message).toContain('contract.test/log');

      const again = await reopen(spec);
      expect(await again.sequence.nextIndex()).toBe(2);
      expect((await again.sequence.readEntries(0, 2)).entries.map(text)).toEqual(['a', 'b']);
      expect(await again.state.state()).toEqual(state(2, 2));
      expect(await again.sequence.rootForSize(2)).toEqual(root(2));
      expect(await again.state.gcCursor()).toBe(1);
      expect(await again.state.witnessSize('w')).toBe(2);
      expect(await again.sequence.sequence([item('b'), item('c')], true)).toEqual([
        { index: 1, duplicate: true },
        { index: 2, duplicate: false },
      ]);
      expect(await again.state.commitState(again.fence, 2, state(3, 3, 2))).toBe('ok');
    });
  });
}
