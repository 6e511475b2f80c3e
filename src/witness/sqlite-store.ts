// SqliteWitnessStore: the WitnessStore on better-sqlite3, one database file
// per witness (<state>/witness.db).
//
// Durability: WAL journal with synchronous=FULL, so each COMMIT fsyncs the WAL
// before returning. `advance` is one IMMEDIATE transaction (the write lock is
// taken before the read), so two processes sharing the file cannot both
// advance from one state either.
// Schema:
//   meta(key, value)                       schema version
//   logs(origin, vkey)                     configuration; several keys per origin
//   latest(origin PK, origin_hash, size, root, note, timestamp)
//   history(id, origin, size, root, note, timestamp)        every cosignature issued
//   evidence(id, origin, reason, detail, old_size, proof, note, stored_*, received_at)

import type Database from 'better-sqlite3';
import { openDurableSqlite } from '../storage/sqlite.js';
import { takeStateLock } from '../storage/state-lock.js';
import { TilelogError } from '../errors.js';
import { fromBase64Strict, hashEqual, toBase64, type Hash } from '../merkle/index.js';
import { originHash } from './origin-hash.js';
import type {
  AdvanceResult,
  CosignedCheckpoint,
  EvidenceFilter,
  EvidenceInput,
  EvidenceRecord,
  HistoryRecord,
  LogConfig,
  WitnessStore,
} from './store.js';

