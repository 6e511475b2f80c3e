// The registry's state index: a SQLite file derived from the log alone.
// Every leaf of the log, in index order, goes through apply(): leaves that
// do not decode as registry entries or break a rule (rules.ts) are recorded
// as skipped and change nothing; the others move their subject's head.
// Deleting the file and replaying the log from index 0 gives the same
// tables (test/registry/state-index.test.ts compares dumps).
//
// The index is not trusted state: it holds nothing the log does not. Its
// durability is relaxed (synchronous=NORMAL): after a crash it may lag the
// log, and catch-up (registry.ts) replays the missing leaves.

import Database from 'better-sqlite3';
import { TilelogError } from '../errors.js';
import { decodeEntry, keyIdOf, type Entry } from './entries/envelope.js';
import type { AgentBody } from './entries/schema.js';
import { certStatusOf, subjectKind } from './cert-rules.js';
import { isCertType, type CertObservedBody } from './entries/cert-schema.js';
import { checkTransition, statusOf, type AgentStatus, type StateView, type SubjectHead } from './rules.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS subjects (
  subject TEXT PRIMARY KEY,
  kind TEXT NOT NULL,            -- 'agent' | 'key' | 'cert' | 'ca' | 'observed' (cert-rules.ts)
  seq INTEGER NOT NULL,
  head BLOB NOT NULL,            -- leaf hash of the head entry
  head_index INTEGER NOT NULL,
  head_entry BLOB NOT NULL,      -- the head entry's bytes
  time INTEGER NOT NULL,
  status TEXT NOT NULL,          -- agents: active | deprecated | revoked; keys: active | revoked
  owner TEXT,
  alias TEXT UNIQUE,
  created_index INTEGER NOT NULL,
  created_time INTEGER NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS subjects_owner ON subjects (owner, subject);
