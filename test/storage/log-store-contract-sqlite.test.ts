// The log store contract on SQLite: the engine's own SqliteLogStore over a
// real SqliteSequenceDB file. One signer forever (any fence holds, there is
// no takeover), so the contract's takeover case is skipped here.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll } from 'vitest';
import { SqliteLogStore } from '../../src/storage/sqlite-log-store.js';
import { SqliteSequenceDB } from '../../src/storage/sqlite-sequence-db.js';
import { runLogStoreContract, type LogStoreUnderTest, type OpenSpec } from './log-store-contract.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tilelog-contract-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function openSqlite(spec: OpenSpec): Promise<LogStoreUnderTest> {
  const store = new SqliteLogStore(new SqliteSequenceDB(path.join(dir, `${spec.key}.db`), { origin: spec.origin }));
  const { fence } = await store.acquire(new AbortController().signal);
  return { sequence: store, state: store, fence, close: () => store.close() };
}

runLogStoreContract('SQLite (SqliteLogStore)', openSqlite, { takeover: false });