const SCHEMA_VERSION = '1';
const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS logs (
  origin TEXT NOT NULL,
  vkey TEXT NOT NULL,
  added_at INTEGER NOT NULL,
  PRIMARY KEY (origin, vkey)
);
CREATE TABLE IF NOT EXISTS latest (
  origin TEXT PRIMARY KEY,
  origin_hash TEXT NOT NULL UNIQUE,
  size INTEGER NOT NULL,
  root BLOB NOT NULL,
  note TEXT NOT NULL,
  timestamp INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS history (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  origin TEXT NOT NULL,
  size INTEGER NOT NULL,
  root BLOB NOT NULL,
  note TEXT NOT NULL,
  timestamp INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS history_origin_size ON history (origin, size);
CREATE TABLE IF NOT EXISTS evidence (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  origin TEXT NOT NULL,
  reason TEXT NOT NULL,
  detail TEXT NOT NULL,
  old_size INTEGER NOT NULL,
  proof TEXT NOT NULL,
  note TEXT NOT NULL,
  stored_size INTEGER,
  stored_root BLOB,
  stored_note TEXT,
  stored_timestamp INTEGER,
  received_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS evidence_origin ON evidence (origin, id);
`;

type Row = Record<string, unknown>;

export class SqliteWitnessStore implements WitnessStore {
  private readonly db: Database.Database;
  private readonly advanceTx: Database.Transaction<
    (expected: { size: number; root: Hash } | null, next: CosignedCheckpoint) => AdvanceResult
  >;
  #releaseLock: (() => void) | null = null;

  /**
   * Opens (creating) the database at path. With `serving`, also takes the
   * server lock beside it (`witness.db` -> `witness.lock`, storage/state-lock.ts)
   * first, so a second witness server on the same state is refused
   * (STORAGE_LOCKED) before anything is written; tools that edit the
   * configuration of a running server (add-log) open without it.
   */
  constructor(path: string, options: { serving?: boolean } = {}) {
    if (options.serving === true) {
      const lockFile = `${path.replace(/\.db$/, '')}.lock`;
      const lock = takeStateLock(lockFile);
      if ('heldBy' in lock) {
        throw new TilelogError(
          'STORAGE_LOCKED',
          `witness: the state ${path} is in use by ${lock.heldBy === null ? 'another process' : lock.heldBy === process.pid ? `this process (pid ${lock.heldBy})` : `process ${lock.heldBy}`}` +
            ` (a running 'tilelog witness serve'?); one witness server per state: stop it first (kill ${lock.heldBy ?? '<pid>'}) or use another --state`,
        );
      }
      this.#releaseLock = lock.release;
    }
    try {
      this.db = openDurableSqlite(path, SCHEMA, (db) => this.checkSchema(db));
    } catch (err) {
      this.#releaseLock?.();
      throw err;
    }
    this.advanceTx = this.db.transaction((expected, next) => this.advanceInTx(expected, next));
  }

  addLog(origin: string, vkey: string): void {
    this.db
      .prepare('INSERT OR IGNORE INTO logs (origin, vkey, added_at) VALUES (?, ?, ?)')
      .run(origin, vkey, Math.floor(Date.now() / 1000));
  }

  removeLog(origin: string, vkey?: string): number {
    const r =
      vkey === undefined
        ? this.db.prepare('DELETE FROM logs WHERE origin = ?').run(origin)
        : this.db.prepare('DELETE FROM logs WHERE origin = ? AND vkey = ?').run(origin, vkey);
    return r.changes;
  }

  listLogs(): LogConfig[] {
    const rows = this.db.prepare('SELECT origin, vkey FROM logs ORDER BY origin, rowid').all() as Row[];
    const out: LogConfig[] = [];
    for (const row of rows) {
      const last = out[out.length - 1];
      if (last !== undefined && last.origin === row.origin) last.keys.push(row.vkey as string);
      else out.push({ origin: row.origin as string, keys: [row.vkey as string] });
    }
    return out;
  }

  logKeys(origin: string): string[] {
    return this.db.prepare('SELECT vkey FROM logs WHERE origin = ? ORDER BY rowid').pluck().all(origin) as string[];
  }

  latest(origin: string): CosignedCheckpoint | null {
    const row = this.db.prepare('SELECT * FROM latest WHERE origin = ?').get(origin) as Row | undefined;
    return row === undefined ? null : cosignedFromRow(row);
  }

  latestByOriginHash(hashHex: string): CosignedCheckpoint | null {
    const row = this.db.prepare('SELECT * FROM latest WHERE origin_hash = ?').get(hashHex) as Row | undefined;
    return row === undefined ? null : cosignedFromRow(row);
  }

  cosignedRoot(origin: string, size: number): Hash | null {
    const root = this.db
      .prepare('SELECT root FROM history WHERE origin = ? AND size = ? LIMIT 1')
      .pluck()
      .get(origin, size) as Buffer | undefined;
    return root === undefined ? null : new Uint8Array(root);
  }

  advance(expected: { size: number; root: Hash } | null, next: CosignedCheckpoint): AdvanceResult {
    // IMMEDIATE: take the write lock before reading, so the read and the
    // write are one atomic step even across processes.
    return this.advanceTx.immediate(expected, next);
  }

  // advanceInTx: the compare-and-swap, then two last-line checks that make a
  // fork impossible whatever the caller verified: never a smaller tree, never
  // a second root for a size in the history.
  private advanceInTx(expected: { size: number; root: Hash } | null, next: CosignedCheckpoint): AdvanceResult {
    const current = this.latest(next.origin);
    const same =
      expected === null
        ? current === null
        : current !== null && current.size === expected.size && hashEqual(current.root, expected.root);
    if (!same) return { ok: false, current };
    if (current !== null && next.size < current.size) {
      throw new TilelogError('WITNESS_INCONSISTENT', `witness store: refusing size ${next.size} after size ${current.size}`);
    }
    const earlier = this.cosignedRoot(next.origin, next.size);
    if (earlier !== null && !hashEqual(earlier, next.root)) {
      throw new TilelogError('WITNESS_INCONSISTENT', `witness store: refusing a second root for size ${next.size}`);
    }
    const root = Buffer.from(next.root);
    this.db
      .prepare(
        `INSERT INTO latest (origin, origin_hash, size, root, note, timestamp) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (origin) DO UPDATE SET size = excluded.size, root = excluded.root,
           note = excluded.note, timestamp = excluded.timestamp`,
      )
      .run(next.origin, originHash(next.origin), next.size, root, next.note, next.timestamp);
    this.db
      .prepare('INSERT INTO history (origin, size, root, note, timestamp) VALUES (?, ?, ?, ?, ?)')
      .run(next.origin, next.size, root, next.note, next.timestamp);
    return { ok: true };
  }

  history(filter: EvidenceFilter = {}): HistoryRecord[] {
    const { sql, params } = filtered('SELECT * FROM history', filter);
    return (this.db.prepare(sql).all(...params) as Row[]).map((row) => ({ id: row.id as number, ...cosignedFromRow(row) }));
  }

  recordEvidence(e: EvidenceInput): void {
    this.db
      .prepare(
        `INSERT INTO evidence (origin, reason, detail, old_size, proof, note,
           stored_size, stored_root, stored_note, stored_timestamp, received_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        e.origin,
        e.reason,
        e.detail,
        e.oldSize,
        e.proof.map(toBase64).join('\n'),
        e.note,
        e.stored?.size ?? null,
        e.stored === null ? null : Buffer.from(e.stored.root),
        e.stored?.note ?? null,
        e.stored?.timestamp ?? null,
        e.receivedAt,
      );
  }

  evidence(filter: EvidenceFilter = {}): EvidenceRecord[] {
    const { sql, params } = filtered('SELECT * FROM evidence', filter);
    return (this.db.prepare(sql).all(...params) as Row[]).map((row) => ({
      id: row.id as number,
      origin: row.origin as string,
      reason: row.reason as EvidenceRecord['reason'],
      detail: row.detail as string,
      oldSize: row.old_size as number,
      proof: row.proof === '' ? [] : (row.proof as string).split('\n').map((l) => fromBase64Strict(l, 32)),
      note: row.note as string,
      stored:
        row.stored_size === null
          ? null
          : {
              origin: row.origin as string,
              size: row.stored_size as number,
              root: new Uint8Array(row.stored_root as Buffer),
              note: row.stored_note as string,
              timestamp: row.stored_timestamp as number,
            },
      receivedAt: row.received_at as number,
    }));
  }

  close(): void {
    if (this.db.open) this.db.close();
    this.#releaseLock?.();
    this.#releaseLock = null;
  }

  private checkSchema(db: Database.Database): void {
    const version = db.prepare("SELECT value FROM meta WHERE key = 'schema'").pluck().get() as string | undefined;
    if (version === undefined) {
      db.prepare("INSERT INTO meta (key, value) VALUES ('schema', ?)").run(SCHEMA_VERSION);
    } else if (version !== SCHEMA_VERSION) {
      throw new TilelogError('WITNESS_CONFIG', `witness store: schema version ${version}, this tilelog reads ${SCHEMA_VERSION}`);
    }
  }
}

function cosignedFromRow(row: Row): CosignedCheckpoint {
  return {
    origin: row.origin as string,
    size: row.size as number,
    root: new Uint8Array(row.root as Buffer),
    note: row.note as string,
    timestamp: row.timestamp as number,
  };
}

// WHERE origin = ? AND id > ? ORDER BY id LIMIT ?, with the limit clamped to [1, 1000].
function filtered(base: string, filter: EvidenceFilter): { sql: string; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.origin !== undefined) {
    where.push('origin = ?');
    params.push(filter.origin);
  }
  if (filter.after !== undefined) {
    where.push('id > ?');
    params.push(filter.after);
  }
  const limit = Math.min(Math.max(filter.limit ?? DEFAULT_LIMIT, 1), MAX_LIMIT);
  params.push(limit);
  return { sql: `${base}${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id LIMIT ?`, params };
}
