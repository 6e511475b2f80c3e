// rebuildIndex: a new state index from the log's published leaves alone
// (`tilelog registry reindex`). The server must be stopped (the CLI holds
// <state>/registry.lock while this runs, as `serve --registry` does).
//
//   1. remove a leftover <index>.reindex (and its -wal/-shm) from an earlier crash;
//   2. fold leaves [0, size) into a fresh index at <index>.reindex, in
//      batches, through StateIndex.apply (the same fold as catch-up);
//   3. close it (SQLite checkpoints and removes its WAL), remove the old
//      index's -wal/-shm, and rename the new file over the old one.
// A crash before 3 leaves the old index as it was; after the rename, the new
// one is complete. Either way the server's catch-up applies what follows.

import * as fs from 'node:fs';
import { StateIndex } from './state-index.js';

/** Published leaves, as the trusted state (SQLite or PostgreSQL) holds them. */
export interface LeafSource {
  /** Leaves [0, size) are covered by the last signed checkpoint. */
  readonly size: number;
  /** Leaves [start, end) and their leaf hashes (a promise for a networked store). */
  read(start: number, end: number): LeafRange | Promise<LeafRange>;
}

export interface LeafRange {
  entries: Uint8Array[];
  leafHashes: Uint8Array[];
}

export interface RebuildResult {
  leaves: number;
  applied: number;
  skipped: number;
  agents: number;
  keys: number;
}

const BATCH = 1000;

export async function rebuildIndex(indexPath: string, origin: string, source: LeafSource, onProgress?: (done: number) => void): Promise<RebuildResult> {
  const tmp = `${indexPath}.reindex`;
  const removeDb = (p: string) => {
    for (const s of ['', '-wal', '-shm']) fs.rmSync(`${p}${s}`, { force: true });
  };
  // 1.
  removeDb(tmp);
  // 2.
  const index = new StateIndex(tmp, origin);
  let applied = 0;
  let skipped = 0;
  let agents = 0;
  let keys = 0;
  try {
    for (let start = 0; start < source.size; start += BATCH) {
      const end = Math.min(start + BATCH, source.size);
      const { entries, leafHashes } = await source.read(start, end);
      for (let k = 0; k < entries.length; k++) {
        const o = index.apply(start + k, entries[k]!, leafHashes[k]!);
        if (o.applied) applied++;
        else skipped++;
      }
      onProgress?.(end);
    }
    keys = index.keys().length;
    for (let page = index.agents({ limit: BATCH }); page.length > 0; page = index.agents({ limit: BATCH, after: page[page.length - 1]!.name })) {
      agents += page.length;
    }
  } catch (err) {
    index.close();
    removeDb(tmp);
    throw err;
  }
  // 3.
  index.close();
  removeDb(indexPath);
  fs.renameSync(tmp, indexPath);
  return { leaves: source.size, applied, skipped, agents, keys };
}
