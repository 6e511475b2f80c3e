import { createHash } from 'node:crypto';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { isTilelogError } from '../../src/errors.js';
import { SqliteSequenceDB } from '../../src/storage/sqlite-sequence-db.js';
import type { TreeState } from '../../src/storage/sequence-db.js';
import { tempDir, utf8 } from '../log/helpers.js';

const ORIGIN = 'db.test/log';
const leaf = (e: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(Buffer.from([0])).update(e).digest());
const item = (s: string) => ({ bytes: utf8(s), leafHash: leaf(utf8(s)) });
const root = (n: number): Uint8Array => new Uint8Array(32).fill(n);
const st = (size: number, r: number, prevSize = 0): TreeState => ({
  size,
  root: root(r),
  text: `cp ${size}`,
  edge: new Uint8Array(0),
  prevSize,
  prevEdge: new Uint8Array(0),
});

let tmp: ReturnType<typeof tempDir>;
let file: string;
beforeEach(() => {
  tmp = tempDir('tilelog-db-');
  file = path.join(tmp.dir, 'log.db');
});
afterEach(() => tmp.cleanup());

describe('SqliteSequenceDB', () => {
  test('records a noted public size with the next tree state and at a clean close, never ahead of it', () => {
    let db = new SqliteSequenceDB(file, { origin: ORIGIN });
    expect(db.publishedSize()).toBeNull();
    db.commitState(null, st(0, 0));
    db.notePublished(0);
    expect(db.publishedSize()).toBeNull(); // noting writes nothing by itself
    db.commitState(0, st(5, 1));
    expect(db.publishedSize()).toBe(0); // rode along with size 5's commit
    db.notePublished(5);
    db.notePublished(3); // out of order: the record never moves back
    db.commitState(5, st(9, 2));
    expect(db.publishedSize()).toBe(5);
    db.notePublished(9);
    expect(() => db.notePublished(-1)).toThrow(RangeError);
    db.close();
    db = new SqliteSequenceDB(file, { origin: ORIGIN });
    expect(db.publishedSize()).toBe(9);
    db.close();
  });

  test('sequences batches, dedups against the DB and within a batch, survives reopen', () => {
    const db = new SqliteSequenceDB(file, { origin: ORIGIN });
    expect(db.sequencedSize()).toBe(0);
    expect(db.sequence([item('a'), item('b'), item('a')], true)).toEqual([
      { index: 0, duplicate: false },
      { index: 1, duplicate: false },
      { index: 0, duplicate: true },
    ]);
    expect(db.sequence([item('b'), item('c')], true)).toEqual([
      { index: 1, duplicate: true },
      { index: 2, duplicate: false },
    ]);
    expect(db.sequence([item('c')], false)).toEqual([{ index: 3, duplicate: false }]);
    db.close();
    const again = new SqliteSequenceDB(file, { origin: ORIGIN });
    expect(again.sequencedSize()).toBe(4);
    expect(again.entry(2)).toEqual(utf8('c'));
    expect(again.entry(4)).toBeNull();
    expect(again.lookup(leaf(utf8('c')))).toBe(2);
    expect(again.lookup(leaf(utf8('zz')))).toBeNull();
    const r = again.readEntries(1, 4);
    expect(r.entries.map((e) => Buffer.from(e).toString())).toEqual(['b', 'c', 'c']);
    expect(Buffer.from(r.leafHashes[0]!).equals(Buffer.from(leaf(utf8('b'))))).toBe(true);
    expect(() => again.readEntries(3, 5)).toThrow();
    again.close();
  });

  test('refuses a database of another origin', () => {
    new SqliteSequenceDB(file, { origin: ORIGIN }).close();
    expect(() => new SqliteSequenceDB(file, { origin: 'other/log' })).toThrow(/belongs to origin/);
  });

  test('commitState is a compare-and-swap that refuses forks and shrinking', () => {
    const db = new SqliteSequenceDB(file, { origin: ORIGIN });
    expect(db.state()).toBeNull();
    db.commitState(null, st(0, 0));
    db.commitState(0, st(5, 1));
    const refuse = (fn: () => void): void => {
      let err: unknown;
      try {
        fn();
      } catch (e) {
        err = e;
      }
      expect(isTilelogError(err, 'LOG_FORK')).toBe(true);
    };
    refuse(() => db.commitState(0, st(9, 2))); // stale expected size
    refuse(() => db.commitState(null, st(9, 2)));
    refuse(() => db.commitState(5, st(4, 3))); // smaller
    refuse(() => db.commitState(5, st(5, 9))); // second root for 5
    expect(db.state()!.size).toBe(5);
    expect(db.state()!.root).toEqual(root(1));
    db.commitState(5, st(8, 4, 5));
    expect(db.sizeForRoot(root(1))).toBe(5);
    expect(db.sizeForRoot(root(4))).toBe(8);
    expect(db.sizeForRoot(root(9))).toBeNull();
    expect(db.rootForSize(5)).toEqual(root(1));
    db.close();
    const again = new SqliteSequenceDB(file, { origin: ORIGIN });
    expect(again.state()).toMatchObject({ size: 8, text: 'cp 8', prevSize: 5 });
    again.close();
  });

  test('refuses to open with a hole in the entries beyond the signed size', () => {
    const db = new SqliteSequenceDB(file, { origin: ORIGIN });
    db.commitState(null, st(0, 0));
    db.sequence(['a', 'b', 'c', 'd'].map(item), true);
    db.commitState(0, st(2, 1));
    db.close();
    new SqliteSequenceDB(file, { origin: ORIGIN }).close();
    const raw = new Database(file);
    raw.prepare('DELETE FROM entries WHERE idx = 2').run();
    raw.close();
    let err: unknown;
    try {
      new SqliteSequenceDB(file, { origin: ORIGIN });
    } catch (e) {
      err = e;
    }
    expect(isTilelogError(err, 'LOG_CORRUPT')).toBe(true);
    expect(String(err)).toMatch(/gaps/);
  });

  test('a failed batch stores nothing and leaves the size unchanged', () => {
    const db = new SqliteSequenceDB(file, { origin: ORIGIN });
    db.sequence([item('a')], true);
    // A leaf hash that is not a blob makes the INSERT throw mid-batch.
    const bad = { bytes: utf8('x'), leafHash: 'not bytes' as unknown as Uint8Array };
    expect(() => db.sequence([item('b'), bad], false)).toThrow();
    expect(db.sequencedSize()).toBe(1);
    expect(db.sequence([item('c')], true)).toEqual([{ index: 1, duplicate: false }]);
    db.close();
  });
});

