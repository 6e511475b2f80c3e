// Helpers for test/registry: a real Log on SQLite + memory tiles, a registry
// with a fixed submitter key, fixed agent keys, and a clock that moves only
// when told.
import * as path from 'node:path';
import { openLog, type Log, type LogOptions } from '../../src/log/index.js';
import { MemoryTileStore } from '../../src/storage/memory-tile-store.js';
import { SqliteSequenceDB } from '../../src/storage/sqlite-sequence-db.js';
import { submitterKey } from '../../src/registry/entries/index.js';
import { Registry } from '../../src/registry/registry.js';
import { StateIndex } from '../../src/registry/state-index.js';
import { ORIGIN, quietLogger, tempDir, testSigner } from '../log/helpers.js';
import * as ed from '@noble/ed25519';

export { ORIGIN, testSigner, tempDir };
export const REGISTRY_SEED = new Uint8Array(32).fill(11);
export const registryKey = submitterKey(REGISTRY_SEED);
export const agentKey = (n: number): Uint8Array => ed.getPublicKey(new Uint8Array(32).fill(100 + n));
/** The contents of the registry index in <stateDir>/registry.db (opened and closed again). */
export function dumpIndex(stateDir: string, origin: string): ReturnType<StateIndex['dump']> {
  const idx = new StateIndex(path.join(stateDir, 'registry.db'), origin);
  try {
    return idx.dump();
  } finally {
    idx.close();
  }
}

export const T0 = 1_767_225_600; // 2026-01-01T00:00:00Z

export interface Fixture {
  dir: string;
  log: Log;
  db: SqliteSequenceDB;
  tiles: MemoryTileStore;
  index: StateIndex;
  registry: Registry;
  clock: { now: number };
  close(): Promise<void>;
}

/** A fresh log and registry in a temp dir (index at <dir>/registry.db); logOptions tune the engine (batching, checkpoint interval). */
export async function openFixture(logOptions: Partial<LogOptions> = {}): Promise<Fixture> {
  const tmp = tempDir('tilelog-registry-');
  const db = new SqliteSequenceDB(path.join(tmp.dir, 'log.db'), { origin: ORIGIN });
  const tiles = new MemoryTileStore();
  const log = await openLog({ ...logOptions, origin: ORIGIN, signer: testSigner, db, tiles, logger: quietLogger });
  const index = new StateIndex(path.join(tmp.dir, 'registry.db'), ORIGIN);
  const clock = { now: T0 };
  const registry = await Registry.open({ log, index, key: registryKey, nowSeconds: () => clock.now });
  return {
    dir: tmp.dir,
    log,
    db,
    tiles,
    index,
    registry,
    clock,
    async close() {
      index.close();
      await log.close();
      db.close();
      tmp.cleanup();
    },
  };
}
