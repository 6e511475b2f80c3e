// Invariant tests for recovery: each fails if open stops refusing a
// contradiction or stops repairing what it must.
import Database from 'better-sqlite3';
import { readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { isTilelogError, type ErrorCode } from '../../src/errors.js';
import { integrate, writeTiles } from '../../src/log/integrator.js';
import { openFileLog, type Log } from '../../src/log/index.js';
import { makeHasher } from '../../src/merkle/hash.js';
import { TreeEdge } from '../../src/merkle/edge.js';
import { tilePath } from '../../src/merkle/layout.js';
import { nodeSha256 } from '../../src/log/options.js';
import { signCheckpoint } from '../../src/note/checkpoint.js';
import { generateSignerKey, parseSignerKey } from '../../src/note/keys.js';
import { FileTileStore } from '../../src/storage/file-tile-store.js';
import { SqliteSequenceDB } from '../../src/storage/sqlite-sequence-db.js';
import { SqliteLogStore } from '../../src/storage/sqlite-log-store.js';
import { ORIGIN, quietLogger, tempDir, testSigner, utf8 } from './helpers.js';
import { refLeaf, refRoot } from './reference.js';

let tmp: ReturnType<typeof tempDir>;
let stateDir: string;
let tilesDir: string;
let log: Log | null = null;

const open = (signer = testSigner): Promise<Log> =>
  openFileLog({ origin: ORIGIN, signer, stateDir, tilesDir, logger: quietLogger });

const entry = (i: number): Uint8Array => utf8(`entry number ${i}`);
const leaves = (n: number): Uint8Array[] => Array.from({ length: n }, (_, i) => refLeaf(entry(i)));

// A closed log with checkpoints at each of sizes (in order).
async function build(...sizes: number[]): Promise<void> {
  const l = await open();
  let done = 0;
  for (const size of sizes) {
    await Promise.all(Array.from({ length: size - done }, (_, k) => l.add(entry(done + k))));
    await l.waitForCheckpoint(size - 1);
    done = size;
  }
  await l.close();
}

async function refusesWith(code: ErrorCode, pattern?: RegExp): Promise<void> {
  const err = await open().then(
    async (l) => {
      await l.close();
      return null;
    },
    (e: unknown) => e,
  );
  expect(isTilelogError(err, code), `expected ${code}, got ${String(err)}`).toBe(true);
  if (pattern !== undefined) expect((err as Error).message).toMatch(pattern);
}

function sql(fn: (db: Database.Database) => void): void {
  const db = new Database(path.join(stateDir, 'log.db'));
  try {
    fn(db);
  } finally {
    db.close();
  }
}

const publicCheckpoint = (): string => readFileSync(path.join(tilesDir, 'checkpoint'), 'utf8');
const writePublic = (text: string): void => writeFileSync(path.join(tilesDir, 'checkpoint'), text);

beforeEach(() => {
  tmp = tempDir('tilelog-recover-');
  stateDir = path.join(tmp.dir, 'state');
  tilesDir = path.join(tmp.dir, 'tiles');
});
afterEach(async () => {
  await log?.close();
  log = null;
  tmp.cleanup();
});

describe('recovery refuses contradictions (LOG_CORRUPT)', () => {
  test('the DB state names another root for its size', async () => {
    await build(5, 9);
    const other = new Uint8Array(32).fill(3);
    const text = signCheckpoint({ origin: ORIGIN, size: 9, root: other, extensions: [] }, testSigner);
    sql((db) => db.prepare('UPDATE tree_state SET root = ?, text = ?').run(Buffer.from(other), text));
    await refusesWith('LOG_CORRUPT', /edge does not reproduce/);
  });

  test('the history holds another root for the signed size', async () => {
    await build(5, 9);
    sql((db) => db.prepare('UPDATE checkpoints SET root = ? WHERE size = 9').run(Buffer.alloc(32, 7)));
    await refusesWith('LOG_CORRUPT', /another root for size 9/);
  });

  test('the stored edge was altered', async () => {
    await build(5, 9);
    sql((db) => db.prepare('UPDATE tree_state SET edge = ?').run(Buffer.alloc(9 * 32, 1)));
    await refusesWith('LOG_CORRUPT');
  });

  test('the public checkpoint is ahead of the DB', async () => {
    await build(5);
    writePublic(signCheckpoint({ origin: ORIGIN, size: 8, root: new Uint8Array(32).fill(1), extensions: [] }, testSigner));
    await refusesWith('LOG_CORRUPT', /ahead/);
  });

  test('the public checkpoint has another root for the same size', async () => {
    await build(5);
    writePublic(signCheckpoint({ origin: ORIGIN, size: 5, root: new Uint8Array(32).fill(1), extensions: [] }, testSigner));
    await refusesWith('LOG_CORRUPT', /contradicts/);
  });

  test('the public checkpoint is an older size the DB never signed', async () => {
    await build(5, 9);
    writePublic(signCheckpoint({ origin: ORIGIN, size: 7, root: refRoot(leaves(7)), extensions: [] }, testSigner));
    await refusesWith('LOG_CORRUPT', /never signed that size/);
  });

  test('the public checkpoint is not signed by the log key', async () => {
    await build(5);
    const stranger = parseSignerKey(generateSignerKey(ORIGIN).signerKey);
    writePublic(signCheckpoint({ origin: ORIGIN, size: 5, root: refRoot(leaves(5)), extensions: [] }, stranger));
    await refusesWith('LOG_FOREIGN_TILES', /holds the tree of origin .*, size 5, signed by .*\+[0-9a-f]{8}, but the state directory .* is the log of origin/);
    writePublic('garbage\n');
    await refusesWith('LOG_FOREIGN_TILES', /a checkpoint that does not parse/);
  });

  test('a fresh DB over tiles that already have a checkpoint', async () => {
    await build(5);
    rmSync(stateDir, { recursive: true });
    await refusesWith('LOG_CORRUPT', /refusing to start a new log over existing tiles/);
  });

  test('a different signer than the one that signed the DB state: LOG_CONFIG', async () => {
    await build(5);
    const other = parseSignerKey(generateSignerKey(ORIGIN).signerKey);
    const err = await open(other).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isTilelogError(err, 'LOG_CONFIG')).toBe(true);
  });
});

