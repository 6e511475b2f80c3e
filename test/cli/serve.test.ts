// The real CLI end to end: `tilelog serve` with no flags in a temp cwd, then
// add, proof and audit against it as separate processes.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startServe, tempDir, type ServeHandle } from './helpers.js';

let cwd: string;
let srv: ServeHandle;

beforeAll(async () => {
  cwd = tempDir('tilelog-serve-');
  // No flags except a free port (the default 8080 may be taken on a test machine).
  srv = await startServe([], { cwd, env: { TILELOG_LISTEN: '127.0.0.1:0' } });
});
afterAll(async () => {
  await srv?.stop();
});

describe('tilelog serve with no flags', () => {
  it('creates the state dir, a 0600 key, the tiles dir, and an origin on the first run', () => {
    expect(srv.origin).toMatch(/\/tilelog-[0-9a-f]{8}$/);
    expect(srv.verifierKey.startsWith(`${srv.origin}+`)).toBe(true);
    const key = path.join(cwd, '.tilelog/log.key');
    expect(fs.statSync(key).mode & 0o777).toBe(0o600);
    expect(fs.existsSync(path.join(cwd, '.tilelog/log.db'))).toBe(true);
    expect(fs.existsSync(path.join(cwd, 'tiles/checkpoint'))).toBe(true);
  });

  it('keeps running on SIGHUP (a reload request), logging that there is nothing to reload', async () => {
    srv.child.kill('SIGHUP');
    const deadline = Date.now() + 10_000;
    while (!/SIGHUP: nothing to reload/.test(srv.stderr()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(srv.stderr()).toMatch(/SIGHUP: nothing to reload/);
    expect(srv.child.exitCode).toBeNull();
    expect((await fetch(`${srv.url}/checkpoint`)).status).toBe(200);
  });

  it('add, proof and audit work against it', async () => {
    fs.writeFileSync(path.join(cwd, 'one.txt'), 'first entry\n');
    fs.writeFileSync(path.join(cwd, 'two.txt'), 'second entry\n');
    const add = await runCli(['add', '--url', srv.url, 'one.txt', 'two.txt'], { cwd });
    expect(add.code).toBe(0);
    expect(add.stdout).toBe('0\tone.txt\n1\ttwo.txt\n');

    const lines = await runCli(['add', '--url', srv.url, '--lines', '--json', '-'], { cwd, input: 'a\nb\n\nc\r\nfirst entry\n' });
    expect(lines.code).toBe(0);
    const added = lines.stdout.trim().split('\n').map((l) => JSON.parse(l) as { index: number; source: string });
    expect(added.map((a) => a.source)).toEqual(['stdin:1', 'stdin:2', 'stdin:4', 'stdin:5']);
    expect(added.slice(0, 3).map((a) => a.index)).toEqual([2, 3, 4]);

    const wait = await runCli(['add', '--url', srv.url, '--wait', '--log-key', srv.verifierKey, '-'], { cwd, input: 'waited' });
    expect(wait.code).toBe(0);
    expect(wait.stdout).toMatch(/^6\tstdin\tincluded in checkpoint of size 7: proof verified\n$/);

    const inc = await runCli(['proof', '--url', srv.url, '--index', '1', '--log-key', srv.verifierKey], { cwd });
    expect(inc.code).toBe(0);
    expect(inc.stdout).toMatch(/^OK: entry 1 .* is included in the tree of size 7/);
    expect(inc.stderr).not.toContain('warning');

    const incSized = await runCli(['proof', '--url', srv.url, '--index', '1', '--size', '3', '--json'], { cwd });
    expect(incSized.code).toBe(0);
    expect(JSON.parse(incSized.stdout)).toMatchObject({ ok: true, kind: 'inclusion', index: 1, treeSize: 3, keyFromServer: true });
    expect(incSized.stderr).toContain('warning: trusting the verifier key the server reported');

    const cons = await runCli(['proof', '--url', srv.url, '--old', '2', '--log-key', srv.verifierKey], { cwd });
    expect(cons.code).toBe(0);
    expect(cons.stdout).toMatch(/^OK: the tree of size 2 .* is a prefix of the tree of size 7/);
    const cons2 = await runCli(['proof', '--url', srv.url, '--old', '2', '--new', '5', '--log-key', srv.verifierKey], { cwd });
    expect(cons2.code).toBe(0);

    const beyond = await runCli(['proof', '--url', srv.url, '--index', '99', '--log-key', srv.verifierKey], { cwd });
    expect(beyond.code).toBe(1);
    expect(beyond.stderr).toContain('not in a tree of size 7');

    const auditUrl = await runCli(['audit', srv.url, '--log-key', srv.verifierKey, '--json'], { cwd });
    expect(auditUrl.code).toBe(0);
    expect(JSON.parse(auditUrl.stdout)).toMatchObject({ ok: true, treeSize: 7, signatureVerified: true });
    const auditDir = await runCli(['audit', 'tiles', '--log-key', srv.verifierKey], { cwd });
    expect(auditDir.code).toBe(0);
    expect(auditDir.stdout).toMatch(/^OK: /);
  });

  it('proof rejects a checkpoint signed by another key', async () => {
    const other = await runCli(['keygen', '--origin', srv.origin, '--out', path.join(cwd, 'other.key')], { cwd });
    const r = await runCli(['proof', '--url', srv.url, '--index', '0', '--log-key', other.stdout.trim()], { cwd });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('does not verify');
  });

  it('add --wait with a wrong --log-key still prints the index before the failed verdict, and exits 1', async () => {
    const other = await runCli(['keygen', '--origin', srv.origin, '--out', path.join(cwd, 'wrong.key')], { cwd });
    expect(other.code).toBe(0);
    const r = await runCli(['add', '--url', srv.url, '--wait', '--log-key', other.stdout.trim(), '-'], { cwd, input: 'kept despite a wrong key' });
    expect(r.code).toBe(1);
    const index = Number(/^(\d+)\tstdin\n$/.exec(r.stdout)?.[1]);
    expect(Number.isSafeInteger(index)).toBe(true);
    expect(r.stderr).toContain(`stdin was added at index ${index} and is durable in the log`);
    expect(r.stderr.indexOf(`index ${index}`)).toBeLessThan(r.stderr.indexOf('does not verify'));
    // The entry really is in the log at that index: a proof with the right key says so.
    const inc = await runCli(['proof', '--url', srv.url, '--index', String(index), '--log-key', srv.verifierKey], { cwd });
    expect(inc.code).toBe(0);
    expect(inc.stdout).toMatch(new RegExp(`^OK: entry ${index} `));

    // Entries already sent alongside the one that failed are reported too, not dropped:
    // with --concurrency 2 both are posted before the first verdict.
    fs.writeFileSync(path.join(cwd, 'w1.txt'), 'wrong key, first');
    fs.writeFileSync(path.join(cwd, 'w2.txt'), 'wrong key, second');
    const two = await runCli(['add', '--url', srv.url, '--wait', '--concurrency', '2', '--log-key', other.stdout.trim(), 'w1.txt', 'w2.txt'], { cwd });
    expect(two.code).toBe(1);
    const lines = two.stdout.trim().split('\n').map((l) => l.split('\t'));
    expect(lines.map((l) => l[1])).toEqual(['w1.txt', 'w2.txt']);
    for (const [i, source] of lines) expect(two.stderr).toContain(`${source} was added at index ${i} and is durable in the log`);
  });

  it('add fails clearly when no server listens', async () => {
    const r = await runCli(['add', '--url', 'http://127.0.0.1:9', '-'], { cwd, input: 'x' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot reach');
    expect(r.stderr).toContain('tilelog serve');
  });

  it('add refuses empty and oversized entries before sending', async () => {
    fs.writeFileSync(path.join(cwd, 'empty'), '');
    fs.writeFileSync(path.join(cwd, 'big'), Buffer.alloc(65536, 1));
    expect((await runCli(['add', '--url', srv.url, 'empty'], { cwd })).stderr).toContain('is empty');
    expect((await runCli(['add', '--url', srv.url, 'big'], { cwd })).stderr).toContain('at most 65535 bytes');
  });
});

describe('tilelog serve lifecycle', () => {
  it('flushes on SIGTERM, keeps its identity on restart, and refuses foreign tiles', async () => {
    const dir = tempDir('tilelog-life-');
    const env = { TILELOG_LISTEN: '127.0.0.1:0' };
    const first = await startServe(['--origin', 'life.example/log', '--batch-max-delay-ms', '50'], { cwd: dir, env });
    // Fire adds and stop right away: acknowledged entries must be published on the way out.
    const acks = await Promise.all(
      ['x', 'y', 'z'].map(async (e) => (await fetch(`${first.url}/add`, { method: 'POST', body: e })).json() as Promise<{ index: number }>),
    );
    const stopped = await first.stop('SIGTERM');
    expect(stopped.code).toBe(0);
    expect(stopped.stderr).toContain('shutting down');
    const cp = fs.readFileSync(path.join(dir, 'tiles/checkpoint'), 'utf8').split('\n');
    expect(cp[0]).toBe('life.example/log');
    expect(Number(cp[1])).toBe(Math.max(...acks.map((a) => a.index)) + 1);

    const second = await startServe([], { cwd: dir, env });
    expect(second.origin).toBe('life.example/log');
    expect(second.verifierKey).toBe(first.verifierKey);
    await second.stop();

    // A fresh state dir over those tiles is refused with advice.
    const r = await runCli(['serve', '--state', 'other-state'], { cwd: dir, env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('already holds a log (origin life.example/log, size 3)');
    expect(r.stderr).toContain('--tiles');
    expect(fs.existsSync(path.join(dir, 'other-state/log.db'))).toBe(false);
  });

  it('a port in use is refused before anything is created', async () => {
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', () => resolve()));
    const port = (busy.address() as net.AddressInfo).port;
    const dir = tempDir();
    try {
      const r = await runCli(['serve', '--state', path.join(dir, 'state'), '--tiles', path.join(dir, 'tiles'), '--listen', `127.0.0.1:${port}`]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain(`127.0.0.1:${port} is in use; pick another --listen`);
      expect(fs.readdirSync(dir)).toEqual([]);
    } finally {
      await new Promise<void>((resolve) => busy.close(() => resolve()));
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads its settings from the environment', async () => {
    const dir = tempDir('tilelog-env-');
    const keyFile = path.join(dir, 'my.key');
    const kg = await runCli(['keygen', '--origin', 'env.example/log', '--out', keyFile]);
    const s = await startServe([], {
      cwd: dir,
      env: { TILELOG_LISTEN: '127.0.0.1:0', TILELOG_KEY: keyFile, TILELOG_STATE: 'st', TILELOG_TILES: 'pub', TILELOG_DEDUP: '0' },
    });
    try {
      expect(s.origin).toBe('env.example/log');
      expect(s.verifierKey).toBe(kg.stdout.trim());
      const a = await (await fetch(`${s.url}/add`, { method: 'POST', body: 'same' })).json();
      const b = await (await fetch(`${s.url}/add`, { method: 'POST', body: 'same' })).json();
      expect([a, b]).toEqual([{ index: 0 }, { index: 1 }]); // dedup off
      expect(fs.existsSync(path.join(dir, 'st/log.db'))).toBe(true);
      expect(fs.existsSync(path.join(dir, 'pub/checkpoint'))).toBe(true);
    } finally {
      await s.stop();
    }
  });
});
