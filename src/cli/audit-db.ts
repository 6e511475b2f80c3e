// `tilelog audit --db`: the database's side of an audit. Besides the public
// tree (audit.ts), it checks that the trusted state in PostgreSQL and the
// bucket tell one story:
//
//   - the bucket's checkpoint is not ahead of the database's signed state
//     (a rolled-back database, or one of another bucket), and the database
//     recorded the same root for its size;
//   - the database's signed checkpoint (tree_state) opens (with --log-key:
//     verifies) and names the size and root of its row; the tree is then
//     recomputed from the bundles up to THAT size (tiles for every signed
//     size exist: they are written before the state is committed), so every
//     entry the database holds up to its signed size is checked, and the
//     recomputed root must be its signed root;
//   - each entry in [0, signed size) is byte-identical in the database and
//     in the bundle, with the same leaf hash;
//   - the root of the bucket's checkpoint is recomputed from the same leaves
//     (RootAccumulator), when the signed size is beyond it.
// Everything is read with a read-only store (db-option.ts): no lease, no write.

import { hashEqual, nodeHash, type Hash } from '../merkle/index.js';
import type { Checkpoint } from '../note/index.js';
import type { PgLogStore } from '../storage/pg-log-store.js';
import type { Mismatch } from './audit-tree.js';
import { explainDbError, openLogStoreReadOnly, type Sourced } from './db-option.js';
import { formatHash } from './hash-text.js';
import { openLogCheckpoint } from './trust.js';

/** What the audit reports about the database. */
export interface DbAuditSummary {
  /** user@host:port/database (no password). */
  target: string;
  schema: string;
  /** The database's signed size (null: it never signed). */
  signedSize: number | null;
  /** The public checkpoint's size as the database last recorded it. */
  publishedSize: number;
  /** Durable entries (sequenced, signed or not). */
  sequenced: number;
  /** Entries compared byte for byte with the bundles. */
  entriesCompared: number;
}

/** The tree the audit recomputes: its size and the root it must have. */
export interface AuditTarget {
  size: number;
  root: Hash;
}

/** At most this many database mismatches are listed (the first ones tell the story). */
const MAX_DB_MISMATCHES = 20;

export class DbAudit {
  readonly mismatches: Mismatch[] = [];
  readonly summary: DbAuditSummary;
  readonly #store: PgLogStore;
  readonly #db: Sourced;
  readonly #signed: { size: number; root: Hash; text: string } | null;
  #publicAt: RootAccumulator | null = null;
  #missingReported = false;

  private constructor(store: PgLogStore, db: Sourced, signed: { size: number; root: Hash; text: string } | null, publishedSize: number, sequenced: number) {
    this.#store = store;
    this.#db = db;
    this.#signed = signed;
    this.summary = { target: store.target, schema: store.schema, signedSize: signed?.size ?? null, publishedSize, sequenced, entriesCompared: 0 };
  }

  /** Opens the log's store read-only and reads its state. */
  static async open(db: Sourced, origin: string): Promise<DbAudit> {
    const store = await openLogStoreReadOnly(db, origin);
    try {
      const [state, published, sequenced] = await Promise.all([store.state(), store.published(), store.nextIndex()]);
      return new DbAudit(store, db, state, published?.size ?? 0, sequenced);
    } catch (err) {
      await store.close().catch(() => undefined);
      throw explainDbError(err, db, origin);
    }
  }

