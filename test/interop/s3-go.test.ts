// Go interop against a bucket (SCALE-OUT T12, issue 12): the same entries,
// added in the same batches, go into a log on a tiles directory and a log on
// the test S3 server, with the same key and origin. Every object (checkpoint,
// every full and partial tile and bundle) must be byte-identical in both, and
// the independent Go client on golang.org/x/mod/sumdb (tlogcheck) must verify
// the bucket through its public HTTP view: every bundle and tile, inclusion
// proofs, and consistency with a checkpoint published earlier.
// Needs Go and x/mod like go.test.ts (skipped locally without them, fails in CI).
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFileLog, type Log } from '../../src/log/index.js';
import { openS3TileStore, type S3TileStore } from '../../src/storage/s3-tile-store.js';
import { startS3TestServer, type S3TestServer } from '../support/s3-server.js';
import { ORIGIN, quietLogger, tempDir, testKey, testSigner, utf8 } from '../log/helpers.js';
import { buildTlogcheck, goMissing, INSTALL_HINT, runTlogcheckAsync } from './tlogcheck.js';

const BUCKET = 'interop';
const PREFIX = 'go/log';
/** Batch sizes: sizes 1, 3, 258, 259, 559, 1559, 1812: partials at every level-0 and level-1 width, full tiles crossed. */
const BATCHES = [1, 2, 255, 1, 300, 1000, 253];
const missing = goMissing();

if (missing !== null && process.env.CI) {
  describe('Go interop against a bucket', () => {
    it('needs the Go toolchain in CI', () => {
      throw new Error(`Go interop test cannot run: ${missing}; ${INSTALL_HINT}`);
    });
  });
}

// filesUnder(dir): every file's path relative to dir ('/'-separated), without dotfiles (disk probes).
function filesUnder(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[])
    .map((p) => p.split(path.sep).join('/'))
    .filter((p) => !p.split('/').some((part) => part.startsWith('.')) && statSync(path.join(dir, p)).isFile())
    .sort();
}

describe.skipIf(missing !== null)('Go interop against a bucket (golang.org/x/mod/sumdb over the bucket HTTP view)', () => {
  const tmp = tempDir('tilelog-s3-go-');
  let srv: S3TestServer;
  let store: S3TileStore;
  let bin: string;
  let oldCheckpoint: string;

  beforeAll(async () => {
    bin = buildTlogcheck(tmp.dir);
    srv = await startS3TestServer({ buckets: [BUCKET], publicRead: true });
    store = await openS3TileStore({ bucket: BUCKET, prefix: PREFIX, endpoint: srv.url, forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    // Superseded partials are kept (no collection during the test), so both trees hold every object ever written.
    const common = { origin: ORIGIN, signer: testSigner, logger: quietLogger, partialGraceMs: 3_600_000 };
    const onFiles = await openFileLog({ ...common, stateDir: path.join(tmp.dir, 'file-state'), tilesDir: path.join(tmp.dir, 'tiles') });
    const onBucket = await openFileLog({ ...common, stateDir: path.join(tmp.dir, 's3-state'), tileStore: store });
    try {
      let n = 0;
      for (const [i, count] of BATCHES.entries()) {
        const entries = Array.from({ length: count }, () => utf8(`interop entry ${n++} ${'x'.repeat(n % 97)}`));
        // One batch each (added together), then its checkpoint: both logs publish the same sizes.
        for (const log of [onFiles, onBucket] as Log[]) {
          const added = await Promise.all(entries.map((e) => log.add(e)));
          await log.waitForCheckpoint(Math.max(...added.map((r) => r.index)), AbortSignal.timeout(30_000));
        }
        if (i === 3) {
          oldCheckpoint = path.join(tmp.dir, 'old-checkpoint');
          writeFileSync(oldCheckpoint, (await store.read('checkpoint'))!);
        }
      }
      expect(onFiles.checkpoint().size).toBe(n);
      expect(onBucket.checkpoint().size).toBe(n);
    } finally {
      await onFiles.close();
      await onBucket.close();
    }
  }, 120_000);

  afterAll(async () => {
    store?.close();
    await srv?.close();
    tmp.cleanup();
  });

  it('every object in the bucket is byte-identical to the file store, and none is missing or extra', () => {
    const fileKeys = filesUnder(path.join(tmp.dir, 'tiles'));
    const bucketKeys = srv.keys(BUCKET, `${PREFIX}/`).map((k) => k.slice(PREFIX.length + 1));
    expect(bucketKeys).toEqual(fileKeys);
    expect(fileKeys).toContain('tile/1/000.p/7');
    expect(fileKeys).toContain('tile/0/006.p/23');
    expect(fileKeys).toContain('tile/entries/001');
    for (const key of fileKeys) {
      const fromFile = readFileSync(path.join(tmp.dir, 'tiles', key));
      expect(Buffer.compare(srv.getObject(BUCKET, `${PREFIX}/${key}`)!.data, fromFile), key).toBe(0);
    }
    console.log(`s3 Go interop: ${fileKeys.length} objects byte-identical between the tiles directory and the bucket`);
  });

  it('the Go client verifies the bucket over HTTP: every bundle and tile, inclusion proofs, consistency with an earlier checkpoint', async () => {
    const base = `${srv.url}/${BUCKET}/${PREFIX}`;
    const r = await runTlogcheckAsync(bin, ['-url', `${base}/`, '-vkey', testKey.verifierKey, '-origin', ORIGIN, '-proofs', '200', '-old', oldCheckpoint]);
    expect(r.json, r.stderr).toMatchObject({ ok: true, size: 1812, entries: 1812, inclusionProofs: 200 });
    expect(r.json.consistency).toHaveLength(1);
    expect(r.status).toBe(0);
  });

  it('the Go client rejects the bucket once one tile in it is changed', async () => {
    const key = `${PREFIX}/tile/0/003`;
    const obj = srv.getObject(BUCKET, key)!;
    const bad = Buffer.from(obj.data);
    bad[100] = bad[100]! ^ 1;
    srv.putObject(BUCKET, key, bad);
    try {
      const r = await runTlogcheckAsync(bin, ['-url', `${srv.url}/${BUCKET}/${PREFIX}/`, '-vkey', testKey.verifierKey, '-proofs', '16']);
      expect(r.json.ok, JSON.stringify(r.json)).toBe(false);
      expect(r.status).toBe(1);
    } finally {
      srv.putObject(BUCKET, key, obj.data);
    }
  });
});
