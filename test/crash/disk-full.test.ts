// A full disk, for real: `tilelog serve` (a child process) keeps its state and
// tiles on a small tmpfs that a filler file fills up. Clients must see 503s
// with Retry-After (never a 500), /readyz must say not ready, nothing
// acknowledged may be lost, the public tree must stay valid, a restart while
// the disk is still full must serve reads and report not ready, and once the
// filler is gone the log must recover by itself (adds succeed, /readyz 200).
//
// Mounting needs root (CI runs as root); elsewhere the suite is skipped with
// the reason printed.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { decodeBundle } from '../../src/merkle/bundle.js';
import { ENTRIES_LEVEL, tilePath, tilesForSize } from '../../src/merkle/layout.js';
import { runCli, startServe, type ServeHandle } from '../cli/helpers.js';

const TMPFS_SIZE = '24m';

function tryMountTmpfs(): { dir: string; skip: string | null } {
  const dir = mkdtempSync(path.join(tmpdir(), 'tilelog-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${TMPFS_SIZE}`, 'tmpfs', dir], { stdio: 'pipe' });
    return { dir, skip: null };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    const why = (err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message;
    return { dir, skip: `cannot mount a tmpfs here (${why}); run as root (as CI does) to test a full disk` };
  }
}

const mnt = tryMountTmpfs();
if (mnt.skip !== null) console.warn(`skipping the disk-full tests: ${mnt.skip}`);

afterAll(() => {
  if (mnt.skip !== null) return;
  try {
    execFileSync('umount', [mnt.dir], { stdio: 'pipe' });
  } finally {
    rmSync(mnt.dir, { recursive: true, force: true });
  }
});

const stateDir = path.join(mnt.dir, 'state');
const tilesDir = path.join(mnt.dir, 'tiles');
const filler = path.join(mnt.dir, 'filler');

/** Appends to the filler until the filesystem refuses (ENOSPC), down to the last 4 KiB page. */
function fillDisk(): void {
  const fd = openSync(filler, 'a');
  try {
    for (const size of [64 * 1024, 4096]) {
      try {
        for (;;) writeSync(fd, new Uint8Array(size));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      }
    }
  } finally {
    closeSync(fd);
  }
}

function entryFor(tag: string, i: number): Uint8Array {
  const e = new Uint8Array(1024).fill(i & 0xff);
  e.set(new TextEncoder().encode(`${tag}-${i}-`));
  return e;
}

interface Answer {
  status: number;
  retryAfter: string | null;
  json: { index?: number; error?: { code: string; message: string } } | null;
}

async function post(url: string, body: Uint8Array, wait = false): Promise<Answer> {
  const res = await fetch(`${url}/add${wait ? '?wait=checkpoint' : ''}`, { method: 'POST', body: body as Uint8Array<ArrayBuffer> });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    // a bundle or an empty body: only the status matters then
  }
  return { status: res.status, retryAfter: res.headers.get('retry-after'), json };
}

async function readyz(url: string): Promise<number> {
  return (await fetch(`${url}/readyz`)).status;
}

async function until(what: string, f: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(mnt.skip !== null)('a full disk under tilelog serve (real tmpfs)', () => {
  let server: ServeHandle | null = null;
  afterAll(async () => {
    await server?.stop('SIGKILL');
  });

  test('503 + Retry-After while full, nothing acknowledged lost, restart while full, recovery by itself', async () => {
    mkdirSync(stateDir);
    mkdirSync(tilesDir);
    const args = ['--state', stateDir, '--tiles', tilesDir, '--listen', '127.0.0.1:0', '--partial-grace-s', '0', '--log-level', 'error'];
    server = await startServe(args);
    const acked = new Map<number, Uint8Array>();
    const accept = (a: Answer, e: Uint8Array): void => {
      expect(a.status, JSON.stringify(a.json)).not.toBe(500);
      if (a.status === 200) acked.set(a.json!.index!, e);
    };

    // 1. A healthy start.
    for (let i = 0; i < 20; i++) {
      const e = entryFor('before', i);
      const a = await post(server.url, e);
      expect(a.status).toBe(200);
      accept(a, e);
    }
    expect(await readyz(server.url)).toBe(200);

    // 2. Fill the disk: adds fail with 503 + Retry-After and a JSON code, never 500.
    fillDisk();
    const refused: Answer[] = [];
    for (let i = 0; i < 200 && refused.length < 3; i++) {
      const e = entryFor('full', i);
      const a = await post(server.url, e, i % 2 === 1);
      accept(a, e);
      if (a.status === 503) refused.push(a);
    }
    expect(refused.length).toBe(3);
    for (const a of refused) {
      expect(a.json?.error?.code).toBe('STORAGE_UNAVAILABLE');
      expect(Number(a.retryAfter)).toBeGreaterThan(0);
    }
    expect(await readyz(server.url)).toBe(503);
    const status = await fetch(`${server.url}/readyz`).then((r) => r.json() as Promise<{ error: { code: string } }>);
    expect(status.error.code).toBe('STORAGE_UNAVAILABLE');
    expect(await fetch(`${server.url}/metrics`).then((r) => r.text())).toMatch(/^tilelog_storage_failures_total [1-9]/m);

    // 3. Crash and restart while still full: the server starts, serves reads, is not ready, refuses adds with 503.
    await server.stop('SIGKILL');
    fillDisk(); // whatever failed writes gave back
    server = await startServe(args);
    expect(await readyz(server.url)).toBe(503); // probed at open, before any write
    expect((await fetch(`${server.url}/checkpoint`)).status).toBe(200);
    expect((await fetch(`${server.url}/v1/log/entry/0`)).status).toBe(200);
    for (let i = 0; i < 5; i++) {
      const e = entryFor('restarted', i);
      const a = await post(server.url, e, i % 2 === 0);
      accept(a, e);
      expect(a.status).toBe(503);
    }
    expect(await readyz(server.url)).toBe(503);

    // 4. Space returns: the log recovers by itself, without traffic or a restart.
    rmSync(filler);
    await until('/readyz 200 after freeing space', async () => (await readyz(server!.url)) === 200);
    for (let i = 0; i < 5; i++) {
      const e = entryFor('after', i);
      const a = await post(server.url, e, true);
      expect(a.status).toBe(200);
      accept(a, e);
    }

    // 5. Every acknowledged entry is in the public tree, byte for byte, and the tree audits.
    const [, sizeLine] = readFileSync(path.join(tilesDir, 'checkpoint'), 'utf8').split('\n');
    const size = Number(sizeLine);
    const inTree: Uint8Array[] = [];
    for (const t of tilesForSize(size).filter((t) => t.level === ENTRIES_LEVEL)) {
      inTree.push(...decodeBundle(readFileSync(path.join(tilesDir, tilePath(t)))));
    }
    expect(inTree.length).toBe(size);
    for (const [index, e] of acked) {
      expect(index).toBeLessThan(size);
      expect(Buffer.from(inTree[index]!).equals(Buffer.from(e)), `entry ${index}`).toBe(true);
    }
    const verifierKey = server.verifierKey;
    await server.stop('SIGKILL');
    server = null;
    const audit = await runCli(['audit', tilesDir, '--log-key', verifierKey]);
    expect(audit.code, audit.stderr).toBe(0);
  }, 60_000);
});
