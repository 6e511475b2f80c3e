// The log store contract on SQLite through a test-local adapter around the
// synchronous SqliteSequenceDB (one signer forever: any fence holds, there is
// no takeover). It proves the contract suite describes SQLite's behaviour
// too; the async SQLite store of the engine conversion replaces the adapter.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll } from 'vitest';
import { SqliteSequenceDB } from '../../src/storage/sqlite-sequence-db.js';
import type { SequenceStore, TreeStateStore } from '../../src/storage/log-store.js';
import { runLogStoreContract, type LogStoreUnderTest, type OpenSpec } from './log-store-contract.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tilelog-contract-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function openSqlite(spec: OpenSpec): Promise<LogStoreUnderTest> {
  const db = new SqliteSequenceDB(path.join(dir, `${spec.key}.db`), { origin: spec.origin });
  const sequence: SequenceStore = {
    origin: db.origin,
    nextIndex: async () => db.sequencedSize(),
    sequence: async (batch, dedup) => db.sequence(batch, dedup),
    readEntries: async (start, end) => db.readEntries(start, end),
    entry: async (index) => db.entry(index),
    lookup: async (hash) => db.lookup(hash),
    entryBytes: async (start, end) => db.entryBytes(start, end),
    sizeForRoot: async (root) => db.sizeForRoot(root),
    rootForSize: async (size) => db.rootForSize(size),
    checkpointHistory: async (limit, maxSize) => db.checkpointHistory(limit, maxSize),
    checkpointsFrom: async (minSize, limit) => db.checkpointsFrom(minSize, limit),
    close: async () => db.close(),
  };
  const state: TreeStateStore = {
    state: async () => db.state(),
    commitState: async (_fence, expected, next) => {
      db.commitState(expected, next);
      return 'ok';
    },
    gcCursor: async () => db.gcCursor(),
    setGcCursor: async (_fence, size) => {
      db.setGcCursor(size);
      return 'ok';
    },
    witnessSize: async (w) => db.witnessSize(w),
    setWitnessSize: async (w, size) => db.setWitnessSize(w, size),
  };
  return { sequence, state, fence: { epoch: 0, holder: 'sqlite' }, close: async () => db.close() };
}

runLogStoreContract('SQLite (adapter around SqliteSequenceDB)', openSqlite);
