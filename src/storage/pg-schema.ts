// The PostgreSQL schema of one log (SCALE-OUT.md 3.3, 3.4, 3.6), created and
// migrated by the server. One schema per log, named from the origin:
//
//   meta(key, value)              origin, schema version, dedup ('on'/'off')
//   seq_coord(one row: next)      the next index; the one row every frontend
//                                 locks, once per batch
//   entries(idx PK, leaf_hash, data)
//                                 the durable sequence, dense from 0; never
//                                 updated or deleted. leaf_hash index UNIQUE
//                                 when the log deduplicates (fixed at creation)
//   tree_state(one row)           the signed state (size NULL: never signed),
//                                 the lease (epoch, leader, lease_expires: the
//                                 database clock only), published_* (what the
//                                 bucket's checkpoint holds) and gc_cursor
//   checkpoints(size PK, root, time)
//                                 every signed (size, root): the fork guard
//   witness_sizes(witness PK, size)
//
// and two functions, each one round trip:
//   tilelog_sequence(hashes bytea[], data bytea[], dedup)  assigns indexes
//     under the seq_coord row lock; duplicates are found under the same lock,
//     so dedup is exact across frontends. Input hashes must be distinct.
//   tilelog_commit_state(epoch, holder, expected, size, root, text, edge, prev_size, prev_edge)
//     the fenced compare-and-swap: 'lost' when the fence does not hold (and
//     nothing changed), 'stale' / 'smaller' / 'fork' for the LOG_FORK cases.
//
// Migrations run in one transaction under an advisory lock on the schema
// name, so two processes opening a new log at once create it once.

import { createHash } from 'node:crypto';
import { TilelogError } from '../errors.js';

/** The version this code writes and understands. */
export const PG_SCHEMA_VERSION = 1;

/** The largest index or size tilelog handles (JavaScript's safe integers). */
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** A query function: the subset of a pg client the migration needs. */
export interface PgQueryable {
  query(text: string, values?: unknown[]): Promise<{ rows: Record<string, unknown>[]; rowCount: number | null }>;
}

// safeInteger(value, what): a bigint column (a string from pg, or a number)
// as a JavaScript number in [0, 2^53 - 1]; anything else is LOG_CORRUPT.
export function safeInteger(value: unknown, what: string): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d{1,16}$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < 0 || n > MAX_SAFE) {
    throw new TilelogError('LOG_CORRUPT', `postgres: ${what} ${JSON.stringify(value)} is not an integer in [0, 2^53-1]`);
  }
  return n;
}

// schemaNameForOrigin(origin): "log_" + up to 40 characters of the origin
// folded to [a-z0-9_] + "_" + 10 hex digits of SHA-256(origin). The hash keeps
// two origins that fold alike apart; the result is at most 55 bytes (< 63,
// PostgreSQL's identifier limit) and needs no quoting.
export function schemaNameForOrigin(origin: string): string {
  const slug = origin
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 40);
  const digest = createHash('sha256').update(origin, 'utf8').digest('hex').slice(0, 10);
  return `log_${slug}${slug === '' ? '' : '_'}${digest}`;
}

/** Refuses a schema name that would need quoting or exceeds 63 bytes (LOG_CONFIG). */
export function assertSchemaName(name: string): void {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name) || name.startsWith('pg_')) {
    throw new TilelogError(
      'LOG_CONFIG',
      `postgres: schema name ${JSON.stringify(name)} must be 1-63 characters of a-z, 0-9 and _ (not starting with a digit or pg_)`,
    );
  }
}

