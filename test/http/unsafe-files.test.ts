// The server never serves anything but the public tree (issue 11, item 1):
// over a real HTTP server on a real log, tiles and explorer assets planted as
// symlinks (to the log's private key, to an absolute path outside, through a
// symlinked directory, inside the tree), a FIFO, or a symlinked checkpoint are
// answered 404 (or replaced at restart) and their bytes never leave. Each
// case fails without the guard in src/storage/safe-read.ts.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { writeKeyFile } from '../../src/cli/key-file.js';
import { createExplorerApp } from '../../src/http/explorer.js';
import { createLogApp, startServer, type RunningServer } from '../../src/http/index.js';
import { openFileLog, type Log } from '../../src/log/index.js';
import { ORIGIN, quietLogger, tempDir, testKey, testSigner, utf8 } from '../log/helpers.js';

const SECRET = 'root:x:0:0:the-secret-line';

let tmp: ReturnType<typeof tempDir>;
let stateDir: string;
let tilesDir: string;
let outside: string;
let log: Log | null = null;
let server: RunningServer | null = null;
let refused: string[] = [];

async function openServed(): Promise<void> {
  refused = [];
  log = await openFileLog({
    origin: ORIGIN,
    signer: testSigner,
    stateDir,
    tilesDir,
    batchMaxDelayMs: 1,
    logger: { ...quietLogger, warn: (m) => refused.push(m) },
  });
  server = await startServer(createLogApp(log, { logError: () => undefined }), { port: 0 });
}

async function closeServed(): Promise<void> {
  await server?.close();
  await log?.close();
  server = null;
  log = null;
}