// The checkpoint history (size, root, commit time): newest-N in ascending
// order, bounded by a maximum size, and the migration of a database made
// before the time column existed.
describe('SqliteSequenceDB checkpoint history', () => {
  function commitSizes(db: SqliteSequenceDB, sizes: number[]): void {
    let prev: number | null = null;
    for (const s of sizes) {
      db.commitState(prev, st(s, s % 256, prev ?? 0));
      prev = s;
    }
  }

  test('lists the newest N checkpoints up to a size, ascending, with commit times', () => {
    const db = new SqliteSequenceDB(file, { origin: ORIGIN });
    const before = Date.now();
    commitSizes(db, [1, 2, 5, 9, 20]);
    const after = Date.now();
    expect(db.checkpointHistory(3, 100).map((c) => c.size)).toEqual([5, 9, 20]);
    expect(db.checkpointHistory(100, 9).map((c) => c.size)).toEqual([1, 2, 5, 9]);
    expect(db.checkpointHistory(2, 8).map((c) => c.size)).toEqual([2, 5]);
    expect(db.checkpointHistory(0, 100)).toEqual([]);
    const [last] = db.checkpointHistory(1, 100);
    expect(last!.root).toEqual(new Uint8Array(32).fill(20));
    expect(last!.time).toBeGreaterThanOrEqual(before);
    expect(last!.time).toBeLessThanOrEqual(after);
    db.close();
    // Survives reopen.
    const again = new SqliteSequenceDB(file, { origin: ORIGIN });
    expect(again.checkpointHistory(10, 100).map((c) => c.size)).toEqual([1, 2, 5, 9, 20]);
    again.close();
  });

  test('a database from before checkpoint times gains the column; old rows have null times', () => {
    const db = new SqliteSequenceDB(file, { origin: ORIGIN });
    commitSizes(db, [1, 3]);
    db.close();
    // Rebuild the table the way the first schema had it: no time column.
    const raw = new Database(file);
    raw.exec(`CREATE TABLE old AS SELECT size, root FROM checkpoints;
      DROP TABLE checkpoints;
      CREATE TABLE checkpoints (size INTEGER PRIMARY KEY, root BLOB NOT NULL);
      INSERT INTO checkpoints SELECT size, root FROM old; DROP TABLE old;`);
    raw.close();
    const reopened = new SqliteSequenceDB(file, { origin: ORIGIN });
    reopened.commitState(3, st(7, 7, 3));
    const history = reopened.checkpointHistory(10, 100);
    expect(history.map((c) => [c.size, c.time === null])).toEqual([
      [1, true],
      [3, true],
      [7, false],
    ]);
    expect(reopened.rootForSize(3)).toEqual(new Uint8Array(32).fill(3));
    reopened.close();
  });
});
