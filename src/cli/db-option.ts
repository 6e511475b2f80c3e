// --db for the tools that read a log's state (`tilelog audit`, `tilelog
// registry reindex`): where the PostgreSQL URL comes from, as for serve
// (--db > $TILELOG_DB > the "db" field of the --config / $TILELOG_CONFIG
// file), and opening the log's store READ-ONLY: no schema is created, no
// lease is taken, and every transaction is read-only (PostgreSQL refuses a
// write), so these tools can run beside live servers.
//
// Failures are one line that names the setting to fix: the server cannot be
// reached, the login is refused (user/password), the database does not
// exist, or it holds no log of this origin.

import { TilelogError } from '../errors.js';
import { PgLogStore } from '../storage/pg-log-store.js';
import { pgTarget } from '../storage/pg-errors.js';
import { schemaNameForOrigin } from '../storage/pg-schema.js';
import { CliError, UsageError } from './common.js';
import { readConfigFile } from './config-file.js';

export const DB_FLAGS = {
  db: { type: 'string' },
  config: { type: 'string' },
} as const;

export const DB_USAGE = `  --db <postgres://user:password@host:port/database>
                       the log's state in PostgreSQL, as 'tilelog serve --db' keeps it
                       (read only: nothing is written, no lease is taken)
                       [$TILELOG_DB, else the "db" field of the --config file]
  --config <file>      a 'tilelog serve' configuration file: only its "db" field
                       (and, for reindex, "state", "key", "origin") is read
                       [$TILELOG_CONFIG]
`;

type Values = Record<string, string | boolean | string[] | undefined>;

/** A setting and where it came from (named in messages). */
export interface Sourced {
  value: string;
  /** '--db', 'TILELOG_DB' or '<file>: field "db"'. */
  source: string;
}

/**
 * The value of a serve setting for a tool: the flag, else its variable, else
 * the field of the --config (or $TILELOG_CONFIG) file; undefined when unset.
 */
export function serveSetting(values: Values, env: NodeJS.ProcessEnv, flag: string, variable: string): Sourced | undefined {
  const v = values[flag];
  if (typeof v === 'string') return { value: v, source: `--${flag}` };
  const e = env[variable];
  if (e !== undefined && e !== '') return { value: e, source: variable };
  const config = typeof values.config === 'string' ? ['--config', values.config] : env.TILELOG_CONFIG ? ['TILELOG_CONFIG', env.TILELOG_CONFIG] : null;
  if (config === null) return undefined;
  const field = readConfigFile(config[0]!, config[1]!)[flag];
  if (field === undefined) return undefined;
  if (typeof field !== 'string') throw new UsageError(`${config[1]}: field "${flag}" must be a string, got ${JSON.stringify(field)}`);
  return { value: field, source: `${config[1]}: field "${flag}"` };
}

/** The PostgreSQL URL for a tool, or undefined (no --db anywhere: the SQLite state in --state). */
export function resolveDb(values: Values, env: NodeJS.ProcessEnv = process.env): Sourced | undefined {
  const db = serveSetting(values, env, 'db', 'TILELOG_DB');
  if (db !== undefined && !/^postgres(ql)?:\/\//.test(db.value)) {
    throw new UsageError(`${db.source} must be a postgres://user:password@host:port/database URL`);
  }
  return db;
}

/** Opens the store of origin's log in db read-only; every failure is a one-line CliError saying what to check. */
export async function openLogStoreReadOnly(db: Sourced, origin: string): Promise<PgLogStore> {
  try {
    return await PgLogStore.open({ connectionString: db.value, origin, readOnly: true, poolSize: 2, connectTimeoutMs: 10_000 });
  } catch (err) {
    throw explainDbError(err, db, origin);
  }
}

// explainDbError(err, db, origin): the failure of opening (or reading) the
// store as one line naming the setting to fix; other errors unchanged.
export function explainDbError(err: unknown, db: Sourced, origin: string): unknown {
  if (!(err instanceof TilelogError)) return err;
  const target = pgTarget(db.value);
  const code = pgCode(err);
  if (err.code === 'LOG_NOT_FOUND') {
    return new CliError(
      `${target} holds no log ${origin} (no schema ${schemaNameForOrigin(origin)}); check ${db.source} names the database ` +
        `'tilelog serve --db' uses for this log, and the origin (--origin)`,
    );
  }
  if (err.code === 'LOG_CONFIG' && /belongs to origin/.test(err.message)) return new CliError(`${err.message.replace(/^postgres: /, '')} (${db.source})`);
  if (err.code !== 'STORAGE_UNAVAILABLE') return err;
  if (code === '28P01' || code === '28000') {
    return new CliError(`${target} refused the login (${causeMessage(err)}); check the user and password in ${db.source}`);
  }
  if (code === '3D000') return new CliError(`${target}: ${causeMessage(err)}; check the database name in ${db.source}`);
  return new CliError(
    `cannot reach PostgreSQL at ${target} (${causeMessage(err)}); check that it is running and that ${db.source} names the right host and port`,
  );
}

/** The SQLSTATE or errno code of the driver error under a TilelogError. */
function pgCode(err: TilelogError): string | undefined {
  const code = (err.cause as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

function causeMessage(err: TilelogError): string {
  const cause = err.cause;
  const text = cause instanceof Error ? cause.message : err.message;
  // AggregateError (both address families refused) has an empty message.
  return (text || (cause as { code?: string } | undefined)?.code || 'no answer').split('\n')[0]!;
}
