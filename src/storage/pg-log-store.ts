// PgLogStore: the SequenceStore and TreeStateStore of one log on PostgreSQL
// (SCALE-OUT.md 3.3-3.6), shared by any number of frontend processes.
//
// - sequence(): ONE statement per batch (tilelog_sequence, pg-schema.ts), an
//   autocommit call: the seq_coord row lock, the duplicate check, the inserts
//   and the COMMIT are one round trip. Repeats inside the batch are mapped to
//   their first occurrence here first (the function needs distinct hashes).
//   The two bytea[] parameters go in PostgreSQL's binary array format.
//   Durable when it resolves (fsync and synchronous_commit on: 3.2). A broken
//   connection rejects with OutcomeUnknownError: "may have been stored".
// - commitState(): one call of tilelog_commit_state, fenced by (epoch,
//   holder): 'lost' changes nothing; a stale expected size, a smaller size or
//   a second root for a size is LOG_FORK, as in SqliteSequenceDB.
// - setGcCursor() is fenced the same way; witness sizes are hints, unfenced.
// - nextIndex() is read from seq_coord each time: other frontends insert.

import { TilelogError } from '../errors.js';
import type { Hash } from '../merkle/hash.js';
import type {
  CheckpointRecord,
  EntryRange,
  Fence,
  PublishedState,
  SequencedEntry,
  SequenceResult,
  SequenceStore,
  TreeState,
  TreeStateStore,
} from './log-store.js';
import { byteaArray } from './pg-binary.js';
import { assignIndexes, planBatch } from './pg-batch-plan.js';
import { openPool, pgTarget, withClient, type PgConnectOptions, type PgPool, type PgPoolClient } from './pg-connect.js';
import { assertSchemaName, inspectSchema, migrate, safeInteger, schemaNameForOrigin } from './pg-schema.js';

export interface PgLogStoreOptions extends PgConnectOptions {
  /** The log's origin; a schema created for another origin is refused. */
  readonly origin: string;
  /** The schema holding this log (default: schemaNameForOrigin(origin)). */
  readonly schema?: string;
  /** Dedup for a new log (default true): a unique leaf-hash index. An existing log keeps what it was created with. */
  readonly dedup?: boolean;
  /**
   * Open an existing log for reading only (audit, reindex): nothing is
   * created or migrated, every transaction is read-only, and a missing
   * schema is LOG_NOT_FOUND.
   */
  readonly readOnly?: boolean;
  /** Told of every sequencing call's timing (measurement: bench/pg-http.bench.ts); null: not measured. */
  readonly onSequenceTiming?: ((t: SequenceTiming) => void) | null;
}

/**
 * One tilelog_sequence call, times in ms since the epoch: the client's clock
 * (sent, received) and the server's (statementStart: the statement arrived;
 * functionEnd: the function returned, before its COMMIT). On one machine both
 * are the same clock: the lock wait is inside [statementStart, functionEnd],
 * the COMMIT (WAL flush) and the way back inside [functionEnd, received].
 */
export interface SequenceTiming {
  readonly entries: number;
  readonly sent: number;
  readonly statementStart: number;
  readonly functionEnd: number;
  readonly received: number;
}

type Row = Record<string, unknown>;

/** The client's limit on creating or migrating the schema at open, ms. */
const MIGRATE_DEADLINE_MS = 120_000;

/** The NOTIFY channel of published checkpoints (every log; the payload names the schema). */
const PUBLISHED_CHANNEL = 'tilelog_published';

export class PgLogStore implements SequenceStore, TreeStateStore {
  readonly origin: string;
  /** The schema of this log. */
  readonly schema: string;
  /** Whether the log was created with dedup (a unique leaf-hash index). */
  readonly dedup: boolean;
  /** user@host:port/database, for messages (no password). */
  readonly target: string;
  readonly #pool: PgPool;
  readonly #connect: PgConnectOptions;
  readonly #onTiming: ((t: SequenceTiming) => void) | null;
  #closed = false;

