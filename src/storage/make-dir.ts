// Directories with exact modes: mkdir's mode is filtered by the process
// umask, so an operator's umask 0o077 would hide the public tree and 0o000
// would open the private state. The log's own directories get what they
// need whatever the umask: state 0700, public tiles 0755.

import * as fs from 'node:fs';
import * as nodePath from 'node:path';

/** Private state directories (database, keys). */
export const STATE_DIR_MODE = 0o700;

/**
 * mkdir -p dir; every directory it creates gets exactly mode. An existing
 * directory is left as it is (the operator chose it).
 */
export function makeDirSync(dir: string, mode: number): void {
  // Absolute first: for a relative dir, mkdirSync reports the first directory
  // it created relative too, and comparing lengths against it would chmod
  // ancestors it never created (the working directory, /tmp).
  const abs = nodePath.resolve(dir);
  const first = fs.mkdirSync(abs, { recursive: true, mode });
  if (first === undefined) return;
  for (let d = abs; d.length >= first.length; d = nodePath.dirname(d)) fs.chmodSync(d, mode);
}
