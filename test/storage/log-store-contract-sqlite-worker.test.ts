// The log store contract on SqliteWorkerStore: the same SQLite database as
// log-store-contract-sqlite.test.ts, in a real worker thread. One signer
// forever, so the contract's takeover case is skipped here too.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll } from 'vitest';
import { SqliteWorkerStore } from '../../src/storage/sqlite-worker-store.js';
import { runLogStoreContract, type LogStoreUnderTest, type OpenSpec } from './log-store-contract.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tilelog-contract-worker-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function openWorker(spec: OpenSpec): Promise<LogStoreUnderTest> {
  const store = await SqliteWorkerStore.open(path.join(dir, `${spec.key}.db`), { origin: spec.origin });
  const { fence } = await store.acquire(new AbortController().signal);
  return { sequence: store, state: store, fence, close: () => store.close() };
}

runLogStoreContract('SQLite in a worker thread (SqliteWorkerStore)', openWorker, { takeover: false });
