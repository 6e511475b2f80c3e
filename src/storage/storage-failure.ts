// Which storage failures are the disk's condition rather than a bug: a full
// disk or quota, a read-only remount, an I/O error. They are worth a 503 and
// a retry (the log recovers by itself once space returns), never a 500.
//
// Two stores can fail: the trusted state (SQLite: result codes SQLITE_FULL,
// SQLITE_IOERR and its extended codes such as SQLITE_IOERR_WRITE) and the
// public tiles (errno codes from node:fs). The error itself, or any error in
// its `cause` chain, decides.
//
// The log's signing key is tracked the same way, as a third component: a key
// in a PKCS#11 token that cannot sign now (SIGNER_UNAVAILABLE: the token was
// removed, the HSM is unreachable) stops publication like a full disk does,
// with the same answers (not ready, 503 and retry), and the log resumes by
// itself once a signature succeeds.

/** What refused: the SequenceDB (state), the TileStore (tiles), or the log's signing key (signer). */
export type StorageComponent = 'state' | 'tiles' | 'signer';

export interface StorageFailure {
  component: StorageComponent;
  /** The errno or SQLite code, e.g. ENOSPC or SQLITE_FULL. */
  code: string;
}

/** errno codes that mean the filesystem refuses writes for now. */
const FS_CODES = new Set(['ENOSPC', 'EIO', 'EDQUOT', 'EROFS']);
/** SQLite result codes (and prefixes of extended codes) that mean the same. */
const SQLITE_CODES = /^SQLITE_(FULL|IOERR(_[A-Z_]+)?)$/;

// storageFailure(err): the failure class of err or of a cause in its chain
// (at most 8 deep), or null when err is something else (a bug, a conflict).
export function storageFailure(err: unknown): StorageFailure | null {
  let e: unknown = err;
  for (let depth = 0; depth < 8 && typeof e === 'object' && e !== null; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') {
      if (code === 'SIGNER_UNAVAILABLE') return { component: 'signer', code };
      if (FS_CODES.has(code)) return { component: 'tiles', code };
      if (SQLITE_CODES.test(code)) return { component: 'state', code };
    }
    e = (e as { cause?: unknown }).cause;
  }
  return null;
}

/** True when err is a storage failure of a filesystem (errno) kind. */
export function isFsStorageCode(code: unknown): boolean {
  return typeof code === 'string' && FS_CODES.has(code);
}