async function get(p: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${server!.url}${p}`);
  return { status: res.status, body: await res.text() };
}

/** Plants a symlink at tiles/<rel> pointing at target (parents created). */
function plant(rel: string, target: string): void {
  fs.mkdirSync(path.dirname(path.join(tilesDir, rel)), { recursive: true });
  fs.symlinkSync(target, path.join(tilesDir, rel));
}

beforeEach(async () => {
  tmp = tempDir('tilelog-unsafe-');
  stateDir = path.join(tmp.dir, 'state');
  tilesDir = path.join(tmp.dir, 'tiles');
  outside = path.join(tmp.dir, 'outside');
  fs.mkdirSync(outside);
  // Stands in for /etc/passwd: a file outside both the state and the tiles.
  fs.writeFileSync(path.join(outside, 'passwd'), `${SECRET}\n`);
  fs.mkdirSync(stateDir, { recursive: true });
  writeKeyFile(path.join(stateDir, 'log.key'), testKey.signerKey, false);
  await openServed();
  for (let i = 0; i < 3; i++) await log!.waitForCheckpoint((await log!.add(utf8(`entry ${i}`))).index);
});
afterEach(async () => {
  await closeServed();
  tmp.cleanup();
});

describe('tiles: only regular files inside the tiles root', () => {
  test('a tile that is a symlink to the state directory\'s log.key: 404, never the key', async () => {
    plant('tile/entries/x900/001', path.join(stateDir, 'log.key'));
    const r = await get('/tile/entries/x900/001');
    expect(r.status).toBe(404);
    expect(r.body).not.toContain('PRIVATE+KEY');
    expect(refused.join('\n')).toMatch(/refused to serve tile\/entries\/x900\/001 .*a symlink/);
    expect(log!.stats().refusedReads).toBe(1);
  });

  test('a tile that is an absolute symlink to a system file (as /etc/passwd): 404', async () => {
    plant('tile/entries/x900/002', path.join(outside, 'passwd'));
    const r = await get('/tile/entries/x900/002');
    expect(r.status).toBe(404);
    expect(r.body).not.toContain(SECRET);
  });

  test('a symlinked directory component (tile/0/x001 -> elsewhere): 404 for every file below it', async () => {
    fs.mkdirSync(path.join(outside, 'dir'));
    fs.writeFileSync(path.join(outside, 'dir', '002'), SECRET);
    plant('tile/0/x001', path.join(outside, 'dir'));
    const r = await get('/tile/0/x001/002');
    expect(r.status).toBe(404);
    expect(r.body).not.toContain(SECRET);
    expect(refused.join('\n')).toMatch(/reached through a symlink/);
  });

  test('a symlink that stays inside the tree (an entries bundle -> a real tile) is refused too', async () => {
    const real = (await get('/tile/0/000.p/3')).body;
    expect(real.length).toBeGreaterThan(0);
    plant('tile/entries/x900/004', '../../0/000.p/3');
    expect((await get('/tile/entries/x900/004')).status).toBe(404);
  });

  test('a FIFO planted as a tile: 404 at once, no hang', async () => {
    fs.mkdirSync(path.join(tilesDir, 'tile/entries/x900'), { recursive: true });
    execFileSync('mkfifo', [path.join(tilesDir, 'tile/entries/x900/003')]);
    expect((await get('/tile/entries/x900/003')).status).toBe(404);
  });

  test('real tiles are still served', async () => {
    const r = await fetch(`${server!.url}/tile/entries/000.p/3`);
    expect(r.status).toBe(200);
    expect(new Uint8Array(await r.arrayBuffer()).length).toBeGreaterThan(3);
  });

  test('a symlinked checkpoint (to a copy of our own, kept outside) is replaced by a real file at restart; its target is untouched', async () => {
    await closeServed();
    const cp = path.join(tilesDir, 'checkpoint');
    const copy = path.join(outside, 'checkpoint-copy');
    fs.copyFileSync(cp, copy);
    fs.rmSync(cp);
    fs.symlinkSync(copy, cp);
    await openServed();
    expect(fs.lstatSync(cp).isSymbolicLink()).toBe(false);
    expect(fs.readFileSync(cp, 'utf8')).toBe(log!.checkpoint().text);
    expect(fs.readFileSync(copy, 'utf8')).toBe(log!.checkpoint().text);
    expect((await get('/checkpoint')).body).toBe(log!.checkpoint().text);
  });

  test('a checkpoint symlinked to log.key: the log restarts over it (a real checkpoint replaces the link), never serving the key', async () => {
    await closeServed();
    const cp = path.join(tilesDir, 'checkpoint');
    fs.rmSync(cp);
    fs.symlinkSync(path.join(stateDir, 'log.key'), cp);
    await openServed();
    const r = await get('/checkpoint');
    expect(r.status).toBe(200);
    expect(r.body).not.toContain('PRIVATE+KEY');
    expect(fs.lstatSync(cp).isSymbolicLink()).toBe(false);
    expect(fs.readFileSync(path.join(stateDir, 'log.key'), 'utf8')).toBe(`${testKey.signerKey}\n`);
  });
});

describe('explorer assets: only regular files in the assets directory', () => {
  let assets: string;
  let explorer: RunningServer;
  let secretDir: string;
  const refusedAssets: string[] = [];

  beforeAll(async () => {
    const base = tempDir('tilelog-unsafe-assets-');
    assets = path.join(base.dir, 'explorer');
    secretDir = path.join(base.dir, 'private');
    fs.mkdirSync(assets);
    fs.mkdirSync(secretDir);
    fs.writeFileSync(path.join(secretDir, 'log.key'), 'PRIVATE+KEY+secret\n');
    fs.writeFileSync(path.join(assets, 'index.html'), '<!doctype html><title>x</title>');
    fs.writeFileSync(path.join(assets, 'app-AAAAAAAA.js'), 'console.log(1)');
    fs.symlinkSync(path.join(secretDir, 'log.key'), path.join(assets, 'app-BBBBBBBB.js'));
    fs.symlinkSync(path.join(secretDir, 'log.key'), path.join(assets, 'style-CCCCCCCC.css'));
    explorer = await startServer(createExplorerApp({ assetsDir: assets, onRefused: (n) => refusedAssets.push(n) }), { port: 0 });
    return async () => {
      await explorer.close();
      base.cleanup();
    };
  });
  test('a real asset is served', async () => {
    const r = await fetch(`${explorer.url}/explorer/app-AAAAAAAA.js`);
    expect(r.status).toBe(200);
    expect(await r.text()).toBe('console.log(1)');
  });

  test('an asset that is a symlink to a private file: 404, never its bytes', async () => {
    for (const name of ['app-BBBBBBBB.js', 'style-CCCCCCCC.css']) {
      const r = await fetch(`${explorer.url}/explorer/${name}`);
      expect(r.status).toBe(404);
      expect(await r.text()).not.toContain('PRIVATE+KEY');
    }
    expect(refusedAssets).toEqual(['app-BBBBBBBB.js', 'style-CCCCCCCC.css']);
  });

  test('index.html as a symlink: not served (the not-built page instead)', async () => {
    fs.renameSync(path.join(assets, 'index.html'), path.join(secretDir, 'index.html'));
    fs.symlinkSync(path.join(secretDir, 'index.html'), path.join(assets, 'index.html'));
    const r = await fetch(`${explorer.url}/`);
    expect(r.status).toBe(503);
    expect(await r.text()).not.toContain('<title>x</title>');
  });
});
