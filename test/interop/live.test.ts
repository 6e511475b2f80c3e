// The "done when", end to end: a key made by `tilelog keygen`, a real
// `tilelog serve` child process, entries added over HTTP, and then an
// independent client (Go's golang.org/x/mod/sumdb/tlog and note, in
// test/interop/go/tlogcheck) verifies the live log byte for byte: every
// bundle against the tiles, the tree rebuilt from the entries equal to every
// hash tile, inclusion proofs, and consistency with every older checkpoint we
// saw. It checks both over HTTP and straight from the tiles directory.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFileLog } from '../../src/log/index.js';
import { readKeyFile } from '../../src/cli/key-file.js';
import { CLI_BUNDLE } from '../cli-bundle.js';
import { buildTlogcheck, goMissing, runTlogcheckAsync } from './tlogcheck.js';

const missing = goMissing(); // go.test.ts fails CI loudly when Go is missing
const ORIGIN = 'live.tilelog.test/log';
const CLI = [CLI_BUNDLE];
// Checkpoint sizes to stop at: inside the first tile, at and around tile
// boundaries, and past 65536 so a level-2 tile exists.
const STOPS = [1, 255, 256, 257, 1000, 65_536, 66_000];
// Go checks the tiles directory at every size we saw, so the partial tiles
// of those sizes must outlive the run (the collector keeps them this long).
const KEEP_PARTIALS = ['--partial-grace-s', '3600'];
// Entries [1000, BULK_UNTIL) go in through the library (see bulkAdd).
const BULK_UNTIL = 65_535;

/** Entry i (unique, so none deduplicates): mostly short, some long, one at the 65,535-byte maximum. */
function entry(i: number): Uint8Array<ArrayBuffer> {
  const len = i === 300 ? 65_535 : i % 97 === 0 ? 2000 : 4 + (i % 61);
  const e = new Uint8Array(len);
  for (let k = 4; k < len; k++) e[k] = (i * 31 + k) & 0xff;
  new DataView(e.buffer).setUint32(0, i, false);
  return e;
}

