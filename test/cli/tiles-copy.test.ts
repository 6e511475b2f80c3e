// tilelog tiles copy through the real CLI: a served log's tiles directory ->
// the test S3 server -> another directory, byte-identical; a re-run is
// idempotent; a grown log extends an older copy; refusals (another log, a
// newer tree, conflicting objects, a source failing its audit, a wrong key)
// write nothing the destination did not already hold; --dry-run writes nothing.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tilePath, tilesForSize } from '../../src/merkle/index.js';
import { startS3TestServer, type S3TestServer } from '../support/s3-server.js';
import { runCli, startServe, tempDir } from './helpers.js';

const BUCKET = 'copies';
const env = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' };
let s3: S3TestServer;
let dir: string;
let vkey: string;
let otherVkey: string;
const s3Flags = () => ['--s3-endpoint', s3.url, '--s3-force-path-style'];

/** Every file under root, relative path -> bytes. */
function tree(root: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(path.relative(root, p), fs.readFileSync(p));
    }
  };
  walk(root);
  return out;
}

/** Serves a log on tilesDir, adds n entries (waiting for the checkpoint), stops it; returns the verifier key. */
async function makeLog(state: string, tilesDir: string, n: number, origin: string, from = 0): Promise<string> {
  const serve = await startServe(['--state', state, '--tiles', tilesDir, '--listen', '127.0.0.1:0', '--origin', origin, '--partial-grace-s', '3600']);
  try {
    for (let i = from; i < from + n - 1; i++) await fetch(`${serve.url}/add`, { method: 'POST', body: `${origin} entry ${i}` });
    const res = await fetch(`${serve.url}/add?wait=checkpoint`, { method: 'POST', body: `${origin} entry ${from + n - 1}` });
    expect(res.status).toBe(200);
  } finally {
    expect((await serve.stop()).code).toBe(0);
  }
  return serve.verifierKey;
}

