// SqliteSequenceDB: the SequenceDB on better-sqlite3, one database file per log.
//
// Durability: WAL journal with synchronous=FULL, so each COMMIT fsyncs the WAL
// before returning; a batch of entries is one transaction, hence one fsync.
// Schema:
//   meta(key, value)                     origin, schema version, gc_cursor (the partial-tile
//                                        collector's cursor; absent means 0), published_size
//                                        (a public size, written with each tree state; absent
//                                        in databases from before it existed)
//   entries(idx PK, leaf_hash, data)     the durable sequence; index on leaf_hash
//   tree_state(one row)                  size, root, text, edge, prev_size, prev_edge
//   checkpoints(size PK, root, time)     every signed (size, root) and its commit time
//                                        (unix ms); index on root. time was added later:
//                                        older rows hold NULL (ALTER TABLE on open)
//   witness_sizes(witness PK, size)      size each witness (verifier key) last cosigned
//                                        (added without a version bump: CREATE IF NOT EXISTS)

import type Database from 'better-sqlite3';
import { openDurableSqlite } from './sqlite.js';
import { TilelogError } from '../errors.js';
import type { Hash } from '../merkle/hash.js';
import type {
  CheckpointRecord,
  EntryRange,
  SequenceDB,
  SequenceResult,
  SequencedEntry,
  TreeState,
} from './sequence-db.js';
import { bytesEqual } from './tile-store.js';

const SCHEMA_VERSION = '1';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
  idx INTEGER PRIMARY KEY,
  leaf_hash BLOB NOT NULL,
  data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_leaf_hash ON entries (leaf_hash);
CREATE TABLE IF NOT EXISTS tree_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  size INTEGER NOT NULL,
  root BLOB NOT NULL,
  text TEXT NOT NULL,
  edge BLOB NOT NULL,
  prev_size INTEGER NOT NULL,
  prev_edge BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS checkpoints (size INTEGER PRIMARY KEY, root BLOB NOT NULL, time INTEGER);
