// The SQLite worker's message encoding (sqlite-worker-protocol.ts): packed
// entry ranges and results round-trip exactly, and errors keep what the
// engine reads of them (a TilelogError's code, a SQLite result code that
// storage-failure.ts classifies as a full or failing disk).
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { TilelogError, isTilelogError } from '../../src/errors.js';
import { storageFailure } from '../../src/storage/storage-failure.js';
import {
  compact,
  deserializeError,
  packEntries,
  packResults,
  serializeError,
  unpackEntries,
  unpackResults,
} from '../../src/storage/sqlite-worker-protocol.js';

describe('packed entries', () => {
  test('round-trip any batch, views included', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ minLength: 32, maxLength: 32 })), { maxLength: 40 }), (pairs) => {
        // Entries as views into one larger buffer, as request bodies often are.
        const pool = new Uint8Array(8 + pairs.reduce((a, [e]) => a + e.length, 0));
        let at = 8;
        const entries = pairs.map(([e]) => {
          pool.set(e, at);
          at += e.length;
          return pool.subarray(at - e.length, at);
        });
        const out = unpackEntries(packEntries(entries, pairs.map(([, h]) => h)));
        expect(out.entries.map((e) => [...e])).toEqual(pairs.map(([e]) => [...e]));
        expect(out.leafHashes.map((h) => [...h])).toEqual(pairs.map(([, h]) => [...h]));
      }),
    );
  });

  test('a hash of another size or a count mismatch is refused', () => {
    expect(() => packEntries([new Uint8Array(1)], [new Uint8Array(31)])).toThrow(RangeError);
    expect(() => packEntries([new Uint8Array(1)], [])).toThrow(/bad math/);
    const packed = packEntries([new Uint8Array(3)], [new Uint8Array(32)]);
    expect(() => unpackEntries(packed.slice(0, packed.byteLength - 1))).toThrow(/bad math/);
  });
});

test('results round-trip: new and duplicate, up to 2^53-1', () => {
  fc.assert(
    fc.property(fc.array(fc.record({ index: fc.maxSafeNat(), duplicate: fc.boolean() })), (results) => {
      expect(unpackResults(packResults(results))).toEqual(results);
    }),
  );
  expect(unpackResults(packResults([{ index: 0, duplicate: true }]))).toEqual([{ index: 0, duplicate: true }]);
});

describe('errors across the thread boundary', () => {
  test('a TilelogError keeps its class and code', () => {
    const back = deserializeError(serializeError(new TilelogError('LOG_FORK', 'sqlite: refusing a second root for size 3')));
    expect(isTilelogError(back, 'LOG_FORK')).toBe(true);
    expect(back.message).toBe('sqlite: refusing a second root for size 3');
  });

  test('a SQLite error keeps its name and code: still a full disk for the engine', () => {
    const full = Object.assign(new Error('database or disk is full'), { name: 'SqliteError', code: 'SQLITE_FULL' });
    const back = deserializeError(serializeError(full));
    expect(back.name).toBe('SqliteError');
    expect(storageFailure(back)).toEqual({ component: 'state', code: 'SQLITE_FULL' });
    expect(isTilelogError(back)).toBe(false);
  });

  test('a thrown non-Error becomes an Error with its text', () => {
    expect(deserializeError(serializeError('boom')).message).toBe('boom');
  });
});

test('compact: views into larger buffers become their own bytes; whole arrays and other values stay', () => {
  const big = new Uint8Array(1024).fill(7);
  const view = big.subarray(10, 42);
  const whole = new Uint8Array(32);
  const out = compact({ root: view, edge: whole, size: 5, text: 'x', list: [view] });
  expect(out.root.buffer.byteLength).toBe(32);
  expect([...out.root]).toEqual([...view]);
  expect(out.edge).toBe(whole);
  expect(out.list[0]!.buffer.byteLength).toBe(32);
  expect(out.size).toBe(5);
  expect(compact(null)).toBe(null);
});