beforeAll(async () => {
  s3 = await startS3TestServer({ port: 0, buckets: [BUCKET], publicRead: true });
  dir = tempDir('tilelog-copy-');
  vkey = await makeLog(path.join(dir, 'state'), path.join(dir, 'tiles'), 600, 'example.com/copied');
  otherVkey = await makeLog(path.join(dir, 'other-state'), path.join(dir, 'other-tiles'), 3, 'example.com/other');
});
afterAll(async () => {
  await s3.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('tilelog tiles copy', () => {
  it('dry run: checks, counts, writes nothing', async () => {
    const r = await runCli(['tiles', 'copy', path.join(dir, 'tiles'), `s3://${BUCKET}/moved`, ...s3Flags(), '--log-key', vkey, '--dry-run'], { env });
    expect(r.code, r.stderr).toBe(0);
    // 600 entries: bundles 000, 001, 002.p/88; level 0: 000, 001, 002.p/88; level 1: 000.p/2.
    expect(r.stdout).toMatch(/^dry run: .* holds example\.com\/copied at size 600 .* signature verified; every tile and bundle checks out\.\nWould copy 7 objects \(/);
    expect(r.stdout).toMatch(/Nothing was written/);
    expect(s3.keys(BUCKET, 'moved/')).toEqual([]);
  });

  it('directory -> bucket -> directory is byte-identical, and a re-run is idempotent', async () => {
    const toBucket = await runCli(['tiles', 'copy', path.join(dir, 'tiles'), `s3://${BUCKET}/moved`, ...s3Flags(), '--log-key', vkey], { env });
    expect(toBucket.code, toBucket.stderr).toBe(0);
    expect(toBucket.stdout).toMatch(/^OK: copied example\.com\/copied at size 600 .*: 7 objects \(.*\), each read back identical, then the checkpoint; the root recomputes from the entries \(signature verified\)/);
    expect(toBucket.stdout).toContain(`  tilelog serve --state <its state dir> --tiles s3://${BUCKET}/moved --s3-endpoint ${s3.url} --s3-force-path-style\n`);
    expect(toBucket.stderr).toMatch(/100\.0% 600\/600 entries/);
    // The objects the checkpoint needs (the source also keeps older partials, not copied).
    const all = tree(path.join(dir, 'tiles'));
    const needed = ['checkpoint', ...tilesForSize(600).map(tilePath)];
    expect(all.size).toBeGreaterThan(needed.length);
    const src = new Map(needed.map((p) => [p, all.get(p)!]));
    expect(s3.keys(BUCKET, 'moved/').map((k) => k.slice('moved/'.length))).toEqual([...src.keys()].sort());
    // Uploaded with the object class's cache headers.
    const full = s3.log.find((x) => x.method === 'PUT' && x.key === 'moved/tile/entries/000');
    expect(full?.cacheControl).toBe('public, max-age=31536000, immutable');
    expect(s3.log.find((x) => x.method === 'PUT' && x.key === 'moved/checkpoint')?.ifNoneMatch).toBe('*');

    const back = path.join(dir, 'back');
    const toDir = await runCli(['tiles', 'copy', `s3://${BUCKET}/moved`, back, ...s3Flags(), '--log-key', vkey], { env });
    expect(toDir.code, toDir.stderr).toBe(0);
    const copied = tree(back);
    expect([...copied.keys()].sort()).toEqual([...src.keys()].sort());
    for (const [k, v] of src) expect(copied.get(k)!.equals(v), k).toBe(true);

    const putsBefore = s3.log.filter((x) => x.method === 'PUT').length;
    const again = await runCli(['tiles', 'copy', path.join(dir, 'tiles'), `s3://${BUCKET}/moved`, ...s3Flags(), '--log-key', vkey], { env });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/it already held this tree; checkpoint left as it was/);
    // Only conditional creates (each answered 412 and compared); no checkpoint write.
    const puts = s3.log.filter((x) => x.method === 'PUT').slice(putsBefore).filter((x) => !x.key.includes('.tilelog/'));
    expect(puts.every((x) => x.ifNoneMatch === '*' && x.key !== 'moved/checkpoint' && x.status === 412)).toBe(true);

    // And the copy audits from the bucket's HTTP URL.
    const audit = await runCli(['audit', `${s3.url}/${BUCKET}/moved`, '--log-key', vkey]);
    expect(audit.code, audit.stderr).toBe(0);
  });

  it('extends an older copy once the log grew', async () => {
    const older = path.join(dir, 'older');
    fs.cpSync(path.join(dir, 'tiles'), older, { recursive: true });
    await makeLog(path.join(dir, 'state'), path.join(dir, 'tiles'), 20, 'example.com/copied', 600);
    const r = await runCli(['tiles', 'copy', path.join(dir, 'tiles'), older, '--log-key', vkey]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/at size 620 .*\(it held size 600; extended\)/);
    expect(fs.readFileSync(path.join(older, 'checkpoint')).equals(fs.readFileSync(path.join(dir, 'tiles', 'checkpoint')))).toBe(true);
  });

  it('refuses a destination holding another log, or a newer tree, and writes nothing', async () => {
    const other = path.join(dir, 'other-tiles');
    const before = tree(other);
    const r = await runCli(['tiles', 'copy', path.join(dir, 'tiles'), other]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/already holds another log \(origin example\.com\/other, size 3\), not example\.com\/copied; refusing to copy/);
    expect(tree(other)).toEqual(before);

    // The bucket copy is at 600; the directory at 620 is newer than it.
    const newer = await runCli(['tiles', 'copy', `s3://${BUCKET}/moved`, path.join(dir, 'tiles'), ...s3Flags()], { env });
    expect(newer.code).toBe(1);
    expect(newer.stderr).toMatch(/a newer checkpoint of example\.com\/copied \(size 620 > 600\): the source is behind/);
  });

  it('refuses a destination whose objects differ (no checkpoint there yet)', async () => {
    const dest = path.join(dir, 'conflict');
    fs.mkdirSync(path.join(dest, 'tile', 'entries'), { recursive: true });
    fs.writeFileSync(path.join(dest, 'tile', 'entries', '000'), 'not the bundle');
    const r = await runCli(['tiles', 'copy', path.join(dir, 'tiles'), dest]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/already holds tile\/entries\/000 with other bytes/);
    expect(fs.readFileSync(path.join(dest, 'tile', 'entries', '000'), 'utf8')).toBe('not the bundle');
    expect(fs.existsSync(path.join(dest, 'checkpoint'))).toBe(false);
  });

  it('refuses a source that fails its audit before writing the bad object, and never writes its checkpoint', async () => {
    const bad = path.join(dir, 'bad-src');
    fs.cpSync(path.join(dir, 'tiles'), bad, { recursive: true });
    const tile = path.join(bad, 'tile', '0', '001');
    const bytes = fs.readFileSync(tile);
    bytes[5] = bytes[5]! ^ 1;
    fs.writeFileSync(tile, bytes);
    const dest = path.join(dir, 'from-bad');
    const r = await runCli(['tiles', 'copy', bad, dest, '--log-key', vkey]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/fails the audit.*\n {2}tile\/0\/001: hash 0 differs/);
    expect(fs.existsSync(path.join(dest, 'tile', '0', '001'))).toBe(false);
    expect(fs.existsSync(path.join(dest, 'checkpoint'))).toBe(false);
  });

  it('refuses a checkpoint that does not verify with --log-key', async () => {
    const dest = path.join(dir, 'wrong-key');
    const r = await runCli(['tiles', 'copy', path.join(dir, 'tiles'), dest, '--log-key', otherVkey]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/does not verify with key example\.com\/other/);
    expect(fs.existsSync(dest)).toBe(false);
  });
});
