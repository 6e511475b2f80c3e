// SIGKILL crash test with real child processes: a child adds entries
// continuously and is killed at random moments; after each kill the log is
// reopened and checked: every acknowledged entry is at its index, the tiles
// recompute the checkpoint root, no size ever had two roots, and the
// published size never decreased (from the child's reports and from polling
// the public checkpoint file while it ran).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { openFileLog } from '../../src/log/index.js';
import { decodeBundle } from '../../src/merkle/bundle.js';
import { toBase64 } from '../../src/merkle/encoding.js';
import { ENTRIES_LEVEL, tilePath, tilesForSize } from '../../src/merkle/layout.js';
import { generateSignerKey, parseSignerKey } from '../../src/note/keys.js';
import { FileTileStore } from '../../src/storage/file-tile-store.js';
import { quietLogger, repoRoot, tempDir } from '../log/helpers.js';
import { refLeaf, refRoot } from '../log/reference.js';

const ORIGIN = 'crash.tilelog.example/log';
const signer = parseSignerKey(generateSignerKey(ORIGIN, new Uint8Array(32).fill(9)).signerKey);
const CHILD = path.join(repoRoot, 'test/crash/child.ts');
const ITERATIONS = 6;

interface Observed {
  size: number;
  root: string;
  from: string;
}

// runChild: start the child, kill it killAfterMs after it is ready, and
// return its complete stdout lines and the checkpoints seen on disk meanwhile.
async function runChild(dir: string, run: number, killAfterMs: number, mode: string): Promise<{ lines: string[]; polled: Observed[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, String(run), mode], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const polled: Observed[] = [];
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  let poller: NodeJS.Timeout | null = null;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`child never got ready: ${stderr}`)), 30_000);
    const check = setInterval(() => {
      if (stdout.includes('ready\n')) {
        clearInterval(check);
        clearTimeout(timer);
        resolve();
      }
    }, 5);
    child.on('exit', () => {
      clearInterval(check);
      clearTimeout(timer);
      reject(new Error(`child exited early: ${stderr}`));
    });
  });
  poller = setInterval(() => {
    try {
      const [, size, root] = readFileSync(path.join(dir, 'tiles/checkpoint'), 'utf8').split('\n');
      polled.push({ size: Number(size), root: root!, from: `poll run ${run}` });
    } catch {
      // between renames the file always exists; ignore transient errors anyway
    }
  }, 3);
  await new Promise((r) => setTimeout(r, killAfterMs));
  child.kill('SIGKILL');
  await exited;
  clearInterval(poller);
  const complete = stdout.slice(0, stdout.lastIndexOf('\n') + 1);
  return { lines: complete.split('\n').filter((l) => l.length > 0), polled };
}

describe.each([
  ['on the log thread', 'inline'],
  ['in a worker thread', 'worker'],
])('SIGKILL at random moments, the SQLite state %s', (_name, mode) => {
  const tmp = tempDir('tilelog-crash-');
  afterAll(() => tmp.cleanup());

  test(`${ITERATIONS} kills: no acknowledged entry lost, no fork, no shrinking`, async () => {
    // Every ack, kept as a list: a lost entry whose index was handed out again shows as two entries at one index.
    const acked: Array<[number, string]> = [];
    const observed: Observed[] = [];
    let totalAcks = 0;
    for (let run = 0; run < ITERATIONS; run++) {
      const killAfter = 50 + Math.floor(Math.random() * 400);
      const { lines, polled } = await runChild(tmp.dir, run, killAfter, mode);
      for (const line of lines) {
        const [tag, a, b] = line.split(' ');
        if (tag === 'ack') {
          acked.push([Number(a), b!]);
          totalAcks++;
        } else if (tag === 'cp') observed.push({ size: Number(a), root: b!, from: `child run ${run}` });
      }
      observed.push(...polled);

      // Reopen (recovery runs) and check.
      const log = await openFileLog({
        origin: ORIGIN,
        signer,
        stateDir: path.join(tmp.dir, 'state'),
        tilesDir: path.join(tmp.dir, 'tiles'),
        logger: quietLogger,
        sqliteWorker: mode === 'worker',
      });
      const cp = log.checkpoint();
      observed.push({ size: cp.size, root: toBase64(cp.root), from: `reopen after run ${run}` });
      expect(log.stats().sequenced).toBe(cp.size); // a half-done integration was finished at open
      for (const [index, entry] of acked) {
        expect(index).toBeLessThan(cp.size);
        expect(new TextDecoder().decode(await log.entry(index))).toBe(entry);
      }
      // The bundles recompute the published root.
      const store = new FileTileStore(path.join(tmp.dir, 'tiles'));
      const leaves: Uint8Array[] = [];
      for (const t of tilesForSize(cp.size)) {
        if (t.level !== ENTRIES_LEVEL) continue;
        const data = await store.read(tilePath(t));
        expect(data, tilePath(t)).not.toBeNull();
        for (const e of decodeBundle(data!, t.width)) leaves.push(refLeaf(e));
      }
      expect(refRoot(leaves)).toEqual(cp.root);
      await log.close();
    }

    // No size ever had two roots; the published size never decreased.
    const rootOf = new Map<number, Observed>();
    for (const o of observed) {
      const earlier = rootOf.get(o.size);
      if (earlier !== undefined) expect(o.root, `size ${o.size}: ${earlier.from} vs ${o.from}`).toBe(earlier.root);
      rootOf.set(o.size, o);
    }
    // Each observer stream is in time order: the child's reports then the
    // reopen, run after run; and the file poller.
    const streams = new Map<string, number[]>();
    for (const o of observed) {
      const key = o.from.startsWith('poll') ? 'poll' : 'child+reopen';
      streams.set(key, [...(streams.get(key) ?? []), o.size]);
    }
    for (const [name, sizes] of streams) {
      for (let i = 1; i < sizes.length; i++) expect(sizes[i], `${name} #${i}`).toBeGreaterThanOrEqual(sizes[i - 1]!);
    }
    expect(totalAcks).toBeGreaterThan(0);
    console.log(`crash test: ${ITERATIONS} kills, ${totalAcks} acks, final size ${Math.max(...rootOf.keys())}`);
  });
});
