// <state>/registry.lock: one registry server or reindex per state dir.

import { takeStateLock } from '../storage/state-lock.js';
import * as path from 'node:path';
import { CliError } from './common.js';

/**
 * Takes <state>/registry.lock (storage/state-lock.ts: released by the kernel
 * when its process dies) for the life of a registry server or a reindex.
 * Returns the release function.
 */
export function lockRegistry(stateDir: string): () => void {
  const lock = takeStateLock(path.join(stateDir, 'registry.lock'));
  if ('heldBy' in lock) {
    throw new CliError(
      `the registry state in ${stateDir} is in use by ${lock.heldBy === null ? 'another process' : `pid ${lock.heldBy}`} ` +
        `(a running 'tilelog serve --registry' or reindex?); stop it first`,
    );
  }
  return lock.release;
}