// The tables and functions of version 1, in schema S (already validated).
function schemaV1(s: string, dedup: boolean): string {
  return `
CREATE TABLE ${s}.meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE ${s}.seq_coord (
  id   smallint PRIMARY KEY CHECK (id = 1),
  next bigint   NOT NULL CHECK (next >= 0 AND next <= ${MAX_SAFE})
);
INSERT INTO ${s}.seq_coord (id, next) VALUES (1, 0);
CREATE TABLE ${s}.entries (
  idx       bigint PRIMARY KEY CHECK (idx >= 0),
  leaf_hash bytea  NOT NULL CHECK (length(leaf_hash) = 32),
  data      bytea  NOT NULL CHECK (length(data) BETWEEN 1 AND 65535)
) WITH (fillfactor = 100);
CREATE ${dedup ? 'UNIQUE ' : ''}INDEX entries_leaf_hash ON ${s}.entries (leaf_hash);
CREATE TABLE ${s}.tree_state (
  id             smallint PRIMARY KEY CHECK (id = 1),
  size           bigint CHECK (size >= 0),
  root           bytea,
  text           text,
  edge           bytea,
  prev_size      bigint,
  prev_edge      bytea,
  epoch          bigint NOT NULL DEFAULT 0,
  leader         text,
  lease_expires  timestamptz,
  published_size bigint NOT NULL DEFAULT 0,
  published_text text,
  published_etag text,
  gc_cursor      bigint NOT NULL DEFAULT 0 CHECK (gc_cursor >= 0),
  CHECK ((size IS NULL) = (root IS NULL) AND (size IS NULL) = (text IS NULL) AND (size IS NULL) = (edge IS NULL)
     AND (size IS NULL) = (prev_size IS NULL) AND (size IS NULL) = (prev_edge IS NULL))
);
INSERT INTO ${s}.tree_state (id) VALUES (1);
CREATE TABLE ${s}.checkpoints (
  size bigint PRIMARY KEY CHECK (size >= 0),
  root bytea NOT NULL CHECK (length(root) = 32),
  time timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX checkpoints_root ON ${s}.checkpoints (root);
CREATE TABLE ${s}.witness_sizes (witness text PRIMARY KEY, size bigint NOT NULL CHECK (size >= 0));

-- One statement per batch: the row lock on seq_coord serializes frontends
-- from here to COMMIT; the duplicate check runs after the lock is granted, in
-- a snapshot that sees every earlier batch (READ COMMITTED, new statement).
-- New entries get first_index, first_index + 1, ... in input order.
CREATE FUNCTION ${s}.tilelog_sequence(p_hashes bytea[], p_data bytea[], p_dedup boolean,
  OUT first_index bigint, OUT dup_ord int[], OUT dup_idx bigint[])
LANGUAGE plpgsql SET search_path = ${s}, pg_catalog AS $$
DECLARE v_new bigint;
BEGIN
  IF cardinality(p_hashes) IS DISTINCT FROM cardinality(p_data) THEN
    RAISE EXCEPTION 'tilelog_sequence: % hashes for % entries', cardinality(p_hashes), cardinality(p_data);
  END IF;
  SELECT next INTO first_index FROM seq_coord WHERE id = 1 FOR UPDATE;
  IF p_dedup THEN
    SELECT coalesce(array_agg(t.ord::int ORDER BY t.ord), '{}'), coalesce(array_agg(e.idx ORDER BY t.ord), '{}')
      INTO dup_ord, dup_idx
      FROM unnest(p_hashes) WITH ORDINALITY AS t(h, ord)
      JOIN LATERAL (SELECT idx FROM entries WHERE leaf_hash = t.h ORDER BY idx LIMIT 1) e ON true;
  ELSE
    dup_ord := '{}'; dup_idx := '{}';
  END IF;
  INSERT INTO entries (idx, leaf_hash, data)
    SELECT first_index - 1 + row_number() OVER (ORDER BY t.ord), t.h, t.d
      FROM unnest(p_hashes, p_data) WITH ORDINALITY AS t(h, d, ord)
     WHERE NOT (t.ord::int = ANY (dup_ord));
  GET DIAGNOSTICS v_new = ROW_COUNT;
  UPDATE seq_coord SET next = first_index + v_new WHERE id = 1;
END $$;

-- The fenced compare-and-swap of the tree state, one transaction. The row
-- lock on tree_state orders it against every lease change: a commit carrying
-- an epoch that was superseded matches nothing.
CREATE FUNCTION ${s}.tilelog_commit_state(p_epoch bigint, p_holder text, p_expected bigint,
  p_size bigint, p_root bytea, p_text text, p_edge bytea, p_prev_size bigint, p_prev_edge bytea)
RETURNS text
LANGUAGE plpgsql SET search_path = ${s}, pg_catalog AS $$
DECLARE r tree_state%ROWTYPE; v_root bytea;
BEGIN
  SELECT * INTO r FROM tree_state WHERE id = 1 FOR UPDATE;
  IF r.epoch IS DISTINCT FROM p_epoch OR r.leader IS DISTINCT FROM p_holder THEN
    RETURN 'lost';
  END IF;
  IF r.size IS DISTINCT FROM p_expected THEN
    RETURN 'stale:' || coalesce(r.size::text, 'none');
  END IF;
  IF r.size IS NOT NULL AND p_size < r.size THEN
    RETURN 'smaller:' || r.size::text;
  END IF;
  SELECT root INTO v_root FROM checkpoints WHERE size = p_size;
  IF v_root IS NOT NULL AND v_root <> p_root THEN
    RETURN 'fork';
  END IF;
  INSERT INTO checkpoints (size, root) VALUES (p_size, p_root) ON CONFLICT (size) DO NOTHING;
  UPDATE tree_state
     SET size = p_size, root = p_root, text = p_text, edge = p_edge,
         prev_size = p_prev_size, prev_edge = p_prev_edge
   WHERE id = 1;
  RETURN 'ok';
END $$;
`;
}

