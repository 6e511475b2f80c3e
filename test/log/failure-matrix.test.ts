// Failure matrix: each kind of write (tile, bundle, public checkpoint, batch
// commit, checkpoint commit) fails once, with or without having persisted.
// The public checkpoint is written with replaceIfMatch (public-checkpoint.ts):
// a failure that persisted moves the store's ETag, and the retry reconciles.
// After the log carries on and is reopened: no acknowledged entry is missing,
// no size ever had two roots, the published size never shrank, the tiles
// recompute the checkpoint root, and no checkpoint was ever made public
// before all of its tiles existed.
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { TilelogError } from '../../src/errors.js';
import { openLog, type Log } from '../../src/log/index.js';
import { decodeBundle } from '../../src/merkle/bundle.js';
import { tilePath, tilesForSize } from '../../src/merkle/layout.js';
import { MemoryTileStore } from '../../src/storage/memory-tile-store.js';
import type { SequenceDB, SequencedEntry, TreeState } from '../../src/storage/sequence-db.js';
import { SqliteSequenceDB } from '../../src/storage/sqlite-sequence-db.js';
import type { TileStore, VersionedObject } from '../../src/storage/tile-store.js';
import { ORIGIN, quietLogger, tempDir, testSigner, utf8 } from './helpers.js';
import { refLeaf, refRoot } from './reference.js';

type Kind = 'tile' | 'bundle' | 'checkpoint' | 'sequence' | 'commit';
const kindOf = (p: string): Kind => (p === 'checkpoint' ? 'checkpoint' : p.startsWith('tile/entries/') ? 'bundle' : 'tile');
const injected = (): Error => new TilelogError('STORAGE_IO', 'injected failure');

class Fault {
  count = 0;
  fired = false;
  constructor(
    readonly kind: Kind,
    readonly nth: number,
    readonly persist: boolean,
  ) {}
  // hit(kind): true when this call is the one to fail.
  hit(kind: Kind): boolean {
    if (kind !== this.kind || this.fired) return false;
    this.count++;
    if (this.count < this.nth) return false;
    this.fired = true;
    return true;
  }
}

class FaultyTiles implements TileStore {
  violations: string[] = [];
  constructor(
    readonly inner: MemoryTileStore,
    readonly fault: Fault,
  ) {}
  read(p: string): Promise<Uint8Array | null> {
    return this.inner.read(p);
  }
  delete(p: string): Promise<void> {
    return this.inner.delete(p);
  }
  async createIdempotent(p: string, data: Uint8Array): Promise<void> {
    await this.#write(p, () => this.inner.createIdempotent(p, data));
  }
  readonly description = 'a faulty in-memory tile store';
  readWithEtag(p: string): Promise<VersionedObject | null> {
    return this.inner.readWithEtag(p);
  }
  async overwrite(p: string, data: Uint8Array): Promise<void> {
    // Only recovery's repairs overwrite; the checkpoint is always a conditional replace.
    if (p === 'checkpoint') this.violations.push('checkpoint overwritten unconditionally');
    this.#checkTilesFirst(p, data);
    await this.#write(p, () => this.inner.overwrite(p, data));
  }
  async replaceIfMatch(p: string, data: Uint8Array, etag: string | null): Promise<string> {
    this.#checkTilesFirst(p, data);
    let next = '';
    await this.#write(p, async () => {
      next = await this.inner.replaceIfMatch(p, data, etag);
    });
    return next;
  }
  // A checkpoint must never be published before every tile it needs.
  #checkTilesFirst(p: string, data: Uint8Array): void {
    if (p !== 'checkpoint') return;
    const size = Number(new TextDecoder().decode(data).split('\n')[1]);
    for (const t of tilesForSize(size)) {
      if (!this.inner.objects.has(tilePath(t))) this.violations.push(`checkpoint ${size} before ${tilePath(t)}`);
    }
  }
  async #write(p: string, op: () => Promise<void>): Promise<void> {
    if (!this.fault.hit(kindOf(p))) return op();
    if (this.fault.persist) await op();
    throw injected();
  }
}

class FaultyDB implements SequenceDB {
  constructor(
    readonly inner: SqliteSequenceDB,
    readonly fault: Fault,
  ) {}
  get origin(): string {
    return this.inner.origin;
  }
  sequencedSize(): number {
    return this.inner.sequencedSize();
  }
  sequence(batch: readonly SequencedEntry[], dedup: boolean) {
    if (!this.fault.hit('sequence')) return this.inner.sequence(batch, dedup);
    if (this.fault.persist) this.inner.sequence(batch, dedup);
    throw injected();
  }
  readEntries(start: number, end: number) {
    return this.inner.readEntries(start, end);
  }
  entry(i: number) {
    return this.inner.entry(i);
  }
  lookup(h: Uint8Array) {
    return this.inner.lookup(h);
  }
  state() {
    return this.inner.state();
  }
  commitState(expected: number | null, next: TreeState): void {
    if (!this.fault.hit('commit')) return this.inner.commitState(expected, next);
    if (this.fault.persist) this.inner.commitState(expected, next);
    throw injected();
  }
  sizeForRoot(r: Uint8Array) {
    return this.inner.sizeForRoot(r);
  }
  rootForSize(s: number) {
    return this.inner.rootForSize(s);
  }
  checkpointHistory(limit: number, maxSize: number) {
    return this.inner.checkpointHistory(limit, maxSize);
  }
  checkpointsFrom(minSize: number, limit: number) {
    return this.inner.checkpointsFrom(minSize, limit);
  }
  entryBytes(start: number, end: number) {
    return this.inner.entryBytes(start, end);
  }
  notePublished(size: number) {
    this.inner.notePublished(size);
  }
  publishedSize() {
    return this.inner.publishedSize();
  }
  gcCursor() {
    return this.inner.gcCursor();
  }
  setGcCursor(size: number): void {
    this.inner.setGcCursor(size);
  }
  witnessSize(w: string) {
    return this.inner.witnessSize(w);
  }
  setWitnessSize(w: string, size: number): void {
    this.inner.setWitnessSize(w, size);
  }
  close(): void {}
}