describe('recovery writes nothing to tiles that are not ours (checked before the repair step)', () => {
  const tileBytes = (p: string) => readFileSync(path.join(tilesDir, p));

  test("another log's tiles (its own origin and key): LOG_FOREIGN_TILES, and its partial tiles are left as they are", async () => {
    await build(3, 5); // our last step 3 -> 5 would rewrite tile/0/000.p/5 and tile/entries/000.p/5
    const otherOrigin = 'other.tilelog.example/log';
    const other = parseSignerKey(generateSignerKey(otherOrigin).signerKey);
    const otherTiles = path.join(tmp.dir, 'other-tiles');
    const l = await openFileLog({ origin: otherOrigin, signer: other, stateDir: path.join(tmp.dir, 'other-state'), tilesDir: otherTiles, logger: quietLogger });
    for (const [from, to] of [[0, 3], [3, 5]] as const) {
      const added = await Promise.all(Array.from({ length: to - from }, (_, k) => l.add(utf8(`other ${from + k}`))));
      await l.waitForCheckpoint(Math.max(...added.map((a) => a.index)));
    }
    await l.close();
    tilesDir = otherTiles;
    const before = ['checkpoint', 'tile/0/000.p/5', 'tile/entries/000.p/5'].map(tileBytes);
    await refusesWith('LOG_FOREIGN_TILES', new RegExp(`holds the tree of origin ${otherOrigin}, size 5, signed by ${otherOrigin}\\+[0-9a-f]{8}, but the state directory`));
    expect(['checkpoint', 'tile/0/000.p/5', 'tile/entries/000.p/5'].map(tileBytes)).toEqual(before);
  });

  test('a public checkpoint of ours that is ahead of the DB: LOG_CORRUPT, and a damaged tile of the last step is not rewritten', async () => {
    await build(3, 5);
    writeFileSync(path.join(tilesDir, 'tile/0/000.p/5'), 'damaged');
    writePublic(signCheckpoint({ origin: ORIGIN, size: 8, root: new Uint8Array(32).fill(1), extensions: [] }, testSigner));
    await refusesWith('LOG_CORRUPT', /ahead/);
    expect(readFileSync(path.join(tilesDir, 'tile/0/000.p/5'), 'utf8')).toBe('damaged');
  });
});

describe('recovery repairs and resumes', () => {
  test('a missing or older public checkpoint is republished from the DB', async () => {
    await build(5);
    const five = publicCheckpoint();
    await build(9);
    const nine = publicCheckpoint();
    writePublic(five);
    log = await open();
    expect(publicCheckpoint()).toBe(nine);
    await log.close();
    rmSync(path.join(tilesDir, 'checkpoint'));
    log = await open();
    expect(publicCheckpoint()).toBe(nine);
    expect(log.checkpoint().size).toBe(9);
  });

  test('missing and truncated tiles of the last step are rewritten', async () => {
    await build(10, 510);
    const names = ['tile/0/000', 'tile/0/001.p/254', 'tile/1/000.p/1', 'tile/entries/000', 'tile/entries/001.p/254'];
    const before = new Map(names.map((n) => [n, readFileSync(path.join(tilesDir, n))]));
    rmSync(path.join(tilesDir, 'tile/0/000'));
    truncateSync(path.join(tilesDir, 'tile/entries/001.p/254'), 100);
    writeFileSync(path.join(tilesDir, 'tile/1/000.p/1'), Buffer.alloc(32));
    log = await open();
    expect(log.stats().repairedAtOpen).toBe(3);
    for (const n of names) expect(readFileSync(path.join(tilesDir, n)).equals(before.get(n)!), n).toBe(true);
    // Proofs work again over the repaired tiles.
    expect(await log.treeHash(300)).toEqual(refRoot(leaves(300)));
  });

  test('an integration interrupted between the tiles and the DB update resumes at open', async () => {
    await build(10);
    // Simulate a crash mid-pass: 300 more entries are durable, and part of
    // the tiles for size 310 were written, but the DB state is still at 10.
    const db = new SqliteSequenceDB(path.join(stateDir, 'log.db'), { origin: ORIGIN });
    db.sequence(
      Array.from({ length: 300 }, (_, k) => ({ bytes: entry(10 + k), leafHash: refLeaf(entry(10 + k)) })),
      true,
    );
    const state = db.state()!;
    const step = await integrate(TreeEdge.fromBytes(state.size, state.edge), new SqliteLogStore(db), 310, makeHasher(nodeSha256));
    await writeTiles(new FileTileStore(tilesDir), step.writes.slice(0, 2));
    db.close();
    expect(publicCheckpoint()).toMatch(/\n10\n/);

    log = await open();
    const cp = log.checkpoint();
    expect(cp.size).toBe(310);
    expect(cp.root).toEqual(refRoot(leaves(310)));
    expect(publicCheckpoint()).toBe(cp.text);
    for (const w of step.writes) {
      const p = path.join(tilesDir, tilePath(w.tile));
      expect(readFileSync(p).equals(Buffer.from(w.data))).toBe(true);
    }
  });
});
