// tilelog registry reindex: rebuild <state>/registry.db from the log's
// published entries, read from <state>/log.db or, with --db, read-only from
// PostgreSQL (db-option.ts).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { SqliteSequenceDB } from '../log/index.js';
import { parseCheckpoint, parseNote } from '../note/index.js';
import { rebuildIndex, type LeafSource } from '../registry/reindex.js';
import { pgTarget } from '../storage/pg-errors.js';
import { makeDirSync, STATE_DIR_MODE } from '../storage/make-dir.js';
import { CliError, EXIT_OK, plural, UsageError } from './common.js';
import { explainDbError, openLogStoreReadOnly, type Sourced } from './db-option.js';
import { readKeyFile } from './key-file.js';
import { Progress } from './progress.js';
import { lockRegistry } from './registry-lock.js';
import { isPkcs11Uri } from './signing-key.js';

// reindex: the leaves covered by the last public checkpoint, from
// <state>/log.db, or with --db from PostgreSQL (read-only). Either way the
// size is the published checkpoint the database records, which is what a
// server's registry folds up to.
export async function reindex(stateDir: string, keyFile: string | undefined, originFlag: string | undefined, json: boolean, db: Sourced | undefined): Promise<number> {
  const dbFile = path.join(stateDir, 'log.db');
  if (db === undefined && !fs.existsSync(dbFile)) throw new CliError(`no log in ${stateDir} (${dbFile} is missing; for a log in PostgreSQL give --db)`);
  const origin = originFlag ?? reindexOrigin(stateDir, keyFile, db);
  // With --db the state dir holds only the registry's files: a new one is made here.
  if (db !== undefined) makeDirSync(stateDir, STATE_DIR_MODE);
  const unlock = lockRegistry(stateDir);
  try {
    const source = db === undefined ? sqliteLeaves(dbFile, origin) : await pgLeaves(db, origin);
    try {
      const progress = new Progress({ total: source.size, unit: 'entries', silent: json && process.stderr.isTTY !== true });
      const r = await rebuildIndex(path.join(stateDir, 'registry.db'), origin, source, (done) => progress.update(done));
      progress.finish();
      const from = db === undefined ? '' : ` in ${pgTarget(db.value)}`;
      if (json) process.stdout.write(`${JSON.stringify({ origin, ...r })}\n`);
      else {
        process.stdout.write(
          `reindexed ${path.join(stateDir, 'registry.db')} from ${plural(r.leaves, 'published entry', 'published entries')} of ${origin}${from}: ` +
            `${r.applied} applied, ${r.skipped} skipped; ${plural(r.agents, 'agent')}, ${plural(r.keys, 'submitter key')}\n`,
        );
      }
      return EXIT_OK;
    } finally {
      await source.close();
    }
  } finally {
    unlock();
  }
}

/** The origin from --key, else <state>/log.key (a frontend's state has none: then --origin). */
function reindexOrigin(stateDir: string, keyFile: string | undefined, db: Sourced | undefined): string {
  if (keyFile !== undefined && isPkcs11Uri(keyFile)) {
    throw new UsageError('a key in a PKCS#11 token carries no name: give --origin <origin> with --key pkcs11:...');
  }
  const file = keyFile ?? path.join(stateDir, 'log.key');
  if (keyFile === undefined && db !== undefined && !fs.existsSync(file)) {
    throw new UsageError(`give --origin <origin> (or --key <the log's key file>): ${stateDir} holds no log.key to name the log`);
  }
  return readKeyFile(file).name;
}

type ClosableLeaves = LeafSource & { close(): void | Promise<void> };

// The public size the server recorded, never its signed size: with witnesses
// pending, leaves past the public checkpoint are signed but not served, and an
// index that had applied them would be ahead of the server's registry (which
// refuses it at start). A database from before the record falls back to the
// signed size, as before.
function sqliteLeaves(dbFile: string, origin: string): ClosableLeaves {
  const db = new SqliteSequenceDB(dbFile, { origin });
  const signed = db.state()?.size ?? 0;
  return { size: Math.min(db.publishedSize() ?? signed, signed), read: (a, b) => db.readEntries(a, b), close: () => db.close() };
}

async function pgLeaves(db: Sourced, origin: string): Promise<ClosableLeaves> {
  const store = await openLogStoreReadOnly(db, origin);
  try {
    const published = await store.published();
    const size = published?.size ?? 0;
    if (published !== null) {
      const cp = parseCheckpoint(parseNote(published.text).text);
      if (cp.origin !== origin || cp.size !== size) {
        throw new CliError(`${store.target}: the published checkpoint recorded for ${origin} says origin ${cp.origin}, size ${cp.size} (recorded size ${size}); run 'tilelog audit --db'`);
      }
    }
    const read = async (a: number, b: number) => {
      try {
        return await store.readEntries(a, b);
      } catch (err) {
        throw explainDbError(err, db, origin);
      }
    };
    return { size, read, close: () => store.close() };
  } catch (err) {
    await store.close().catch(() => undefined);
    throw explainDbError(err, db, origin);
  }
}
