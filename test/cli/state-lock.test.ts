// One process per state directory (issue 11, item 3), with real child
// processes: a second `serve` (or `witness serve`) on the same state exits 1
// naming the holder's pid and what to do, without touching the state; after
// a SIGKILL of the holder, a restart succeeds at once (the lock is the
// kernel's, not a pid file's).
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeKeyFile } from '../../src/cli/key-file.js';
import { generateCosignerKey } from '../../src/note/index.js';
import { runCli, spawnCli, startServe, tempDir, type ServeHandle } from './helpers.js';

let dir: string;
beforeAll(() => {
  dir = tempDir('tilelog-lock-cli-');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** sha256 of every regular file under root (the lock database excluded: SQLite may touch its header). */
function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of fs.readdirSync(root, { recursive: true }) as string[]) {
    const p = path.join(root, name);
    if (fs.lstatSync(p).isFile() && !name.endsWith('.lock')) out[name] = createHash('sha256').update(fs.readFileSync(p)).digest('hex');
  }
  return out;
}

async function killHard(child: import('node:child_process').ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolve) => child.on('close', resolve));
  child.kill('SIGKILL');
  await gone;
}

describe('tilelog serve: one process per --state', () => {
  const args = () => ['--state', path.join(dir, 'state'), '--tiles', path.join(dir, 'tiles'), '--listen', '127.0.0.1:0', '--log-level', 'silent'];
  let first: ServeHandle;
  beforeAll(async () => {
    first = await startServe(args());
  });
  afterAll(async () => {
    await killHard(first.child);
  });

  it('the second exits 1 with the holder pid and advice, touching nothing; the first keeps serving', async () => {
    const before = { state: snapshot(path.join(dir, 'state')), tiles: snapshot(path.join(dir, 'tiles')) };
    const second = await runCli(['serve', ...args()]);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`is in use by process ${first.child.pid}`);
    expect(second.stderr).toContain(`Stop that process first (kill ${first.child.pid})`);
    expect(second.stderr).toMatch(/STORAGE_LOCKED/);
    expect({ state: snapshot(path.join(dir, 'state')), tiles: snapshot(path.join(dir, 'tiles')) }).toEqual(before);
    const add = await fetch(`${first.url}/add`, { method: 'POST', body: 'still served by the first' });
    expect(add.status).toBe(200);
  });

  it('after a SIGKILL of the first, a restart succeeds at once', async () => {
    await killHard(first.child);
    const restarted = await startServe(args());
    try {
      expect((await fetch(`${restarted.url}/checkpoint`)).status).toBe(200);
    } finally {
      await restarted.stop();
    }
  });
});

describe('tilelog witness serve: one process per --state', () => {
  /** Starts `witness serve --json` and resolves once it listens. */
  function startWitness(args: string[]) {
    const child = spawnCli(['witness', 'serve', '--json', ...args]);
    let out = '';
    let err = '';
    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.stdin!.end();
    return new Promise<{ child: typeof child; url: string }>((resolve, reject) => {
      child.stdout!.on('data', (d: string) => {
        out += d;
        if (out.includes('\n')) resolve({ child, url: (JSON.parse(out.split('\n')[0]!) as { url: string }).url });
      });
      child.on('close', (code) => reject(new Error(`witness serve exited with ${code}: ${err}`)));
    });
  }
  const args = () => ['--state', path.join(dir, 'wstate'), '--key', path.join(dir, 'witness.key'), '--listen', '127.0.0.1:0', '--log-level', 'silent'];
  let first: Awaited<ReturnType<typeof startWitness>>;
  beforeAll(async () => {
    writeKeyFile(path.join(dir, 'witness.key'), generateCosignerKey('witness.tilelog.example/w1').signerKey, false);
    first = await startWitness(args());
  });
  afterAll(async () => {
    await killHard(first.child);
  });

  it('the second exits 1 with the holder pid and advice', async () => {
    const second = await runCli(['witness', 'serve', ...args()]);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`is in use by process ${first.child.pid}`);
    expect(second.stderr).toContain(`stop it first (kill ${first.child.pid})`);
  });

  it('after a SIGKILL of the first, a restart succeeds at once', async () => {
    await killHard(first.child);
    const restarted = await startWitness(args());
    try {
      expect((await fetch(`${restarted.url}/`)).status).toBe(200);
    } finally {
      await killHard(restarted.child);
    }
  });
});