  private constructor(pool: PgPool, origin: string, schema: string, dedup: boolean, target: string, connect: PgLogStoreOptions) {
    this.#pool = pool;
    this.#connect = connect;
    this.#onTiming = connect.onSequenceTiming ?? null;
    this.origin = origin;
    this.schema = schema;
    this.dedup = dedup;
    this.target = target;
  }

  /** Connects, creates or checks the log's schema, and returns the store. */
  static async open(options: PgLogStoreOptions): Promise<PgLogStore> {
    const schema = options.schema ?? schemaNameForOrigin(options.origin);
    assertSchemaName(schema);
    const target = pgTarget(options.connectionString);
    const pool = await openPool(options, 'tilelog');
    try {
      // Several statements, perhaps waiting for another process's migration: a generous deadline of its own.
      const info = await withClient(
        pool,
        target,
        'opening the log schema',
        options.readOnly !== true,
        async (c) => {
          if (options.readOnly !== true) return migrate(c, { schema, origin: options.origin, dedup: options.dedup ?? true });
          const found = await inspectSchema(c, { schema, origin: options.origin });
          if (found === null) {
            throw new TilelogError('LOG_NOT_FOUND', `postgres: ${target} holds no log ${JSON.stringify(options.origin)} (no schema ${schema})`);
          }
          return found;
        },
        MIGRATE_DEADLINE_MS,
      );
      return new PgLogStore(pool, options.origin, schema, info.dedup, target, options);
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw err;
    }
  }

  async nextIndex(): Promise<number> {
    const row = await this.#one(`SELECT next FROM ${this.schema}.seq_coord WHERE id = 1`, [], 'reading the sequence size');
    return safeInteger(row?.next, 'seq_coord.next');
  }

