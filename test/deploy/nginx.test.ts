// deploy/nginx.conf, exercised: Debian's nginx (a non-daemon child on
// 127.0.0.1, temp prefix, no root paths) serves a real `tilelog serve`'s
// tiles/ from disk and proxies writes and proofs to it. The log is verified
// through nginx with the SDK's TileClient, and the cache headers are checked.
// Without nginx this fails under CI (process.env.CI) and is skipped otherwise.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { TileClient } from '../../src/client/index.js';
import { startServe, tempDir, REPO, type ServeHandle } from '../cli/helpers.js';
import { freePort } from '../support/free-port.js';

const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => fs.existsSync(p));
if (NGINX === undefined && process.env.CI) {
  throw new Error('nginx is not installed; .ci/run installs it (apt-get install nginx)');
}

const IMMUTABLE = 'public, max-age=31536000, immutable';


/** deploy/nginx.conf with its marked lines pointed at the test's tiles, ports and temp dir. */
export function siteConfig(tilesDir: string, nginxPort: number, tilelogPort: number): string {
  const text = fs.readFileSync(path.join(REPO, 'deploy/nginx.conf'), 'utf8');
  const out = text
    .replace(/server 127\.0\.0\.1:8080;/, `server 127.0.0.1:${tilelogPort};`)
    .replace(/listen 80;/, `listen 127.0.0.1:${nginxPort};`)
    .replace(/root \/var\/lib\/tilelog\/tiles;/, `root ${tilesDir};`);
  for (const marker of [`127.0.0.1:${tilelogPort};`, `listen 127.0.0.1:${nginxPort};`, `root ${tilesDir};`]) {
    if (!out.includes(marker)) throw new Error(`deploy/nginx.conf changed: cannot place ${marker}`);
  }
  return out;
}

