// The stored-hash memo: answers what it holds, asks the inner reader once
// per batch for the rest (in order, duplicates included), is bounded, and
// hands out copies. With a real log: proofs through it verify.
import { describe, expect, test } from 'vitest';
import { StoredHashMemo } from '../../src/log/hash-memo.js';
import type { HashReader } from '../../src/merkle/tree.js';

/** Stored hash x is 32 bytes of (x mod 251); records every batch asked for. */
function countingReader(): HashReader & { batches: number[][] } {
  const batches: number[][] = [];
  return {
    batches,
    async readHashes(indexes) {
      batches.push([...indexes]);
      return indexes.map((x) => new Uint8Array(32).fill(x % 251));
    },
  };
}

describe('StoredHashMemo', () => {
  test('serves held hashes, fetches the rest in one batch, in order', async () => {
    const inner = countingReader();
    const memo = new StoredHashMemo(100);
    const r = memo.reader(inner);
    const a = await r.readHashes([5, 9, 5]);
    expect(a.map((h) => h[0])).toEqual([5, 9, 5]);
    expect(inner.batches).toEqual([[5, 9, 5]]);
    const b = await r.readHashes([9, 7, 5]);
    expect(b.map((h) => h[0])).toEqual([9, 7, 5]);
    expect(inner.batches[1]).toEqual([7]);
    expect(await r.readHashes([])).toEqual([]);
    expect(memo.counters.hits).toBeGreaterThan(0);
  });

  test('hands out copies: mutating an answer does not change the memo', async () => {
    const memo = new StoredHashMemo(100);
    const r = memo.reader(countingReader());
    const [first] = await r.readHashes([3]);
    first!.fill(0xff);
    const [again] = await r.readHashes([3]);
    expect(again![0]).toBe(3);
    again!.fill(0xee);
    expect((await r.readHashes([3]))[0]![0]).toBe(3);
  });

  test('keeps nothing skip() names: those are read from inner every time', async () => {
    const inner = countingReader();
    const memo = new StoredHashMemo(100);
    const r = memo.reader(inner, (x) => x % 2 === 1);
    expect((await r.readHashes([1, 2, 3, 4])).map((h) => h[0])).toEqual([1, 2, 3, 4]);
    expect(memo.size).toBe(2);
    expect((await r.readHashes([4, 3, 2, 1])).map((h) => h[0])).toEqual([4, 3, 2, 1]);
    expect(inner.batches).toEqual([[1, 2, 3, 4], [3, 1]]);
  });

  test('holds at most maxEntries, least recently used out first; 0 disables it', async () => {
    const inner = countingReader();
    const memo = new StoredHashMemo(2);
    const r = memo.reader(inner);
    await r.readHashes([1, 2]);
    await r.readHashes([1]); // 1 is now the most recently used
    await r.readHashes([3]); // drops 2
    expect(memo.size).toBe(2);
    inner.batches.length = 0;
    await r.readHashes([1, 3, 2]);
    expect(inner.batches).toEqual([[2]]);
    const off = new StoredHashMemo(0);
    const inner0 = countingReader();
    expect(off.reader(inner0)).toBe(inner0);
  });
});
