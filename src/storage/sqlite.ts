// Opening a SQLite database the way every tilelog store needs it.
//
// WAL with synchronous=FULL: a COMMIT returns only after the WAL is fsynced,
// so whatever a caller acknowledges after a commit survives power loss and
// SIGKILL. busy_timeout lets two connections to one file (a CLI editing a
// running server's state) wait for each other instead of failing at once.

import Database from 'better-sqlite3';

/**
 * Opens (creating if needed) the database at path, applies the durable
 * pragmas, runs schema (idempotent DDL) and then check(db); closes the
 * database again if any step throws.
 */
export function openDurableSqlite(path: string, schema: string, check?: (db: Database.Database) => void): Database.Database {
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
    db.exec(schema);
    check?.(db);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}
