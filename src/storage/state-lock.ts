// One process per state directory: an exclusive lock that the KERNEL
// releases when its holder dies, so a SIGKILLed server never blocks its
// restart and a reused pid never fools anyone.
//
// The lock is a tiny SQLite database (`<name>.lock`) opened with
// locking_mode=EXCLUSIVE and written once: SQLite then holds its POSIX
// write lock on the file until the connection closes or the process exits.
// SQLite tracks its locks per file within a process too, so a second take
// in the SAME process is refused as well (we never assume one log per
// process). The holder writes its pid to `<name>.lock.pid` for the error
// message only; the pid is never used to decide anything.
// Not for directories shared across hosts (POSIX locks over NFS vary).

import * as fs from 'node:fs';
import Database from 'better-sqlite3';

export type StateLock = { readonly release: () => void } | { readonly heldBy: number | null };

/**
 * Takes the lock file `file` for this connection: { release } on success,
 * { heldBy: pid or null when unknown } when another process or another open
 * in this process holds it. Other failures (permissions, a missing
 * directory) are thrown as they are.
 */
export function takeStateLock(file: string): StateLock {
  const legacyHolder = dropLegacyPidFile(file);
  if (legacyHolder !== null) return { heldBy: legacyHolder };
  const db = new Database(file, { timeout: 0 });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = MEMORY'); // no -journal file beside it
    db.exec(`BEGIN EXCLUSIVE; CREATE TABLE IF NOT EXISTS holder (pid INTEGER); DELETE FROM holder; INSERT INTO holder VALUES (${process.pid}); COMMIT;`);
  } catch (err) {
    db.close();
    if ((err as { code?: unknown }).code === 'SQLITE_BUSY') return { heldBy: readHolder(file) };
    throw err;
  }
  try {
    fs.writeFileSync(`${file}.pid`, `${process.pid}\n`, { mode: 0o600 });
  } catch (err) {
    db.close();
    throw err;
  }
  let released = false;
  return {
    release: () => {
      if (released) return;
      released = true;
      fs.rmSync(`${file}.pid`, { force: true });
      db.close(); // the kernel lock goes with the last descriptor
    },
  };
}

function readHolder(file: string): number | null {
  try {
    const pid = Number(fs.readFileSync(`${file}.pid`, 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

// dropLegacyPidFile: earlier versions kept registry.lock / state.lock as a
// text file holding a pid (O_EXCL). SQLite cannot open such a file, so a
// leftover one is removed when its process is gone; a live one's pid is
// returned (an old version still runs there), else null.
function dropLegacyPidFile(file: string): number | null {
  let head: Buffer;
  try {
    head = fs.readFileSync(file).subarray(0, 16);
  } catch {
    return null;
  }
  if (head.length === 0 || head.toString('latin1').startsWith('SQLite format 3')) return null;
  const pid = Number(head.toString('latin1').trim());
  if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid)) return pid;
  fs.rmSync(file, { force: true });
  return null;
}

/** Whether a process with this pid exists (EPERM: it exists but belongs to someone else). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
