// tilelog proof against a static mirror: the tiles of a real log served by
// `python3 -m http.server` (no proof API; its 404s are HTML pages). The proofs
// are computed from the tiles, authenticated against the signed checkpoint,
// and print what the API gives, plus "computed from tiles". Missing tiles, a
// missing checkpoint, a tampered tile and a missing key are said plainly.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startServe, tempDir, type ServeHandle } from './helpers.js';

const COMPUTED = (url: string) => ` Computed from tiles: ${url} has no proof API.`;

/** `python3 -m http.server` over dir on a free port. */
async function pythonServer(dir: string): Promise<{ url: string; child: ChildProcess; stop(): Promise<void> }> {
  const child = spawn('python3', ['-u', '-m', 'http.server', '0', '--bind', '127.0.0.1', '--directory', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /port (\d+)/.exec(out);
      if (m) resolve(`http://127.0.0.1:${m[1]}`);
    });
    child.on('exit', (code) => reject(new Error(`python3 -m http.server exited with ${code}`)));
  });
  return {
    url,
    child,
    stop: () => new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : (child.once('exit', () => resolve()), child.kill('SIGTERM')))),
  };
}

let cwd: string;
let srv: ServeHandle;
let mirror: Awaited<ReturnType<typeof pythonServer>>;

beforeAll(async () => {
  cwd = tempDir('tilelog-proof-static-');
  srv = await startServe(['--origin', 'static.example/log'], { cwd, env: { TILELOG_LISTEN: '127.0.0.1:0' } });
  // 300 entries: a full level-0 tile and a partial one, entry bundles likewise.
  const lines = Array.from({ length: 300 }, (_, i) => `entry ${i}`).join('\n');
  const add = await runCli(['add', '--url', srv.url, '--lines', '-'], { cwd, input: lines });
  expect(add.code, add.stderr).toBe(0);
  const wait = await runCli(['add', '--url', srv.url, '--wait', '--log-key', srv.verifierKey, '-'], { cwd, input: 'the last one' });
  expect(wait.code, wait.stderr).toBe(0);
  mirror = await pythonServer(path.join(cwd, 'tiles'));
});
afterAll(async () => {
  await mirror?.stop();
  await srv?.stop();
});

describe('tilelog proof against a static mirror', () => {
  it('computes inclusion and consistency proofs from the tiles, with the API output plus "computed from tiles"', async () => {
    const cases = [
      ['--index', '0'],
      ['--index', '299'],
      ['--index', '257', '--size', '260'],
      ['--index', '5', '--size', '301'],
      ['--old', '1'],
      ['--old', '256', '--new', '290'],
      ['--old', '301'],
    ];
    for (const args of cases) {
      const api = await runCli(['proof', '--url', srv.url, '--log-key', srv.verifierKey, ...args], { cwd });
      const tiles = await runCli(['proof', '--url', mirror.url, '--log-key', srv.verifierKey, ...args], { cwd });
      expect(api.code, api.stderr).toBe(0);
      expect(tiles.code, `${args.join(' ')}: ${tiles.stderr}`).toBe(0);
      expect(tiles.stdout).toBe(`${api.stdout.trimEnd()}${COMPUTED(mirror.url)}\n`);
      expect(tiles.stdout).not.toContain('<html');

      const apiJson = JSON.parse((await runCli(['proof', '--url', srv.url, '--log-key', srv.verifierKey, '--json', ...args], { cwd })).stdout);
      const tilesJson = JSON.parse((await runCli(['proof', '--url', mirror.url, '--log-key', srv.verifierKey, '--json', ...args], { cwd })).stdout);
      expect(apiJson.source).toBe('api');
      expect(tilesJson.source).toBe('tiles');
      const { message: _a, source: _s, ...sameA } = apiJson;
      const { message: _b, source: _t, ...sameT } = tilesJson;
      expect(sameT).toEqual(sameA);
    }
  });

  it('refuses an index or size beyond the checkpoint, and needs --log-key, since a mirror reports no key', async () => {
    const beyond = await runCli(['proof', '--url', mirror.url, '--log-key', srv.verifierKey, '--index', '301'], { cwd });
    expect(beyond.code).toBe(1);
    expect(beyond.stderr).toContain('not in a tree of size 301');

    const noKey = await runCli(['proof', '--url', mirror.url, '--index', '0'], { cwd });
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toContain(`${mirror.url} has no tilelog API`);
    expect(noKey.stderr).toContain('pass --log-key');
    expect(noKey.stderr).not.toMatch(/<html|<!DOCTYPE/i);
  });

  it('says plainly what is missing: the checkpoint, or a tile', async () => {
    const empty = await pythonServer(tempDir('tilelog-empty-mirror-'));
    try {
      const r = await runCli(['proof', '--url', empty.url, '--log-key', srv.verifierKey, '--index', '0'], { cwd });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('is neither a tilelog server (no /v1/log/info) nor a tlog-tiles log (no checkpoint');
      expect(r.stderr).not.toMatch(/<html|<!DOCTYPE/i);
    } finally {
      await empty.stop();
    }

    // A copy of the tiles without the entry bundles and without level-1 tiles.
    const partial = tempDir('tilelog-partial-mirror-');
    fs.cpSync(path.join(cwd, 'tiles'), partial, { recursive: true });
    fs.rmSync(path.join(partial, 'tile', 'entries'), { recursive: true });
    const holes = await pythonServer(partial);
    try {
      const entry = await runCli(['proof', '--url', holes.url, '--log-key', srv.verifierKey, '--index', '3'], { cwd });
      expect(entry.code).toBe(1);
      expect(entry.stderr).toContain(`cannot compute the proof from tiles: a tile is missing at ${holes.url}`);
      expect(entry.stderr).toContain('/tile/entries/000');
      // Consistency needs no entries: it still works from the hash tiles.
      const cons = await runCli(['proof', '--url', holes.url, '--log-key', srv.verifierKey, '--old', '7'], { cwd });
      expect(cons.code, cons.stderr).toBe(0);
      expect(cons.stdout).toContain('computed from tiles'.replace('c', 'C'));
    } finally {
      await holes.stop();
    }
  });

  it('refuses tiles that do not match the signed checkpoint', async () => {
    const bad = tempDir('tilelog-bad-mirror-');
    fs.cpSync(path.join(cwd, 'tiles'), bad, { recursive: true });
    const tile = path.join(bad, 'tile', '0', '000');
    const bytes = fs.readFileSync(tile);
    bytes[40] = bytes[40]! ^ 1; // flip a bit of leaf hash 1
    fs.writeFileSync(tile, bytes);
    const m = await pythonServer(bad);
    try {
      const r = await runCli(['proof', '--url', m.url, '--log-key', srv.verifierKey, '--index', '1'], { cwd });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`the tiles at ${m.url} do NOT match the signed checkpoint`);
    } finally {
      await m.stop();
    }
  });
});
