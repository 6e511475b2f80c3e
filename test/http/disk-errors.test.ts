// Disk failures over HTTP, in process: a tile store and a state database that
// refuse writes with real error codes (ENOSPC, SQLITE_FULL) behind a real log
// and app. Adds get 503 STORAGE_UNAVAILABLE with Retry-After (never 500),
// /readyz is 503 while a store refuses writes and 200 once writes succeed, and
// the metrics count the failures. (test/crash/disk-full.test.ts does the same
// with a real full tmpfs and a child process.)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Hono } from 'hono';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { createLogApp } from '../../src/http/index.js';
import { onErrorHandler } from '../../src/http/errors.js';
import { openLog, type Log } from '../../src/log/index.js';
import { parseSignerKey } from '../../src/note/index.js';
import { MemoryTileStore } from '../../src/storage/memory-tile-store.js';
import { SqliteSequenceDB } from '../../src/storage/sqlite-sequence-db.js';
import type { SequencedEntry, SequenceResult } from '../../src/storage/sequence-db.js';
import { TilelogError } from '../../src/errors.js';
import { ORIGIN, SKEY } from './helpers.js';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** Node's error for a write on a full disk. */
function enospc(p: string): Error {
  return Object.assign(new Error(`ENOSPC: no space left on device, open '${p}'`), { code: 'ENOSPC', errno: -28 });
}

class FullTiles extends MemoryTileStore {
  full = false;
  override async createIdempotent(p: string, d: Uint8Array): Promise<void> {
    if (this.full) throw new TilelogError('STORAGE_UNAVAILABLE', `storage: write ${p}: no space`, { cause: enospc(p) });
    return super.createIdempotent(p, d);
  }
  override async overwrite(p: string, d: Uint8Array): Promise<void> {
    if (this.full) throw enospc(p);
    return super.overwrite(p, d);
  }
}

class FullDB extends SqliteSequenceDB {
  full = false;
  override sequence(batch: readonly SequencedEntry[], dedup: boolean): SequenceResult[] {
    if (this.full) throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    return super.sequence(batch, dedup);
  }
}

let dir: string;
let db: FullDB;
let tiles: FullTiles;
let log: Log;
let app: ReturnType<typeof createLogApp>;
beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'tilelog-diskerr-'));
  db = new FullDB(path.join(dir, 'log.db'), { origin: ORIGIN });
  tiles = new FullTiles();
  log = await openLog({ origin: ORIGIN, signer: parseSignerKey(SKEY), db, tiles, logger: quiet });
  app = createLogApp(log, { logError: () => undefined });
});
afterEach(async () => {
  tiles.full = false;
  db.full = false;
  await log.close();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const add = (body: string, wait = false) => app.request(`/add${wait ? '?wait=checkpoint' : ''}`, { method: 'POST', body });
const status = async (p: string) => (await app.request(p)).status;

async function until(f: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500 && !(await f()); i++) await new Promise((r) => setTimeout(r, 10));
  expect(await f()).toBe(true);
}

describe('a full disk over HTTP', () => {
  test('state database full: add is 503 STORAGE_UNAVAILABLE + Retry-After, /readyz 503, then 200 after a successful add', async () => {
    expect((await add('a')).status).toBe(200);
    db.full = true;
    const res = await add('b');
    expect(res.status).toBe(503);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('STORAGE_UNAVAILABLE');
    expect(await status('/readyz')).toBe(503);
    const metrics = await (await app.request('/metrics')).text();
    expect(metrics).toMatch(/^tilelog_storage_failures_total 1$/m);
    expect(metrics).toMatch(/^tilelog_storage_writable\{store="state"\} 0$/m);
    expect(await status('/checkpoint')).toBe(200); // reads are served
    db.full = false;
    expect((await add('b')).status).toBe(200);
    expect(await status('/readyz')).toBe(200);
  });

  test('tiles full: add?wait=checkpoint is 503 naming the durable index; the checkpointer retries and /readyz recovers by itself', async () => {
    tiles.full = true;
    const res = await add('c', true);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).not.toBeNull();
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('STORAGE_UNAVAILABLE');
    expect(body.error.message).toMatch(/entry 0 is durable/);
    expect(await status('/readyz')).toBe(503);
    expect(await (await app.request('/metrics')).text()).toMatch(/^tilelog_storage_writable\{store="tiles"\} 0$/m);
    tiles.full = false;
    await until(async () => (await status('/readyz')) === 200);
    await until(async () => log.checkpoint().size === 1);
    expect((await add('c', true)).status).toBe(200); // the retry: the same entry, deduplicated
  });

  test('an uncoded disk error anywhere in a cause chain is a 503, anything else stays a 500', async () => {
    const h = new Hono();
    h.onError(onErrorHandler(() => undefined));
    h.get('/sqlite', () => {
      throw Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR_WRITE' });
    });
    h.get('/wrapped', () => {
      throw new TilelogError('STORAGE_IO', 'storage: write x', { cause: Object.assign(new Error('EIO'), { code: 'EIO' }) });
    });
    h.get('/bug', () => {
      throw new Error('bad math');
    });
    for (const p of ['/sqlite', '/wrapped']) {
      const res = await h.request(p);
      expect(res.status, p).toBe(503);
      expect(res.headers.get('retry-after'), p).toBe('5');
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('STORAGE_UNAVAILABLE');
    }
    expect((await h.request('/bug')).status).toBe(500);
  });

  test('a restart while the tiles are full opens (reads served, not writable) instead of waiting, and catches up once space returns', async () => {
    tiles.full = true;
    expect((await add('d')).status).toBe(200); // durable, not yet in a checkpoint
    await log.close();
    log = await openLog({ origin: ORIGIN, signer: parseSignerKey(SKEY), db, tiles, logger: quiet });
    app = createLogApp(log, { logError: () => undefined });
    expect(log.writable()).toBe(false);
    expect(log.checkpoint().size).toBe(0);
    expect(await status('/readyz')).toBe(503);
    expect(await status('/checkpoint')).toBe(200);
    tiles.full = false;
    await until(async () => log.checkpoint().size === 1);
    await until(async () => (await status('/readyz')) === 200);
  });

  test('a disk already full at open is reported before any write, and the probe clears it once writes fit again', async () => {
    await log.close();
    let full = true;
    const probe = async (): Promise<void> => {
      if (full) throw enospc('probe');
    };
    log = await openLog({ origin: ORIGIN, signer: parseSignerKey(SKEY), db, tiles, logger: quiet, storageProbes: { state: probe }, storageProbeIntervalMs: 20 });
    app = createLogApp(log, { logError: () => undefined });
    expect(log.writable()).toBe(false);
    expect(log.stats().storage.faults.map((f) => `${f.component} ${f.code}`)).toEqual(['state ENOSPC']);
    expect(await status('/readyz')).toBe(503);
    full = false;
    await until(async () => (await status('/readyz')) === 200);
  });
});