CREATE INDEX IF NOT EXISTS checkpoints_root ON checkpoints (root);
CREATE TABLE IF NOT EXISTS witness_sizes (witness TEXT PRIMARY KEY, size INTEGER NOT NULL);
`;

type Row = Record<string, unknown>;

export interface SqliteSequenceDBOptions {
  /** The log's origin; a database created for another origin is refused. */
  origin: string;
}

export class SqliteSequenceDB implements SequenceDB {
  readonly origin: string;
  private readonly db: Database.Database;
  private size: number;
  /** The largest public size noted since open, recorded with the next tree state. */
  #publishedNoted: number | null = null;
  private readonly stmt: {
    insert: Database.Statement;
    findHash: Database.Statement;
    range: Database.Statement;
    entry: Database.Statement;
    state: Database.Statement;
    putState: Database.Statement;
    putCheckpoint: Database.Statement;
    rootForSize: Database.Statement;
    sizeForRoot: Database.Statement;
    history: Database.Statement;
    historyFrom: Database.Statement;
    entryBytes: Database.Statement;
    getMeta: Database.Statement;
    putMeta: Database.Statement;
    witnessSize: Database.Statement;
    setWitnessSize: Database.Statement;
  };
  private readonly sequenceTx: Database.Transaction<(batch: readonly SequencedEntry[], dedup: boolean) => SequenceResult[]>;
  private readonly commitTx: Database.Transaction<(expectedSize: number | null, next: TreeState) => void>;

  /** Open (creating if needed) the database file at path for opts.origin. */
  constructor(path: string, opts: SqliteSequenceDBOptions) {
    this.origin = opts.origin;
    this.db = openDurableSqlite(path, SCHEMA, (db) => {
      this.checkMeta(db);
      addCheckpointTime(db);
    });
    const db = this.db;
    this.stmt = {
      insert: db.prepare('INSERT INTO entries (idx, leaf_hash, data) VALUES (?, ?, ?)'),
      findHash: db.prepare('SELECT idx FROM entries WHERE leaf_hash = ? ORDER BY idx LIMIT 1').pluck(),
      range: db.prepare('SELECT data, leaf_hash FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx').raw(),
      entry: db.prepare('SELECT data FROM entries WHERE idx = ?').pluck(),
      state: db.prepare('SELECT size, root, text, edge, prev_size, prev_edge FROM tree_state WHERE id = 1'),
      putState: db.prepare(
        `INSERT INTO tree_state (id, size, root, text, edge, prev_size, prev_edge) VALUES (1, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET size = excluded.size, root = excluded.root, text = excluded.text,
           edge = excluded.edge, prev_size = excluded.prev_size, prev_edge = excluded.prev_edge`,
      ),
      putCheckpoint: db.prepare('INSERT OR IGNORE INTO checkpoints (size, root, time) VALUES (?, ?, ?)'),
      rootForSize: db.prepare('SELECT root FROM checkpoints WHERE size = ?').pluck(),
      sizeForRoot: db.prepare('SELECT size FROM checkpoints WHERE root = ? ORDER BY size LIMIT 1').pluck(),
      history: db.prepare('SELECT size, root, time FROM checkpoints WHERE size <= ? ORDER BY size DESC LIMIT ?').raw(),
      historyFrom: db.prepare('SELECT size, root, time FROM checkpoints WHERE size >= ? ORDER BY size LIMIT ?').raw(),
      // length() of a BLOB reads the record header only, not the bytes.
      entryBytes: db.prepare('SELECT coalesce(sum(length(data)), 0) FROM entries WHERE idx >= ? AND idx < ?').pluck(),
      getMeta: db.prepare('SELECT value FROM meta WHERE key = ?').pluck(),
      putMeta: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
      witnessSize: db.prepare('SELECT size FROM witness_sizes WHERE witness = ?').pluck(),
      setWitnessSize: db.prepare(
        'INSERT INTO witness_sizes (witness, size) VALUES (?, ?) ON CONFLICT (witness) DO UPDATE SET size = excluded.size',
      ),
    };
    const max = db.prepare('SELECT max(idx) FROM entries').pluck().get() as number | null;
    this.size = max === null ? 0 : max + 1;
    this.checkNoGaps();
    this.sequenceTx = db.transaction((batch: readonly SequencedEntry[], dedup: boolean) => this.sequenceInTx(batch, dedup));
    this.commitTx = db.transaction((expectedSize: number | null, next: TreeState) => this.commitInTx(expectedSize, next));
  }

  sequencedSize(): number {
    return this.size;
  }

  sequence(batch: readonly SequencedEntry[], dedup: boolean): SequenceResult[] {
    // better-sqlite3 runs the function between BEGIN and COMMIT; a throw rolls back.
    // The cached size is only advanced after the COMMIT succeeded.
    const before = this.size;
    try {
      const results = this.sequenceTx.immediate(batch, dedup);
      return results;
    } catch (err) {
      this.size = before;
      // A failed COMMIT (a full disk, an I/O error) may still have landed:
      // trust the table over the cache, so the next batch does not collide.
      try {
        const max = this.db.prepare('SELECT max(idx) FROM entries').pluck().get() as number | null;
        this.size = max === null ? 0 : max + 1;
      } catch {
        // unreadable too: keep the size before the batch
      }
      throw err;
    }
  }

  // sequenceInTx: one prepared INSERT per new entry, plus one indexed SELECT per
  // entry when deduplicating; duplicates within the batch are caught by a map.
  private sequenceInTx(batch: readonly SequencedEntry[], dedup: boolean): SequenceResult[] {
    const results: SequenceResult[] = new Array(batch.length);
    const inBatch = dedup ? new Map<string, number>() : null;
    let next = this.size;
    for (let k = 0; k < batch.length; k++) {
      const e = batch[k]!;
      const hash = asBuffer(e.leafHash);
      if (inBatch !== null) {
        const key = hash.toString('latin1');
        const earlier = inBatch.get(key) ?? (this.stmt.findHash.get(hash) as number | undefined);
        if (earlier !== undefined) {
          results[k] = { index: earlier, duplicate: true };
          continue;
        }
        inBatch.set(key, next);
      }
      this.stmt.insert.run(next, hash, asBuffer(e.bytes));
      results[k] = { index: next, duplicate: false };
      next++;
    }
    this.size = next;
    return results;
  }

  readEntries(start: number, end: number): EntryRange {
    if (!(Number.isSafeInteger(start) && Number.isSafeInteger(end) && 0 <= start && start <= end && end <= this.size)) {
      throw new TilelogError('LOG_NOT_FOUND', `sqlite: entries [${start}, ${end}) are not all sequenced (size ${this.size})`);
    }
    const rows = this.stmt.range.all(start, end) as [Buffer, Buffer][];
    if (rows.length !== end - start) {
      throw new TilelogError('LOG_CORRUPT', `sqlite: expected ${end - start} entries from ${start}, found ${rows.length}`);
    }
    const entries: Uint8Array[] = new Array(rows.length);
    const leafHashes: Hash[] = new Array(rows.length);
    for (let k = 0; k < rows.length; k++) {
      const row = rows[k]!;
      entries[k] = row[0];
      leafHashes[k] = row[1];
    }
    return { entries, leafHashes };
  }

  entry(index: number): Uint8Array | null {
    const data = this.stmt.entry.get(index) as Buffer | undefined;
    return data === undefined ? null : asUint8(data);
  }

  lookup(leafHash: Hash): number | null {
    const idx = this.stmt.findHash.get(asBuffer(leafHash)) as number | undefined;
    return idx ?? null;
  }

  state(): TreeState | null {
    const row = this.stmt.state.get() as Row | undefined;
    if (row === undefined) return null;
    return {
      size: row.size as number,
      root: asUint8(row.root as Buffer),
      text: row.text as string,
      edge: asUint8(row.edge as Buffer),
      prevSize: row.prev_size as number,
      prevEdge: asUint8(row.prev_edge as Buffer),
    };
  }

  commitState(expectedSize: number | null, next: TreeState): void {
    this.commitTx.immediate(expectedSize, next);
  }

  // commitInTx: the compare-and-swap. Refuses (LOG_FORK, nothing written) a
  // state that is not the one the caller built on, a smaller size, or a second
  // root for a size already published.
  private commitInTx(expectedSize: number | null, next: TreeState): void {
    const current = this.state();
    const currentSize = current === null ? null : current.size;
    if (currentSize !== expectedSize) {
      throw new TilelogError(
        'LOG_FORK',
        `sqlite: tree state changed underneath (expected size ${expectedSize}, found ${currentSize}); is another process running this log?`,
      );
    }
    if (current !== null && next.size < current.size) {
      throw new TilelogError('LOG_FORK', `sqlite: refusing to sign size ${next.size} after size ${current.size}`);
    }
    const published = this.stmt.rootForSize.get(next.size) as Buffer | undefined;
    if (published !== undefined && !bytesEqual(published, next.root)) {
      throw new TilelogError('LOG_FORK', `sqlite: refusing a second root for size ${next.size}`);
    }
    this.stmt.putCheckpoint.run(next.size, asBuffer(next.root), Date.now());
    if (this.#publishedNoted !== null) this.stmt.putMeta.run('published_size', String(this.#publishedNoted));
    this.stmt.putState.run(
      next.size,
      asBuffer(next.root),
      next.text,
      asBuffer(next.edge),
      next.prevSize,
      asBuffer(next.prevEdge),
    );
  }

  sizeForRoot(root: Hash): number | null {
    const size = this.stmt.sizeForRoot.get(asBuffer(root)) as number | undefined;
    return size ?? null;
  }

  rootForSize(size: number): Hash | null {
    const root = this.stmt.rootForSize.get(size) as Buffer | undefined;
    return root === undefined ? null : asUint8(root);
  }

  checkpointHistory(limit: number, maxSize: number): CheckpointRecord[] {
    if (!(limit > 0)) return [];
    const rows = this.stmt.history.all(maxSize, Math.floor(limit)) as [number, Buffer, number | null][];
    return rows.reverse().map(([size, root, time]) => ({ size, root: asUint8(root), time }));
  }

  checkpointsFrom(minSize: number, limit: number): CheckpointRecord[] {
    if (!(limit > 0)) return [];
    const rows = this.stmt.historyFrom.all(minSize, Math.floor(limit)) as [number, Buffer, number | null][];
    return rows.map(([size, root, time]) => ({ size, root: asUint8(root), time }));
  }

  entryBytes(start: number, end: number): number {
    return this.stmt.entryBytes.get(start, end) as number;
  }

  gcCursor(): number {
    const v = this.stmt.getMeta.get('gc_cursor') as string | undefined;
    const n = v === undefined ? 0 : Number(v);
    return Number.isSafeInteger(n) && n >= 0 ? n : 0;
  }

  notePublished(size: number): void {
    if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`sqlite: published size ${size} is not a size`);
    if (this.#publishedNoted === null || size > this.#publishedNoted) this.#publishedNoted = size;
  }

  publishedSize(): number | null {
    const v = this.stmt.getMeta.get('published_size') as string | undefined;
    const n = v === undefined ? NaN : Number(v);
    return Number.isSafeInteger(n) && n >= 0 ? n : null;
  }

  setGcCursor(size: number): void {
    if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`sqlite: gc cursor ${size} is not a size`);
    this.stmt.putMeta.run('gc_cursor', String(size));
  }

  witnessSize(witness: string): number | null {
    const size = this.stmt.witnessSize.get(witness) as number | undefined;
    return size ?? null;
  }

  setWitnessSize(witness: string, size: number): void {
    if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`sqlite: witness size ${size} is not a size`);
    this.stmt.setWitnessSize.run(witness, size);
  }

  close(): void {
    if (!this.db.open) return;
    // A clean stop records the exact public size (a crash leaves it one checkpoint behind, never ahead).
    if (this.#publishedNoted !== null && !this.db.readonly && this.#publishedNoted > (this.publishedSize() ?? -1)) {
      this.stmt.putMeta.run('published_size', String(this.#publishedNoted));
    }
    this.db.close();
  }

  // checkNoGaps: the entries beyond the signed size must be exactly
  // [signed, size), or the integrator would stop at the first hole. Only that
  // tail is counted (a range scan of the rowid tree, O(tail)): counting every
  // row made each open read the whole leaf-hash index (O(size) I/O). The signed
  // prefix needs no count: the integrator read all of it (readEntries refuses
  // a short range) before its root was signed, and a row deleted since is
  // found by the read that needs it (LOG_CORRUPT or LOG_NOT_FOUND), as a row
  // altered since would be, or by `tilelog audit` against the public bundles.
  // A sequence shorter than the signed size is recovery's to refuse (recover.ts step 2).
  private checkNoGaps(): void {
    const signed = (this.db.prepare('SELECT size FROM tree_state WHERE id = 1').pluck().get() as number | undefined) ?? 0;
    const from = Math.min(signed, this.size);
    const tail = this.db.prepare('SELECT count(*) FROM entries WHERE idx >= ?').pluck().get(from) as number;
    if (tail !== this.size - from) {
      this.db.close();
      throw new TilelogError(
        'LOG_CORRUPT',
        `sqlite: the sequence has gaps (${tail} entries from index ${from}, highest index ${this.size - 1}, signed size ${signed})`,
      );
    }
  }

  // checkMeta: stamp a new database with the origin and schema version, or
  // refuse one that belongs to another log or schema.
  private checkMeta(db: Database.Database): void {
    const get = db.prepare('SELECT value FROM meta WHERE key = ?').pluck();
    const origin = get.get('origin') as string | undefined;
    const version = get.get('schema') as string | undefined;
    if (origin === undefined) {
      const put = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
      db.transaction(() => {
        put.run('origin', this.origin);
        put.run('schema', SCHEMA_VERSION);
      })();
      return;
    }
    if (origin !== this.origin) {
      throw new TilelogError(
        'LOG_CONFIG',
        `sqlite: this database belongs to origin ${JSON.stringify(origin)}, not ${JSON.stringify(this.origin)}`,
      );
    }
    if (version !== SCHEMA_VERSION) {
      throw new TilelogError('LOG_CORRUPT', `sqlite: unknown schema version ${String(version)}`);
    }
  }
}

// better-sqlite3 binds Buffers as BLOBs; wrap without copying.
function asBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

// Return plain Uint8Arrays to callers (a view, no copy).
function asUint8(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

// addCheckpointTime: databases made before checkpoint times were kept lack
// the column; adding it is the whole migration (their rows keep NULL times).
function addCheckpointTime(db: Database.Database): void {
  const columns = db.prepare('PRAGMA table_info(checkpoints)').all() as { name: string }[];
  if (!columns.some((c) => c.name === 'time')) db.exec('ALTER TABLE checkpoints ADD COLUMN time INTEGER');
}