let tmp: ReturnType<typeof tempDir>;
beforeEach(() => {
  tmp = tempDir('tilelog-matrix-');
});
afterEach(() => tmp.cleanup());

const cases: [Kind, number, boolean][] = [];
for (const kind of ['tile', 'bundle', 'checkpoint', 'sequence', 'commit'] as Kind[]) {
  for (const persist of [false, true]) cases.push([kind, kind === 'sequence' || kind === 'commit' ? 2 : 3, persist]);
}

describe('failure matrix', () => {
  test.each(cases)('%s write #%i fails (persisted: %s)', async (kind, nth, persist) => {
    const fault = new Fault(kind, nth, persist);
    const sqlite = new SqliteSequenceDB(path.join(tmp.dir, 'log.db'), { origin: ORIGIN });
    const inner = new MemoryTileStore();
    const tiles = new FaultyTiles(inner, fault);
    const opts = { origin: ORIGIN, signer: testSigner, logger: quietLogger, batchMaxEntries: 64 };
    let log: Log = await openLog({ ...opts, db: new FaultyDB(sqlite, fault), tiles });

    const acked = new Map<number, string>();
    const seen: { size: number; root: string }[] = [];
    const observe = (): void => {
      const text = new TextDecoder().decode(inner.objects.get('checkpoint')!);
      const [, size, root] = text.split('\n');
      seen.push({ size: Number(size), root: root! });
    };
    let n = 0;
    for (let round = 0; round < 4; round++) {
      const batch = Array.from({ length: 150 }, () => `entry ${n++}`);
      const results = await Promise.allSettled(batch.map((e) => log.add(utf8(e))));
      results.forEach((r, k) => {
        if (r.status === 'fulfilled') acked.set(r.value.index, batch[k]!);
      });
      const maxAcked = Math.max(-1, ...acked.keys());
      if (maxAcked >= 0) await log.waitForCheckpoint(maxAcked);
      observe();
    }
    expect(fault.fired).toBe(true);
    // A checkpoint write whose response was lost (persisted, then an error) is
    // refused on the retry (the ETag moved) and reconciled: it was our own.
    const { publication } = log.stats();
    expect(publication).toEqual({ stopped: null, reconciled: kind === 'checkpoint' && persist ? 1 : 0 });
    await log.close();
    expect(tiles.violations).toEqual([]);

    // Reopen without faults.
    log = await openLog({ ...opts, db: sqlite, tiles: inner });
    observe();
    const cp = log.checkpoint();
    for (const [index, e] of acked) expect(new TextDecoder().decode(await log.entry(index))).toBe(e);
    // Published sizes never shrink; a size never has two roots.
    const rootOf = new Map<number, string>();
    seen.forEach((s, i) => {
      if (i > 0) expect(s.size).toBeGreaterThanOrEqual(seen[i - 1]!.size);
      expect(rootOf.get(s.size) ?? s.root).toBe(s.root);
      rootOf.set(s.size, s.root);
    });
    // The bundles recompute the checkpoint root.
    const leaves: Uint8Array[] = [];
    for (const t of tilesForSize(cp.size)) {
      if (t.level !== -1) continue;
      for (const e of decodeBundle(inner.objects.get(tilePath(t))!, t.width)) leaves.push(refLeaf(e));
    }
    expect(leaves.length).toBe(cp.size);
    expect(refRoot(leaves)).toEqual(cp.root);
    await log.close();
    sqlite.close();
  });

  test('a refused compare-and-swap stops the log: no more adds, waiters rejected', async () => {
    const sqlite = new SqliteSequenceDB(path.join(tmp.dir, 'log.db'), { origin: ORIGIN });
    const db = new FaultyDB(sqlite, new Fault('commit', 99, false));
    db.commitState = (expected, next) => {
      if (next.size > 0) throw new TilelogError('LOG_FORK', 'refused');
      sqlite.commitState(expected, next);
    };
    const log = await openLog({ origin: ORIGIN, signer: testSigner, logger: quietLogger, db, tiles: new MemoryTileStore() });
    await log.add(utf8('a'));
    await expect(log.waitForCheckpoint(0)).rejects.toMatchObject({ code: 'LOG_FORK' });
    await expect(log.add(utf8('b'))).rejects.toMatchObject({ code: 'LOG_FORK' });
    expect(log.stats().fatal).toMatch(/refused/);
    expect(log.checkpoint().size).toBe(0);
    await log.close();
    sqlite.close();
  });
});
