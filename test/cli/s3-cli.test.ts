// The public tree in a bucket, through the real CLI (child processes) and the
// in-repo S3 test server (which enforces If-None-Match / If-Match): serve on
// s3://, adds with ?wait=checkpoint, /v1/log/info's publicUrl, audit from the
// bucket's HTTP URL and from s3://, monitor --url s3://, partial-tile GC in
// the bucket, and usage errors for bad s3:// values and flags.

import * as fs from 'node:fs';
import * as path from 'node:path';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startS3TestServer, type S3TestServer } from '../support/s3-server.js';
import { runCli, startServe, tempDir, type ServeHandle } from './helpers.js';

const BUCKET = 'tilelog';
const CREDS = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' };
let s3: S3TestServer;
let dir: string;
beforeAll(async () => {
  s3 = await startS3TestServer({ port: 0, buckets: [BUCKET], publicRead: true });
  dir = tempDir('tilelog-s3-cli-');
});
afterAll(async () => {
  await s3.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const s3Flags = () => ['--s3-endpoint', s3.url, '--s3-force-path-style'];
const keysUnder = (prefix: string) => s3.keys(BUCKET).filter((k) => k.startsWith(`${prefix}/`));

async function add(url: string, body: string): Promise<number> {
  const res = await fetch(`${url}/add?wait=checkpoint`, { method: 'POST', body });
  expect(res.status).toBe(200);
  return ((await res.json()) as { index: number }).index;
}

describe('tilelog serve --tiles s3://', () => {
  let serve: ServeHandle | null = null;
  afterAll(async () => {
    await serve?.stop();
  });

  it('serves a log whose tree is in the bucket; audit passes from its HTTP URL and from s3://', async () => {
    const state = path.join(dir, 'state1');
    serve = await startServe(['--state', state, '--tiles', `s3://${BUCKET}/logs/one`, ...s3Flags(), '--listen', '127.0.0.1:0', '--origin', 'example.com/s3log', '--partial-grace-s', '0'], { env: CREDS });
    const summary = serve as unknown as { tiles: string; publicUrl: string };
    expect(summary.tiles).toBe(`s3://${BUCKET}/logs/one`);
    expect(summary.publicUrl).toBe(`${s3.url}/${BUCKET}/logs/one`);

    for (let i = 0; i < 300; i++) await fetch(`${serve.url}/add`, { method: 'POST', body: `entry ${i}` });
    const last = await add(serve.url, 'the last one');
    expect(last).toBe(300);

    const info = (await (await fetch(`${serve.url}/v1/log/info`)).json()) as { publicUrl: string; treeSize: number };
    expect(info.publicUrl).toBe(`${s3.url}/${BUCKET}/logs/one`);
    expect(info.treeSize).toBe(301);

    const keys = keysUnder('logs/one');
    expect(keys).toContain('logs/one/checkpoint');
    expect(keys).toContain('logs/one/tile/entries/000');
    expect(keys).toContain('logs/one/tile/0/001.p/45');
    // The self-test's probes are gone.
    expect(s3.keys(BUCKET).filter((k) => k.includes('.tilelog/probe'))).toEqual([]);

    // The public HTTP view of the bucket (path style) is a complete tlog-tiles log.
    const viaHttp = await runCli(['audit', `${s3.url}/${BUCKET}/logs/one`, '--log-key', serve.verifierKey]);
    expect(viaHttp.code, viaHttp.stderr).toBe(0);
    expect(viaHttp.stdout).toMatch(/^OK: example\.com\/s3log at size 301/);

    const viaS3 = await runCli(['audit', `s3://${BUCKET}/logs/one`, ...s3Flags(), '--log-key', serve.verifierKey, '--json'], { env: CREDS });
    expect(viaS3.code, viaS3.stderr).toBe(0);
    const verdict = JSON.parse(viaS3.stdout) as { ok: boolean; treeSize: number; source: string; signatureVerified: boolean };
    expect(verdict).toMatchObject({ ok: true, treeSize: 301, source: `s3://${BUCKET}/logs/one`, signatureVerified: true });

    // The monitor reads the bucket with the S3 API too.
    const mon = await runCli(['monitor', '--url', `s3://${BUCKET}/logs/one`, ...s3Flags(), '--log-key', serve.verifierKey, '--state', path.join(dir, 'mon'), '--once', '--json'], { env: CREDS });
    expect(mon.code, mon.stderr + mon.stdout).toBe(0);
    expect(JSON.parse(mon.stdout.trim().split('\n').pop()!)).toMatchObject({ status: 'ok', size: 301, audited: 301 });
  });

  it('deletes a replaced checkpoint\'s partial tiles from the bucket after the grace period', async () => {
    // --partial-grace-s 0 above: the partials of size 301 go once a later checkpoint replaces it.
    expect(keysUnder('logs/one')).toContain('logs/one/tile/entries/001.p/45');
    await add(serve!.url, 'one more');
    const deadline = Date.now() + 30_000;
    while (keysUnder('logs/one').includes('logs/one/tile/entries/001.p/45') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const keys = keysUnder('logs/one');
    expect(keys).not.toContain('logs/one/tile/entries/001.p/45');
    expect(keys).not.toContain('logs/one/tile/0/001.p/45');
    expect(keys).toContain('logs/one/tile/entries/001.p/46');
    expect(s3.log.some((r) => r.method === 'DELETE' && r.key === 'logs/one/tile/entries/001.p/45' && r.status === 204)).toBe(true);
    // The tree still audits from the bucket.
    const r = await runCli(['audit', `${s3.url}/${BUCKET}/logs/one`, '--log-key', serve!.verifierKey]);
    expect(r.code, r.stderr).toBe(0);
  });

  it('refuses a fresh log over a prefix that already holds a log, writing nothing', async () => {
    const state = path.join(dir, 'state-fresh');
    const before = keysUnder('logs/one').length;
    const r = await runCli(['serve', '--state', state, '--tiles', `s3://${BUCKET}/logs/one`, ...s3Flags(), '--listen', '127.0.0.1:0'], { env: CREDS });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the bucket s3:\/\/tilelog\/logs\/one already holds a log \(origin example\.com\/s3log, size 302\)/);
    expect(r.stderr).toMatch(/unused prefix/);
    expect(keysUnder('logs/one').length).toBe(before);
    expect(fs.existsSync(path.join(state, 'log.db'))).toBe(false);
  });
});

describe('publicUrl for a tree in a directory', () => {
  it('is the server itself, or --public-url (a CDN)', async () => {
    const own = await startServe(['--state', path.join(dir, 'dir-state'), '--tiles', path.join(dir, 'dir-tiles'), '--listen', '127.0.0.1:0']);
    try {
      expect((own as unknown as { publicUrl: string }).publicUrl).toBe(own.url);
      expect(((await (await fetch(`${own.url}/v1/log/info`)).json()) as { publicUrl: string }).publicUrl).toBe(own.url);
    } finally {
      await own.stop();
    }
    const cdn = await startServe(['--state', path.join(dir, 'dir-state'), '--tiles', path.join(dir, 'dir-tiles'), '--listen', '127.0.0.1:0'], { env: { TILELOG_PUBLIC_URL: 'https://cdn.example/log/' } });
    try {
      expect(((await (await fetch(`${cdn.url}/v1/log/info`)).json()) as { publicUrl: string }).publicUrl).toBe('https://cdn.example/log');
    } finally {
      await cdn.stop();
    }
  });
});

describe('a store that ignores conditional writes (s3rver)', () => {
  let server: S3rver;
  let endpoint: string;
  let s3rverDir: string;
  beforeAll(async () => {
    s3rverDir = tempDir('tilelog-s3rver-cli-');
    server = new S3rver({ address: '127.0.0.1', port: 0, directory: s3rverDir, silent: true, configureBuckets: [{ name: 'interop' }] });
    const { port } = await server.run();
    endpoint = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await server.close();
    fs.rmSync(s3rverDir, { recursive: true, force: true });
  });
  const env = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' };
  const objects = (): string[] => {
    const out: string[] = [];
    const walk = (d: string): void => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) walk(path.join(d, e.name));
        else if (!e.name.startsWith('.')) out.push(path.relative(s3rverDir, path.join(d, e.name)));
      }
    };
    walk(s3rverDir);
    return out;
  };

  it('is refused without --s3-unconditional: a clear message, exit 1, no state, no objects', async () => {
    const state = path.join(dir, 'state-s3rver-refused');
    const r = await runCli(['serve', '--state', state, '--tiles', 's3://interop/log', '--s3-endpoint', endpoint, '--s3-force-path-style', '--listen', '127.0.0.1:0'], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the bucket s3:\/\/interop\/log ignores conditional writes/);
    expect(r.stderr).toMatch(/or pass --s3-unconditional/);
    expect(r.stderr).toMatch(/STORAGE_NO_CONDITIONAL_WRITES/);
    expect(fs.existsSync(state)).toBe(false);
    expect(objects().filter((f) => f.includes('checkpoint') || f.includes('tile'))).toEqual([]);
  });

  it('is accepted with --s3-unconditional, with a loud warning, and the log works', async () => {
    const state = path.join(dir, 'state-s3rver-accepted');
    const serve = await startServe(['--state', state, '--tiles', 's3://interop/log', '--s3-endpoint', endpoint, '--s3-force-path-style', '--s3-unconditional', '--listen', '127.0.0.1:0'], { env });
    try {
      expect(serve.stderr()).toMatch(/WARNING: --s3-unconditional: the bucket s3:\/\/interop\/log ignores conditional writes/);
      expect(serve.stderr()).toMatch(/move the public checkpoint BACKWARDS/);
      expect(serve.stderr()).toMatch(/fencing is by timing only/);
      await add(serve.url, 'through s3rver');
      const r = await runCli(['audit', 's3://interop/log', '--s3-endpoint', endpoint, '--s3-force-path-style', '--log-key', serve.verifierKey], { env });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^OK: .* at size 1 /);
      // The refusal check above can see objects: here they are.
      expect(objects().some((f) => f.includes('checkpoint'))).toBe(true);
    } finally {
      await serve.stop();
    }
  });

  it('the warning is not printed against a store that enforces conditions, only a note', async () => {
    const state = path.join(dir, 'state-enforcing-unconditional');
    const serve = await startServe(['--state', state, '--tiles', `s3://${BUCKET}/logs/uncond`, ...s3Flags(), '--s3-unconditional', '--listen', '127.0.0.1:0'], { env: CREDS });
    try {
      expect(serve.stderr()).not.toMatch(/WARNING/);
      expect(serve.stderr()).toMatch(/--s3-unconditional is not needed/);
    } finally {
      await serve.stop();
    }
  });
});