CREATE INDEX IF NOT EXISTS subjects_status ON subjects (status, subject);
CREATE TABLE IF NOT EXISTS capabilities (
  capability TEXT NOT NULL, subject TEXT NOT NULL, PRIMARY KEY (capability, subject)
) STRICT;
CREATE TABLE IF NOT EXISTS keys (
  kid TEXT PRIMARY KEY, public_key BLOB NOT NULL, label TEXT NOT NULL,
  status TEXT NOT NULL, added_index INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS outcomes (
  idx INTEGER PRIMARY KEY, leaf BLOB NOT NULL, subject TEXT, applied INTEGER NOT NULL, reason TEXT
) STRICT;
`;

/** One agent as the index knows it. */
export interface AgentState {
  name: string;
  status: AgentStatus;
  seq: number;
  /** Log index and leaf hash of the entry that set the current record. */
  headIndex: number;
  leafHash: Uint8Array;
  entry: Entry & { body: AgentBody };
  createdIndex: number;
  createdTime: number;
}

export interface SubmitterKeyState {
  kid: string;
  publicKey: Uint8Array;
  label: string;
  status: 'active' | 'revoked';
  addedIndex: number;
}

export interface Outcome {
  index: number;
  leafHash: Uint8Array;
  subject: string | null;
  applied: boolean;
  /** Why a leaf changed nothing (not an entry, or the rule it broke). */
  reason: string | null;
}

/** A cert.observed entry as the index holds it. */
export interface ObservedCertificate {
  index: number;
  leafHash: Uint8Array;
  entry: Entry & { type: 'cert.observed'; body: CertObservedBody };
}

type ObservedRow = { head_index: number; head: Buffer; head_entry: Buffer };
const observedOf = (r: ObservedRow): ObservedCertificate => ({
  index: r.head_index,
  leafHash: u8(r.head),
  entry: decodeEntry(u8(r.head_entry)) as ObservedCertificate['entry'],
});

export interface AgentFilter {
  owner?: string;
  status?: AgentStatus;
  capability?: string;
  /** Keyset pagination: names strictly after this one. */
  after?: string;
  limit: number;
}

export class StateIndex implements StateView {
  readonly #db: Database.Database;
  // Prepared once per SQL text: preparing on every call was a tenth of a
  // registry write's CPU (bench/registry.bench.ts). Only fixed SQL texts go here.
  readonly #stmts = new Map<string, Database.Statement>();
  readonly origin: string;

  /** Opens (creating) the index at path for the log with this origin; ':memory:' for tests. */
  constructor(path: string, origin: string) {
    this.#db = new Database(path);
    try {
      this.#db.pragma('journal_mode = WAL');
      this.#db.pragma('synchronous = NORMAL');
      this.#db.exec(SCHEMA);
      const stored = this.#meta('origin');
      if (stored === null) this.#setMeta('origin', origin);
      else if (stored !== origin) {
        throw new TilelogError('REGISTRY_CONFIG', `registry: the index at ${path} belongs to log ${stored}, not ${origin}; delete it to rebuild`);
      }
    } catch (err) {
      this.#db.close();
      throw err;
    }
    this.origin = origin;
  }

  close(): void {
    this.#db.close();
  }

  #sql(text: string): Database.Statement {
    let st = this.#stmts.get(text);
    if (st === undefined) this.#stmts.set(text, (st = this.#db.prepare(text)));
    return st;
  }

  /**
   * Applies leaves [start, start + leaves.length) in order, in one
   * transaction (one WAL commit instead of one per leaf); the same fold as
   * apply(), leaf by leaf. verified[k]: see apply().
   */
  applyAll(start: number, leaves: readonly Uint8Array[], leafHashes: readonly Uint8Array[], verified: readonly boolean[] = []): Outcome[] {
    return this.#db.transaction(() => leaves.map((leaf, k) => this.apply(start + k, leaf, leafHashes[k]!, { signatureVerified: verified[k] === true })))();
  }

  /** The next log index to apply (all of [0, nextIndex) are applied). */
  get nextIndex(): number {
    return Number(this.#meta('next_index') ?? '0');
  }

  /**
   * Applies the leaf at index (must be nextIndex) in one transaction and
   * returns its outcome. A leaf that is not an entry or breaks a rule is
   * recorded as skipped. Throws only on a wrong index or an I/O failure.
   * signatureVerified: see checkTransition (only for these exact leaf bytes).
   */
  apply(index: number, leaf: Uint8Array, leafHash: Uint8Array, o: { signatureVerified?: boolean } = {}): Outcome {
    if (index !== this.nextIndex) throw new Error(`registry: bad math: apply(${index}) but the index is at ${this.nextIndex}`);
    return this.#db.transaction(() => {
      let outcome: Outcome;
      let entry: Entry | null = null;
      try {
        entry = decodeEntry(leaf);
        checkTransition(this, entry, o);
        this.#write(index, entry, leaf, leafHash);
        outcome = { index, leafHash, subject: entry.subject, applied: true, reason: null };
      } catch (err) {
        if (!(err instanceof TilelogError)) throw err;
        outcome = { index, leafHash, subject: entry?.subject ?? null, applied: false, reason: `${err.code}: ${err.message}` };
      }
      this.#sql('INSERT INTO outcomes (idx, leaf, subject, applied, reason) VALUES (?, ?, ?, ?, ?)')
        .run(index, leafHash, outcome.subject, outcome.applied ? 1 : 0, outcome.reason);
      this.#setMeta('next_index', String(index + 1));
      return outcome;
    })();
  }

  #write(index: number, e: Entry, leaf: Uint8Array, leafHash: Uint8Array): void {
    const db = this.#db;
    const kind = subjectKind(e.type);
    const isKey = kind === 'key';
    const status = isKey ? (e.type === 'key.added' ? 'active' : 'revoked') : isCertType(e.type) ? certStatusOf(e.type) : statusOf(e.type);
    if (e.seq === 0) {
      const owner = kind === 'agent' ? (e.body as AgentBody).owner : null;
      const alias = kind === 'agent' ? ((e.body as AgentBody).alias ?? null) : null;
      this.#sql(
        `INSERT INTO subjects (subject, kind, seq, head, head_index, head_entry, time, status, owner, alias, created_index, created_time)
         VALUES (?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(e.subject, kind, leafHash, index, leaf, e.time, status, owner, alias, index, e.time);
    } else {
      this.#sql('UPDATE subjects SET seq = ?, head = ?, head_index = ?, head_entry = ?, time = ?, status = ? WHERE subject = ?').run(
        e.seq,
        leafHash,
        index,
        leaf,
        e.time,
        status,
        e.subject,
      );
    }
    if (e.type === 'key.added') {
      this.#sql('INSERT INTO keys (kid, public_key, label, status, added_index) VALUES (?, ?, ?, ?, ?)').run(
        keyIdOf(e.body.publicKey),
        e.body.publicKey,
        e.body.label,
        'active',
        index,
      );
    } else if (e.type === 'key.revoked') {
      this.#sql("UPDATE keys SET status = 'revoked' WHERE kid = ?").run(e.subject.slice('key:'.length));
    } else if (kind === 'agent' && e.seq === 0) {
      const ins = this.#sql('INSERT INTO capabilities (capability, subject) VALUES (?, ?)');
      for (const c of (e.body as AgentBody).capabilities) ins.run(c, e.subject);
    } else if (e.type === 'agent.updated') {
      this.#sql('DELETE FROM capabilities WHERE subject = ?').run(e.subject);
      const ins = this.#sql('INSERT INTO capabilities (capability, subject) VALUES (?, ?)');
      for (const c of e.body.capabilities) ins.run(c, e.subject);
    }
  }

  // ---- StateView (rules.ts) ----

  head(subject: string): SubjectHead | null {
    const row = this.#sql('SELECT seq, head, time, head_entry FROM subjects WHERE subject = ?').get(subject) as
      | { seq: number; head: Buffer; time: number; head_entry: Buffer }
      | undefined;
    if (row === undefined) return null;
    return { seq: row.seq, leafHash: u8(row.head), time: row.time, entry: decodeEntry(u8(row.head_entry)) };
  }

  keyCount(): number {
    return this.#sql('SELECT count(*) FROM keys').pluck().get() as number;
  }

  activeKeyCount(): number {
    return this.#sql("SELECT count(*) FROM keys WHERE status = 'active'").pluck().get() as number;
  }

  key(kid: string): { publicKey: Uint8Array; active: boolean } | null {
    const row = this.#sql('SELECT public_key, status FROM keys WHERE kid = ?').get(kid) as { public_key: Buffer; status: string } | undefined;
    return row === undefined ? null : { publicKey: u8(row.public_key), active: row.status === 'active' };
  }

  aliasHolder(alias: string): string | null {
    return (this.#sql('SELECT subject FROM subjects WHERE alias = ?').pluck().get(alias) as string | undefined) ?? null;
  }

  // ---- queries ----

  agent(name: string): AgentState | null {
    const row = this.#sql("SELECT * FROM subjects WHERE subject = ? AND kind = 'agent'").get(name) as SubjectRow | undefined;
    return row === undefined ? null : agentOf(row);
  }

  /** An observed certificate (cert.observed) by subject observed:<hex>, or null. */
  observedCertificate(subject: string): ObservedCertificate | null {
    const row = this.#sql("SELECT head_index, head, head_entry FROM subjects WHERE subject = ? AND kind = 'observed'").get(subject) as ObservedRow | undefined;
    return row === undefined ? null : observedOf(row);
  }

  /** Every observed certificate, in log order (TLSA records filter them by host and validity). */
  observedCertificates(): ObservedCertificate[] {
    const rows = this.#sql("SELECT head_index, head, head_entry FROM subjects WHERE kind = 'observed' ORDER BY head_index").all() as ObservedRow[];
    return rows.map(observedOf);
  }

  agents(f: AgentFilter): AgentState[] {
    const where: string[] = ["s.kind = 'agent'"];
    const args: unknown[] = [];
    if (f.owner !== undefined) (where.push('s.owner = ?'), args.push(f.owner));
    if (f.status !== undefined) (where.push('s.status = ?'), args.push(f.status));
    if (f.capability !== undefined) (where.push('s.subject IN (SELECT subject FROM capabilities WHERE capability = ?)'), args.push(f.capability));
    if (f.after !== undefined) (where.push('s.subject > ?'), args.push(f.after));
    const rows = this.#db
      .prepare(`SELECT s.* FROM subjects s WHERE ${where.join(' AND ')} ORDER BY s.subject LIMIT ?`)
      .all(...args, f.limit) as SubjectRow[];
    return rows.map(agentOf);
  }

  keys(): SubmitterKeyState[] {
    const rows = this.#sql('SELECT * FROM keys ORDER BY added_index').all() as {
      kid: string;
      public_key: Buffer;
      label: string;
      status: 'active' | 'revoked';
      added_index: number;
    }[];
    return rows.map((r) => ({ kid: r.kid, publicKey: u8(r.public_key), label: r.label, status: r.status, addedIndex: r.added_index }));
  }

  /** Log indexes of every applied key.added and key.revoked, ascending (GET /v1/registry/keys). */
  keyEntryIndexes(): number[] {
    const rows = this.#sql("SELECT created_index AS a, CASE WHEN seq > 0 THEN head_index END AS r FROM subjects WHERE kind = 'key'").all() as { a: number; r: number | null }[];
    return rows.flatMap((x) => (x.r === null ? [x.a] : [x.a, x.r])).sort((a, b) => a - b);
  }

  outcome(index: number): Outcome | null {
    const r = this.#sql('SELECT * FROM outcomes WHERE idx = ?').get(index) as
      | { idx: number; leaf: Buffer; subject: string | null; applied: number; reason: string | null }
      | undefined;
    return r === undefined ? null : { index: r.idx, leafHash: u8(r.leaf), subject: r.subject, applied: r.applied === 1, reason: r.reason };
  }

  /** Every table as plain rows in a fixed order (tests compare a rebuilt index with this). */
  dump(): Record<string, unknown[]> {
    const all = (sql: string) => this.#db.prepare(sql).all();
    return {
      meta: all('SELECT * FROM meta ORDER BY k'),
      subjects: all('SELECT * FROM subjects ORDER BY subject'),
      capabilities: all('SELECT * FROM capabilities ORDER BY capability, subject'),
      keys: all('SELECT * FROM keys ORDER BY kid'),
      outcomes: all('SELECT * FROM outcomes ORDER BY idx'),
    };
  }

  #meta(k: string): string | null {
    return (this.#sql('SELECT v FROM meta WHERE k = ?').pluck().get(k) as string | undefined) ?? null;
  }

  #setMeta(k: string, v: string): void {
    this.#sql('INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v').run(k, v);
  }
}

interface SubjectRow {
  subject: string;
  seq: number;
  head: Buffer;
  head_index: number;
  head_entry: Buffer;
  status: AgentStatus;
  created_index: number;
  created_time: number;
}

function agentOf(r: SubjectRow): AgentState {
  return {
    name: r.subject,
    status: r.status,
    seq: r.seq,
    headIndex: r.head_index,
    leafHash: u8(r.head),
    entry: decodeEntry(u8(r.head_entry)) as AgentState['entry'],
    createdIndex: r.created_index,
    createdTime: r.created_time,
  };
}

const u8 = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength).slice();