  async sequence(batch: readonly SequencedEntry[], dedup: boolean): Promise<SequenceResult[]> {
    if (!dedup && this.dedup) {
      throw new TilelogError(
        'LOG_CONFIG',
        `postgres: log ${this.origin} was created with dedup (a unique leaf-hash index) and cannot store duplicates; run it with dedup on`,
      );
    }
    if (batch.length === 0) return [];
    const plan = planBatch(batch, dedup);
    const timed = this.#onTiming !== null;
    const sent = timed ? performance.timeOrigin + performance.now() : 0;
    // A named (prepared) statement: each connection parses, analyses and
    // plans the call once, not once per batch (about an eighth of the
    // server's CPU per call, measured with batches of 16). The pool is this
    // store's own, so the name needs no log in it.
    const rows = await this.#run(
      {
        name: timed ? 'tilelog_sequence_timed' : 'tilelog_sequence',
        text: `SELECT first_index, dup_ord, dup_idx${timed ? TIMING_COLUMNS : ''} FROM ${this.schema}.tilelog_sequence($1::bytea[], $2::bytea[], $3)`,
        values: [byteaArray(plan.hashes), byteaArray(plan.data), dedup],
      },
      `sequencing ${batch.length} entries`,
      true,
    );
    const row = rows[0];
    if (row === undefined) throw new TilelogError('STORAGE_IO', 'postgres: tilelog_sequence returned no row');
    if (timed) {
      const received = performance.timeOrigin + performance.now();
      this.#onTiming!({ entries: batch.length, sent, statementStart: Number(row.t_stmt), functionEnd: Number(row.t_fn), received });
    }
    return assignIndexes(plan, safeInteger(row.first_index, 'first_index'), row.dup_ord, row.dup_idx);
  }

  async readEntries(start: number, end: number): Promise<EntryRange> {
    if (!(Number.isSafeInteger(start) && Number.isSafeInteger(end) && 0 <= start && start <= end)) {
      throw new RangeError(`postgres: [${start}, ${end}) is not a range of indexes`);
    }
    // Text results (hex): pg-protocol 1.x decodes every DataRow field as a
    // UTF-8 string, so binary results would mangle bytea.
    const rows = await this.#query(
      `SELECT data, leaf_hash FROM ${this.schema}.entries WHERE idx >= $1 AND idx < $2 ORDER BY idx`,
      [start, end],
      `reading entries [${start}, ${end})`,
    );
    if (rows.length !== end - start) {
      const size = await this.nextIndex();
      if (end > size) throw new TilelogError('LOG_NOT_FOUND', `postgres: entries [${start}, ${end}) are not all sequenced (size ${size})`);
      throw new TilelogError('LOG_CORRUPT', `postgres: expected ${end - start} entries from ${start}, found ${rows.length}`);
    }
    const entries: Uint8Array[] = new Array(rows.length);
    const leafHashes: Hash[] = new Array(rows.length);
    for (let k = 0; k < rows.length; k++) {
      entries[k] = asUint8(rows[k]!.data as Buffer);
      leafHashes[k] = asUint8(rows[k]!.leaf_hash as Buffer);
    }
    return { entries, leafHashes };
  }

  async entry(index: number): Promise<Uint8Array | null> {
    if (!Number.isSafeInteger(index) || index < 0) return null;
    const row = await this.#one(`SELECT data FROM ${this.schema}.entries WHERE idx = $1`, [index], `reading entry ${index}`);
    return row === undefined ? null : asUint8(row.data as Buffer);
  }

  async lookup(leafHash: Hash): Promise<number | null> {
    const row = await this.#one(
      `SELECT idx FROM ${this.schema}.entries WHERE leaf_hash = $1 ORDER BY idx LIMIT 1`,
      [asBuffer(leafHash)],
      'looking up a leaf hash',
    );
    return row === undefined ? null : safeInteger(row.idx, 'entries.idx');
  }

  async entryBytes(start: number, end: number): Promise<number> {
    const row = await this.#one(
      `SELECT coalesce(sum(octet_length(data)), 0) AS n FROM ${this.schema}.entries WHERE idx >= $1 AND idx < $2`,
      [start, end],
      'summing entry sizes',
    );
    return safeInteger(row?.n, 'entry bytes');
  }

  async sizeForRoot(root: Hash): Promise<number | null> {
    const row = await this.#one(
      `SELECT size FROM ${this.schema}.checkpoints WHERE root = $1 ORDER BY size LIMIT 1`,
      [asBuffer(root)],
      'looking up a root',
    );
    return row === undefined ? null : safeInteger(row.size, 'checkpoints.size');
  }

  async rootForSize(size: number): Promise<Hash | null> {
    if (!Number.isSafeInteger(size) || size < 0) return null;
    const row = await this.#one(`SELECT root FROM ${this.schema}.checkpoints WHERE size = $1`, [size], 'reading a root');
    return row === undefined ? null : asUint8(row.root as Buffer);
  }

  async checkpointHistory(limit: number, maxSize: number): Promise<CheckpointRecord[]> {
    if (!(limit > 0)) return [];
    const rows = await this.#query(
      `SELECT size, root, time FROM ${this.schema}.checkpoints WHERE size <= $1 ORDER BY size DESC LIMIT $2`,
      [Math.min(Math.floor(maxSize), Number.MAX_SAFE_INTEGER), Math.floor(limit)],
      'reading the checkpoint history',
    );
    return rows.reverse().map(checkpointRecord);
  }

  async checkpointsFrom(minSize: number, limit: number): Promise<CheckpointRecord[]> {
    if (!(limit > 0)) return [];
    const rows = await this.#query(
      `SELECT size, root, time FROM ${this.schema}.checkpoints WHERE size >= $1 ORDER BY size LIMIT $2`,
      [Math.max(0, Math.ceil(minSize)), Math.floor(limit)],
      'reading the checkpoint history',
    );
    return rows.map(checkpointRecord);
  }

  async state(): Promise<TreeState | null> {
    const row = await this.#one(
      `SELECT size, root, text, edge, prev_size, prev_edge FROM ${this.schema}.tree_state WHERE id = 1`,
      [],
      'reading the tree state',
    );
    if (row === undefined || row.size === null) return null;
    return {
      size: safeInteger(row.size, 'tree_state.size'),
      root: asUint8(row.root as Buffer),
      text: row.text as string,
      edge: asUint8(row.edge as Buffer),
      prevSize: safeInteger(row.prev_size, 'tree_state.prev_size'),
      prevEdge: asUint8(row.prev_edge as Buffer),
    };
  }

  async commitState(fence: Fence, expectedSize: number | null, next: TreeState): Promise<'ok' | 'lost'> {
    assertSize(next.size, 'next.size');
    if (expectedSize !== null) assertSize(expectedSize, 'expectedSize');
    if (next.root.byteLength !== 32) throw new RangeError('postgres: next.root must be 32 bytes');
    const row = await this.#one(
      `SELECT ${this.schema}.tilelog_commit_state($1, $2, $3, $4, $5, $6, $7, $8, $9) AS outcome`,
      [fence.epoch, fence.holder, expectedSize, next.size, asBuffer(next.root), next.text, asBuffer(next.edge), next.prevSize, asBuffer(next.prevEdge)],
      `committing the tree state at size ${next.size}`,
      true,
    );
    const outcome = String(row?.outcome);
    if (outcome === 'ok' || outcome === 'lost') return outcome;
    // No fork: the function refused before writing anything.
    if (outcome.startsWith('stale:')) {
      throw new TilelogError(
        'LOG_FORK',
        `postgres: tree state changed underneath (expected size ${expectedSize}, found ${outcome.slice(6)}); is another signer running this log with the same epoch?`,
      );
    }
    if (outcome.startsWith('smaller:')) {
      throw new TilelogError('LOG_FORK', `postgres: refusing to sign size ${next.size} after size ${outcome.slice(8)}`);
    }
    if (outcome === 'fork') throw new TilelogError('LOG_FORK', `postgres: refusing a second root for size ${next.size}`);
    throw new TilelogError('STORAGE_IO', `postgres: tilelog_commit_state answered ${JSON.stringify(outcome)}`);
  }

  async published(): Promise<PublishedState | null> {
    const row = await this.#one(
      `SELECT published_size, published_text, published_etag FROM ${this.schema}.tree_state WHERE id = 1`,
      [],
      'reading the published checkpoint',
    );
    if (row === undefined || row.published_text === null || row.published_text === undefined) return null;
    return {
      size: safeInteger(row.published_size, 'tree_state.published_size'),
      text: String(row.published_text),
      etag: row.published_etag === null ? null : String(row.published_etag),
    };
  }

  async setPublished(fence: Fence, p: PublishedState): Promise<'ok' | 'lost'> {
    assertSize(p.size, 'published size');
    // Fenced like every signer write; published_size never moves back (a
    // smaller p matches the fence but not the size: not 'lost').
    // The NOTIFY is sent at COMMIT, so listeners never hear of a state they cannot read yet.
    const rows = await this.#query(
      `WITH u AS (
         UPDATE ${this.schema}.tree_state
            SET published_size = $1, published_text = $2, published_etag = $3
          WHERE id = 1 AND epoch = $4 AND leader = $5 AND published_size <= $1
         RETURNING id)
       SELECT id, pg_notify('${PUBLISHED_CHANNEL}', $6) FROM u`,
      [p.size, p.text, p.etag, fence.epoch, fence.holder, `${this.schema} ${p.size}`],
      `recording the published checkpoint at size ${p.size}`,
      true,
    );
    if (rows.length === 1) return 'ok';
    const held = await this.#one(`SELECT 1 FROM ${this.schema}.tree_state WHERE id = 1 AND epoch = $1 AND leader = $2`, [fence.epoch, fence.holder], 'reading the lease');
    return held === undefined ? 'lost' : 'ok';
  }

  // watchPublished: one dedicated connection LISTENing on the channel every
  // log's setPublished notifies (payload "<schema> <size>"); this log's
  // notifications call onChange. A broken connection is reopened after a
  // second; what was missed meanwhile the caller's polling finds.
  async watchPublished(onChange: () => void): Promise<() => Promise<void>> {
    const pool = await openPool({ ...this.#connect, poolSize: 1, statementTimeoutMs: 0 }, 'tilelog-listen');
    let stopped = false;
    let client: PgPoolClient | null = null;
    let retry: NodeJS.Timeout | undefined;
    const prefix = `${this.schema} `;
    const onNotification = (msg: { channel: string; payload?: string }): void => {
      if (msg.channel === PUBLISHED_CHANNEL && msg.payload?.startsWith(prefix) === true) onChange();
    };
    const listen = async (): Promise<void> => {
      if (stopped) return;
      try {
        const c = await pool.connect();
        c.on('notification', onNotification);
        c.on('error', (err: Error) => {
          c.release(err);
          if (client === c) client = null;
          if (!stopped) retry = setTimeout(() => void listen(), 1000);
        });
        await c.query(`LISTEN ${PUBLISHED_CHANNEL}`);
        client = c;
        if (stopped) c.release();
      } catch {
        if (!stopped) retry = setTimeout(() => void listen(), 1000);
      }
    };
    await listen();
    return async () => {
      stopped = true;
      clearTimeout(retry);
      client?.release();
      client = null;
      await pool.end().catch(() => undefined);
    };
  }

  async gcCursor(): Promise<number> {
    const row = await this.#one(`SELECT gc_cursor FROM ${this.schema}.tree_state WHERE id = 1`, [], 'reading the gc cursor');
    return row === undefined ? 0 : safeInteger(row.gc_cursor, 'tree_state.gc_cursor');
  }

  async setGcCursor(fence: Fence, size: number): Promise<'ok' | 'lost'> {
    assertSize(size, 'gc cursor');
    const rows = await this.#query(
      `UPDATE ${this.schema}.tree_state SET gc_cursor = $1 WHERE id = 1 AND epoch = $2 AND leader = $3 RETURNING id`,
      [size, fence.epoch, fence.holder],
      'moving the gc cursor',
      true,
    );
    return rows.length === 1 ? 'ok' : 'lost';
  }

  async witnessSize(witness: string): Promise<number | null> {
    const row = await this.#one(`SELECT size FROM ${this.schema}.witness_sizes WHERE witness = $1`, [witness], 'reading a witness size');
    return row === undefined ? null : safeInteger(row.size, 'witness_sizes.size');
  }

  async setWitnessSize(witness: string, size: number): Promise<void> {
    assertSize(size, 'witness size');
    await this.#query(
      `INSERT INTO ${this.schema}.witness_sizes (witness, size) VALUES ($1, $2)
       ON CONFLICT (witness) DO UPDATE SET size = excluded.size`,
      [witness, size],
      'remembering a witness size',
      true,
    );
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }

  async #one(text: string, values: unknown[], what: string, write = false): Promise<Row | undefined> {
    return (await this.#query(text, values, what, write))[0];
  }

  #query(text: string, values: unknown[], what: string, write = false): Promise<Row[]> {
    return this.#run({ text, values }, what, write);
  }

  async #run(config: { name?: string; text: string; values: unknown[] }, what: string, write = false): Promise<Row[]> {
    if (this.#closed) throw new TilelogError('LOG_CLOSED', `postgres: the store of ${this.origin} is closed`);
    return withClient(this.#pool, this.target, what, write, async (c: PgPoolClient) => (await c.query(config)).rows as Row[]);
  }
}

// The server's clock around a sequencing call, ms since the epoch: the
// function in FROM runs to completion before the select list is computed, so
// clock_timestamp() there is its end (before the COMMIT).
const TIMING_COLUMNS =
  ', extract(epoch FROM statement_timestamp()) * 1000 AS t_stmt, extract(epoch FROM clock_timestamp()) * 1000 AS t_fn';

/** Opens (creating if needed) the PostgreSQL store of one log. */
export function openPgLogStore(options: PgLogStoreOptions): Promise<PgLogStore> {
  return PgLogStore.open(options);
}

function checkpointRecord(row: Row): CheckpointRecord {
  const time = row.time instanceof Date ? row.time.getTime() : null;
  return { size: safeInteger(row.size, 'checkpoints.size'), root: asUint8(row.root as Buffer), time };
}

function assertSize(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`postgres: ${what} ${n} is not a size`);
}

function asBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

function asUint8(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}