  /**
   * Compares the database's state with the bucket's checkpoint and returns
   * the tree to recompute: the database's signed tree when it is at or
   * beyond the bucket's (else the bucket's, with the mismatch recorded).
   */
  async plan(pub: Checkpoint, vkey: string | undefined): Promise<AuditTarget> {
    const signed = this.#signed;
    const s = this.summary;
    if (s.sequenced < (signed?.size ?? 0)) this.#add('database', `${s.sequenced} entries sequenced, fewer than the signed size ${signed!.size}`);
    if (s.publishedSize > pub.size) {
      this.#add('checkpoint', `size ${pub.size}, behind the size ${s.publishedSize} the database recorded as published: the bucket was rolled back`);
    }
    if (signed === null || signed.size < pub.size) {
      this.#add(
        'database',
        `${signed === null ? 'no signed state' : `signed size ${signed.size}`}, behind the bucket's checkpoint (size ${pub.size}): ` +
          'the database was rolled back, or belongs to another bucket',
      );
      return { size: pub.size, root: pub.root };
    }
    let opened: Checkpoint;
    try {
      opened = openLogCheckpoint(signed.text, vkey, pub.origin).checkpoint;
    } catch (err) {
      this.#add('database', `its signed checkpoint does not open: ${(err as Error).message}`);
      return { size: pub.size, root: pub.root };
    }
    if (opened.size !== signed.size || !hashEqual(opened.root, signed.root)) {
      this.#add('database', `its signed checkpoint says size ${opened.size} root ${formatHash(opened.root)}, its state size ${signed.size} root ${formatHash(signed.root)}`);
    }
    const recorded = await this.#read(() => this.#store.rootForSize(pub.size));
    if (recorded === null || !hashEqual(recorded, pub.root)) {
      this.#add('database', `recorded ${recorded === null ? 'no root' : `root ${formatHash(recorded)}`} for size ${pub.size}, the bucket's checkpoint has ${formatHash(pub.root)}`);
    }
    if (pub.size > 0 && pub.size < signed.size) this.#publicAt = new RootAccumulator(pub.size, pub.root);
    return { size: signed.size, root: signed.root };
  }

  /** Entries [start, start + entries.length) of a bundle: the database must hold the same bytes and leaf hashes. */
  async bundle(start: number, entries: readonly Uint8Array[], hashes: readonly Hash[]): Promise<void> {
    this.#publicAt?.add(hashes);
    const end = start + entries.length;
    const available = Math.min(end, this.summary.sequenced);
    if (available < end && !this.#missingReported) {
      this.#missingReported = true;
      this.#add('database', `entries from ${available} are missing (the bundles hold ${end} and more)`);
    }
    if (available <= start) return;
    const stored = await this.#read(() => this.#store.readEntries(start, available));
    for (let k = 0; k < available - start; k++) {
      if (!bytesEqual(stored.entries[k]!, entries[k]!)) {
        this.#add('database', `entry ${start + k} differs from the one in its bundle`);
        break;
      }
      if (!hashEqual(stored.leafHashes[k]!, hashes[k]!)) {
        this.#add('database', `leaf hash ${start + k} differs from the hash of its entry`);
        break;
      }
    }
    this.summary.entriesCompared += available - start;
  }

  /** After the last bundle: the bucket's checkpoint root, recomputed when the signed tree was the one audited. */
  finish(): void {
    const acc = this.#publicAt;
    if (acc === null) return;
    const root = acc.root();
    if (root === null || !hashEqual(root, acc.expected)) {
      this.#add('checkpoint', `root ${formatHash(acc.expected)} differs from the ${root === null ? '?' : formatHash(root)} recomputed from the first ${acc.size} entries`);
    }
  }

  close(): Promise<void> {
    return this.#store.close();
  }

  async #read<T>(f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (err) {
      throw explainDbError(err, this.#db, this.#store.origin);
    }
  }

  #add(path: string, problem: string): void {
    if (this.mismatches.length < MAX_DB_MISMATCHES) this.mismatches.push({ path: `${path === 'database' ? `database ${this.#store.target}` : path}`, problem });
  }
}

/**
 * The RFC 6962 root of the first `size` leaves, fed in order in any chunks:
 * a stack of perfect subtrees whose sizes are the binary digits of the count
 * so far (at most 53 hashes); the root folds them right to left, as
 * audit-tree.ts finish() does.
 */
export class RootAccumulator {
  readonly size: number;
  readonly expected: Hash;
  readonly #stack: { hash: Hash; count: number }[] = [];
  #count = 0;

  constructor(size: number, expected: Hash) {
    this.size = size;
    this.expected = expected;
  }

  add(hashes: readonly Hash[]): void {
    for (const h of hashes) {
      if (this.#count >= this.size) return;
      let node = { hash: h, count: 1 };
      while (this.#stack.length > 0 && this.#stack[this.#stack.length - 1]!.count === node.count) {
        const left = this.#stack.pop()!;
        node = { hash: nodeHash(left.hash, node.hash), count: left.count * 2 };
      }
      this.#stack.push(node);
      this.#count++;
    }
  }

  /** The root once size leaves came in; null before (or for size 0, where the audit has nothing to fold). */
  root(): Hash | null {
    if (this.#count < this.size || this.#stack.length === 0) return null;
    let root = this.#stack[this.#stack.length - 1]!.hash;
    for (let i = this.#stack.length - 2; i >= 0; i--) root = nodeHash(this.#stack[i]!.hash, root);
    return root;
  }
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}