describe.skipIf(NGINX === undefined)('deploy/nginx.conf in front of tilelog serve', () => {
  let dir: string;
  let serve: ServeHandle;
  let nginx: ChildProcess;
  let nginxErr = '';
  let base: string;

  /** Starts nginx in front of tilesDir and tilelog on port; 'in-use' when the port was taken meanwhile. */
  async function startNginx(tiles: string, port: number, tilelogPort: number): Promise<ChildProcess | 'in-use'> {
    const prefix = path.join(dir, 'nginx');
    fs.mkdirSync(path.join(prefix, 'tmp'), { recursive: true });
    fs.writeFileSync(path.join(prefix, 'site.conf'), siteConfig(tiles, port, tilelogPort));
    const t = (n: string) => path.join(prefix, 'tmp', n);
    fs.writeFileSync(
      path.join(prefix, 'nginx.conf'),
      `daemon off;\nmaster_process off;\nworker_processes 1;\npid ${t('nginx.pid')};\nerror_log ${t('error.log')} warn;\n` +
        `events { worker_connections 256; }\n` +
        `http {\n  access_log ${t('access.log')};\n  client_body_temp_path ${t('body')};\n  proxy_temp_path ${t('proxy')};\n` +
        `  fastcgi_temp_path ${t('fastcgi')};\n  uwsgi_temp_path ${t('uwsgi')};\n  scgi_temp_path ${t('scgi')};\n` +
        `  include ${path.join(prefix, 'site.conf')};\n}\n`,
    );
    const child = spawn(NGINX!, ['-p', prefix, '-c', path.join(prefix, 'nginx.conf'), '-e', t('error.log')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      nginxErr += d.toString();
    });
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      if (child.exitCode !== null) {
        const log = fs.existsSync(t('error.log')) ? fs.readFileSync(t('error.log'), 'utf8') : '';
        if (/Address already in use/.test(err + log)) return 'in-use';
        throw new Error(`nginx exited ${child.exitCode}: ${err}${log}`);
      }
      try {
        await fetch(`${base}/healthz`);
        return child;
      } catch {
        if (i > 100) throw new Error(`nginx did not start: ${nginxErr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  beforeAll(async () => {
    dir = tempDir('tilelog-nginx-');
    const tiles = path.join(dir, 'tiles');
    serve = await startServe(['--state', path.join(dir, 'state'), '--tiles', tiles, '--listen', '127.0.0.1:0', '--log-level', 'warn']);
    // nginx binds a port we pick, so another process may take it first: on
    // "Address already in use" try again with a fresh port.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const started = await startNginx(tiles, port, Number(new URL(serve.url).port));
      if (started === 'in-use' && attempt < 5) continue;
      if (started === 'in-use') throw new Error(`nginx: no free port after ${attempt} attempts: ${nginxErr}`);
      nginx = started;
      base = `http://127.0.0.1:${port}`;
      break;
    }
  }, 60_000);

  afterAll(async () => {
    if (nginx !== undefined && nginx.exitCode === null) {
      const exited = new Promise((r) => nginx.once('close', r));
      nginx.kill('SIGQUIT');
      await exited;
    }
    await serve?.stop();
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('writes go through nginx to tilelog; the log verifies through nginx with TileClient', async () => {
    // 300 entries: one full tile and bundle, then partial ones.
    const indexes: number[] = [];
    for (let i = 0; i < 300; i++) {
      const res = await fetch(`${base}/add${i === 299 ? '?wait=checkpoint' : ''}`, { method: 'POST', body: `entry ${i}` });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f]{32}$/); // nginx's $request_id, passed on and echoed
      indexes.push(((await res.json()) as { index: number }).index);
    }
    expect(indexes).toEqual([...Array(300).keys()]);

    const client = new TileClient({ baseUrl: base, policy: { logKey: serve.verifierKey } });
    const cp = await client.checkpoint();
    expect(cp.size).toBe(300);
    for (const i of [0, 255, 256, 299]) {
      const bundle = await client.proveEntry(i);
      expect(new TextDecoder().decode(bundle.entry)).toBe(`entry ${i}`);
    }
    const entries = await client.entries(250, 260, cp);
    expect(entries.map((e) => new TextDecoder().decode(e))).toEqual([...Array(10).keys()].map((k) => `entry ${250 + k}`));
    // Proofs still come from tilelog behind nginx.
    const proof = await fetch(`${base}/v1/log/inclusion/5/300`);
    expect(proof.status).toBe(200);
  });

  test('cache headers: full tiles and bundles immutable, partial tiles 60 s, checkpoint 1 s; tiles come from disk', async () => {
    const head = async (p: string) => {
      const res = await fetch(`${base}${p}`);
      await res.arrayBuffer();
      return { status: res.status, cache: res.headers.get('cache-control'), type: res.headers.get('content-type'), server: res.headers.get('server') };
    };
    expect(await head('/tile/0/000')).toMatchObject({ status: 200, cache: IMMUTABLE, type: 'application/octet-stream' });
    expect(await head('/tile/entries/000')).toMatchObject({ status: 200, cache: IMMUTABLE });
    expect(await head('/tile/0/001.p/44')).toMatchObject({ status: 200, cache: 'public, max-age=60' });
    expect(await head('/tile/entries/001.p/44')).toMatchObject({ status: 200, cache: 'public, max-age=60' });
    expect(await head('/tile/1/000.p/1')).toMatchObject({ status: 200, cache: 'public, max-age=60' });
    expect(await head('/checkpoint')).toMatchObject({ status: 200, cache: 'public, max-age=1', type: 'text/plain; charset=utf-8' });
    expect((await head('/tile/0/002')).status).toBe(404);
    expect((await head('/tile/../state/log.db')).status).toBe(404);
    expect((await head('/metrics')).status).toBe(404);
    // The bytes nginx serves are the files tilelog wrote.
    const onDisk = fs.readFileSync(path.join(dir, 'tiles', 'tile/0/000'));
    const served = new Uint8Array(await (await fetch(`${base}/tile/0/000`)).arrayBuffer());
    expect(Buffer.from(served).equals(onDisk)).toBe(true);
    const log = fs.readFileSync(path.join(dir, 'nginx', 'tmp', 'access.log'), 'utf8');
    expect(log).toContain('GET /tile/0/000 ');
  });

  test('symlinks planted in the tiles directory are not followed (disable_symlinks): never the key', async () => {
    const tiles = path.join(dir, 'tiles');
    fs.mkdirSync(path.join(tiles, 'tile/entries/x900'), { recursive: true });
    fs.symlinkSync(path.join(dir, 'state', 'log.key'), path.join(tiles, 'tile/entries/x900/001'));
    fs.mkdirSync(path.join(dir, 'elsewhere'));
    fs.copyFileSync(path.join(dir, 'state', 'log.key'), path.join(dir, 'elsewhere', '002'));
    fs.symlinkSync(path.join(dir, 'elsewhere'), path.join(tiles, 'tile/0/x001'));
    for (const p of ['/tile/entries/x900/001', '/tile/0/x001/002']) {
      const res = await fetch(`${base}${p}`);
      const body = await res.text();
      expect(res.status, p).toBeGreaterThanOrEqual(400);
      expect(body, p).not.toContain('PRIVATE+KEY');
    }
  });
});
