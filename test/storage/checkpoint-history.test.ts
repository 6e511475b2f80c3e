// The checkpoint history (size, root, commit time) kept by SqliteSequenceDB:
// newest-N in ascending order, bounded by a maximum size, and the migration of
// a database made before the time column existed.
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { SqliteSequenceDB } from '../../src/storage/sqlite-sequence-db.js';
import type { TreeState } from '../../src/storage/sequence-db.js';
import { tempDir } from '../log/helpers.js';

const ORIGIN = 'history.test/log';
const st = (size: number, prevSize: number): TreeState => ({
  size,
  root: new Uint8Array(32).fill(size % 256),
  text: `cp ${size}`,
  edge: new Uint8Array(0),
  prevSize,
  prevEdge: new Uint8Array(0),
});

let tmp: ReturnType<typeof tempDir>;
let file: string;
beforeEach(() => {
  tmp = tempDir('tilelog-history-');
  file = path.join(tmp.dir, 'log.db');
});
afterEach(() => tmp.cleanup());

function commitSizes(db: SqliteSequenceDB, sizes: number[]): void {
  let prev: number | null = null;
  for (const s of sizes) {
    db.commitState(prev, st(s, prev ?? 0));
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
  reopened.commitState(3, st(7, 3));
  const history = reopened.checkpointHistory(10, 100);
  expect(history.map((c) => [c.size, c.time === null])).toEqual([
    [1, true],
    [3, true],
    [7, false],
  ]);
  expect(reopened.rootForSize(3)).toEqual(new Uint8Array(32).fill(3));
  reopened.close();
});