describe('bad s3:// values and --s3-* flags are usage errors', () => {
  const cases: [string[], RegExp][] = [
    [['serve', '--tiles', 's3://Bad_Bucket/x'], /bad bucket name "Bad_Bucket"/],
    [['serve', '--tiles', 's3://tilelog/a//b'], /bad key prefix "a\/\/b": empty path segment/],
    [['serve', '--tiles', 's3://tilelog/../x'], /"\." and "\.\." segments are not allowed/],
    [['serve', '--tiles', 'gs://tilelog/x'], /only a directory or s3:\/\/<bucket>\[\/<prefix>\]/],
    [['serve', '--tiles', 'tiles', '--s3-endpoint', 'http://127.0.0.1:9'], /the --s3-\* settings need --tiles s3:\/\//],
    [['serve', '--tiles', 's3://tilelog/x', '--s3-endpoint', 'ftp://x'], /--s3-endpoint must be an http:\/\/ or https:\/\/ URL/],
    [['serve', '--tiles', 's3://tilelog/x', '--s3-region', 'Not A Region'], /--s3-region must be a region name/],
    [['serve', '--public-url', 'nope'], /--public-url must be a URL/],
    [['audit', 's3://x'], /bad bucket name "x"/],
    [['monitor', '--url', 's3://UPPER', '--log-key', 'a+01234567+AQ', '--state', '/tmp/x'], /bad bucket name "UPPER"/],
    [['tiles', 'copy', 'tiles', 'https://example.com/log'], /<to> must be a directory or s3:\/\//],
    [['tiles', 'copy', 's3://tilelog/a', 's3://tilelog/a/'], /<from> and <to> are the same place/],
    [['tiles', 'move', 'a', 'b'], /unknown subcommand "move"/],
  ];
  for (const [args, message] of cases) {
    it(args.join(' '), async () => {
      const r = await runCli(args, { env: { ...CREDS, TILELOG_S3_ENDPOINT: '' } });
      expect(r.stderr).toMatch(message);
      expect(r.code).toBe(2);
    });
  }

  it('TILELOG_S3_* variables and config-file fields set the same options (--print-config)', async () => {
    const env = { TILELOG_TILES: 's3://tilelog/cfg', TILELOG_S3_ENDPOINT: 'http://127.0.0.1:9000', TILELOG_S3_FORCE_PATH_STYLE: '1' };
    const fromEnv = await runCli(['serve', '--print-config', '--state', path.join(dir, 'p')], { env });
    expect(fromEnv.code, fromEnv.stderr).toBe(0);
    expect(JSON.parse(fromEnv.stdout)).toMatchObject({
      tiles: 's3://tilelog/cfg',
      's3-endpoint': 'http://127.0.0.1:9000',
      's3-force-path-style': true,
      's3-unconditional': false,
      'public-url': 'http://127.0.0.1:9000/tilelog/cfg',
    });
    const file = path.join(dir, 'cfg.json');
    fs.writeFileSync(file, JSON.stringify({ tiles: 's3://tilelog/f', 's3-region': 'eu-west-1', 's3-unconditional': true, 'public-url': 'https://cdn.example/log' }));
    const fromFile = await runCli(['serve', '--print-config', '--config', file, '--state', path.join(dir, 'p')], { env: { TILELOG_S3_ENDPOINT: '' } });
    expect(fromFile.code, fromFile.stderr).toBe(0);
    expect(JSON.parse(fromFile.stdout)).toMatchObject({ tiles: 's3://tilelog/f', 's3-region': 'eu-west-1', 's3-unconditional': true, 'public-url': 'https://cdn.example/log' });
    // No endpoint: AWS's virtual-hosted URL in the region.
    fs.writeFileSync(file, JSON.stringify({ tiles: 's3://tilelog/f', 's3-region': 'eu-west-1' }));
    const aws = await runCli(['serve', '--print-config', '--config', file, '--state', path.join(dir, 'p')], { env: { TILELOG_S3_ENDPOINT: '' } });
    expect(JSON.parse(aws.stdout)['public-url']).toBe('https://tilelog.s3.eu-west-1.amazonaws.com/f');
    fs.writeFileSync(file, JSON.stringify({ 's3-force-path-style': 'yes' }));
    const bad = await runCli(['serve', '--print-config', '--config', file], {});
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/field "s3-force-path-style" must be true or false/);
  });
});