export interface MigrateOptions {
  readonly schema: string;
  readonly origin: string;
  /** Dedup for a NEW log (a unique leaf-hash index); an existing log keeps its own. */
  readonly dedup: boolean;
}

/** What an opened schema holds. */
export interface SchemaInfo {
  readonly dedup: boolean;
  readonly created: boolean;
}

// migrate(db, options): create the schema of a new log, or check that an
// existing one belongs to this origin and is a version this code knows. One
// transaction under a transaction-scoped advisory lock on the schema name.
export async function migrate(db: PgQueryable, options: MigrateOptions): Promise<SchemaInfo> {
  const s = options.schema;
  assertSchemaName(s);
  await db.query('BEGIN');
  try {
    await db.query("SELECT pg_advisory_xact_lock(hashtext('tilelog:' || $1))", [s]);
    const exists = await db.query(
      "SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'meta'",
      [s],
    );
    let info: SchemaInfo;
    if (exists.rows.length === 0) {
      await db.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
      await db.query(schemaV1(s, options.dedup));
      await db.query(`INSERT INTO ${s}.meta (key, value) VALUES ('origin', $1), ('schema', $2), ('dedup', $3)`, [
        options.origin,
        String(PG_SCHEMA_VERSION),
        options.dedup ? 'on' : 'off',
      ]);
      info = { dedup: options.dedup, created: true };
    } else {
      info = { ...(await checkMeta(db, s, options.origin)), created: false };
    }
    await db.query('COMMIT');
    return info;
  } catch (err) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

// inspectSchema(db, options): the schema of an existing log, checked as
// migrate() checks it, or null when there is none. Reads only: for tools
// (audit, reindex) that must never create or change a log.
export async function inspectSchema(db: PgQueryable, options: { schema: string; origin: string }): Promise<{ dedup: boolean } | null> {
  assertSchemaName(options.schema);
  const exists = await db.query(
    "SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'meta'",
    [options.schema],
  );
  if (exists.rows.length === 0) return null;
  return checkMeta(db, options.schema, options.origin);
}

// checkMeta: refuse a schema of another origin (LOG_CONFIG, both named) or of
// a version this code does not know (LOG_CORRUPT).
async function checkMeta(db: PgQueryable, s: string, origin: string): Promise<{ dedup: boolean }> {
  const { rows } = await db.query(`SELECT key, value FROM ${s}.meta`);
  const meta = new Map(rows.map((r) => [String(r.key), String(r.value)]));
  const stored = meta.get('origin');
  if (stored !== origin) {
    throw new TilelogError(
      'LOG_CONFIG',
      `postgres: schema ${s} belongs to origin ${JSON.stringify(stored ?? null)}, not ${JSON.stringify(origin)}; ` +
        'serve that log with its own origin, or give this log another schema',
    );
  }
  const version = meta.get('schema');
  if (version !== String(PG_SCHEMA_VERSION)) {
    throw new TilelogError(
      'LOG_CORRUPT',
      `postgres: schema ${s} has version ${String(version)}, this tilelog knows ${PG_SCHEMA_VERSION}; upgrade tilelog`,
    );
  }
  return { dedup: meta.get('dedup') === 'on' };
}
