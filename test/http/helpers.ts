// A real log (SQLite + files in a temp dir) signed with the shared test key,
// for the HTTP tests.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openFileLog, type FileLogOptions, type Log } from '../../src/log/index.js';
import { fromBase64Strict } from '../../src/merkle/index.js';
import { parseSignerKey } from '../../src/note/index.js';

export const SHARED_VECTORS = fileURLToPath(new URL('../golden/', import.meta.url));
export const ORIGIN = 'vectors.tilelog.example/log';
export const SKEY = fs.readFileSync(path.join(SHARED_VECTORS, 'log.skey'), 'utf8').trim();
export const VKEY = fs.readFileSync(path.join(SHARED_VECTORS, 'log.vkey'), 'utf8').trim();

/** The shared golden entries, in log order. */
export const ENTRIES: Uint8Array[] = fs
  .readFileSync(path.join(SHARED_VECTORS, 'entries.b64'), 'utf8')
  .split('\n')
  .filter((l) => l !== '')
  .slice(0, 1000)
  .map((l) => fromBase64Strict(l));

export interface TestLog {
  log: Log;
  dir: string;
  close(): Promise<void>;
}

/** A log signed with the shared test key in a fresh temp dir; opts override the engine's options. */
export async function openTestLog(opts: Partial<Omit<FileLogOptions, 'stateDir' | 'tilesDir'>> = {}): Promise<TestLog> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tilelog-http-'));
  const log = await openFileLog({
    origin: ORIGIN,
    signer: parseSignerKey(SKEY),
    stateDir: path.join(dir, 'state'),
    tilesDir: path.join(dir, 'tiles'),
    batchMaxDelayMs: 1,
    ...opts,
  });
  return {
    log,
    dir,
    async close() {
      await log.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Adds entries one at a time, each published before the next (deterministic checkpoints). */
export async function addPublished(log: Log, entries: readonly Uint8Array[]): Promise<void> {
  for (const e of entries) {
    const { index } = await log.add(e);
    await log.waitForCheckpoint(index);
  }
}

/** Adds entries concurrently and waits until all are published. */
export async function addAll(log: Log, entries: readonly Uint8Array[]): Promise<number[]> {
  const results = await Promise.all(entries.map((e) => log.add(e)));
  const max = Math.max(...results.map((r) => r.index));
  await log.waitForCheckpoint(max);
  return results.map((r) => r.index);
}