describe.skipIf(missing !== null)('a live tilelog server, checked by Go sumdb/tlog', () => {
  let work: string;
  let bin: string;
  let server: ChildProcess;
  let base: string;
  let vkey: string;
  const checkpoints: string[] = [];

  /** Starts `tilelog serve` on work/ and sets base to its URL. */
  async function startServe(): Promise<void> {
    // Port 0 and --json: the server binds a free port itself and says which
    // (no window between picking a port and binding it).
    server = spawn(
      process.execPath,
      [...CLI, 'serve', '--key', join(work, 'log.key'), '--state', join(work, 'state'), '--tiles', join(work, 'tiles'), '--listen', '127.0.0.1:0', '--json', ...KEEP_PARTIALS],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const child = server;
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    base = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`tilelog serve did not start: ${stderr}`)), 30_000);
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const nl = out.indexOf('\n');
        if (nl < 0) return;
        clearTimeout(timer);
        resolve((JSON.parse(out.slice(0, nl)) as { url: string }).url);
      });
      child.once('exit', () => reject(new Error(`tilelog serve exited: ${stderr}`)));
    });
  }

  async function stopServe(): Promise<void> {
    if (server.exitCode !== null || server.signalCode !== null) return;
    const exited = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    await exited;
  }

  /** Entries [from, to) added through the engine's API in one process, in large batches. */
  async function bulkAdd(from: number, to: number): Promise<void> {
    const signer = readKeyFile(join(work, 'log.key'));
    const log = await openFileLog({ origin: ORIGIN, signer, stateDir: join(work, 'state'), tilesDir: join(work, 'tiles'), batchMaxEntries: 4096, partialGraceMs: 3_600_000 });
    try {
      const adds: Promise<unknown>[] = [];
      for (let i = from; i < to; i++) adds.push(log.add(entry(i)));
      const results = (await Promise.all(adds)) as { index: number }[];
      expect(results.map((r) => r.index)).toEqual(Array.from({ length: to - from }, (_, k) => from + k));
    } finally {
      await log.close();
    }
  }

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'tilelog-live-'));
    bin = buildTlogcheck(work);

    const keygen = spawnSync(process.execPath, [...CLI, 'keygen', '--origin', ORIGIN, '--out', join(work, 'log.key'), '--json'], {
      encoding: 'utf8',
    });
    expect(keygen.status, keygen.stderr).toBe(0);
    vkey = (JSON.parse(keygen.stdout) as { verifierKey: string }).verifierKey;

    await startServe();
    // Add entries in rounds, 64 in flight; the last add of each round waits
    // for its checkpoint, which we keep to prove consistency from later.
    let next = 0;
    for (const stop of STOPS) {
      if (stop === BULK_UNTIL + 1) {
        // Most of the way to a level-2 tile through the library, in large
        // batches: 64k single HTTP adds would take most of a minute and prove
        // nothing the rounds around them do not. The server is stopped for it
        // (one process per state directory) and started again after, so the
        // log Go checks has also been through a restart.
        await stopServe();
        await bulkAdd(next, BULK_UNTIL);
        next = BULK_UNTIL;
        await startServe();
      }
      const worker = async (): Promise<void> => {
        while (next < stop - 1) {
          const i = next++;
          const r = await fetch(`${base}/add`, { method: 'POST', body: entry(i) });
          if (r.status !== 200) throw new Error(`add ${i}: ${r.status} ${await r.text()}`);
        }
      };
      await Promise.all(Array.from({ length: 64 }, worker));
      const r = await fetch(`${base}/add?wait=checkpoint`, { method: 'POST', body: entry(next) });
      expect(r.status).toBe(200);
      const body = (await r.json()) as { index: number; checkpoint: string };
      expect(body.index).toBe(next);
      next++;
      // The checkpoint that covers the last add may already be larger if a
      // pass coalesced; fetch the public one, which is what clients see.
      const cp = await (await fetch(`${base}/checkpoint`)).text();
      expect(cp.split('\n')[1]).toBe(String(stop));
      const file = join(work, `checkpoint.${stop}`);
      writeFileSync(file, cp);
      checkpoints.push(file);
    }
  }, 240_000);

  afterAll(async () => {
    if (server) await stopServe();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('a key made by `tilelog keygen` signs and verifies in Go', async () => {
    const skey = readFileSync(join(work, 'log.key'), 'utf8').trim();
    const r = await runTlogcheckAsync(bin, ['keys', '-skey', skey, '-vkey', vkey]);
    expect(r.json, r.stderr).toMatchObject({ ok: true });
  });

  it('Go verifies the live log over HTTP: bundles, tiles, inclusion proofs, consistency with every older checkpoint', async () => {
    const olds = checkpoints.flatMap((f) => ['-old', f]);
    const r = await runTlogcheckAsync(bin, ['-url', `${base}/`, '-vkey', vkey, '-origin', ORIGIN, '-proofs', '2000', ...olds]);
    expect(r.json, `${JSON.stringify(r.json)}\n${r.stderr}`).toMatchObject({ ok: true, size: 66_000, entries: 66_000, inclusionProofs: 2000 });
    expect(r.json.consistency).toHaveLength(checkpoints.length);
  });

  it('Go verifies the tiles directory as a static file tree, at every size we saw', async () => {
    for (const file of checkpoints) {
      const size = Number(readFileSync(file, 'utf8').split('\n')[1]);
      const r = await runTlogcheckAsync(bin, ['-dir', join(work, 'tiles'), '-vkey', vkey, '-checkpoint', file, '-proofs', String(Math.min(size, 300))]);
      expect(r.json, `size ${size}: ${JSON.stringify(r.json)}\n${r.stderr}`).toMatchObject({ ok: true, size, entries: size });
    }
  });
});
