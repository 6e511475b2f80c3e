// SIGKILL in the middle of partial-tile collection, with real child
// processes: the kill leaves deletes done but not recorded in the cursor;
// the next process finishes them. Nothing acknowledged is lost, the tree
// audits, every proof is served, and after the last run the tree is within
// 1.5x of its minimal size.
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { openFileLog } from '../../src/log/index.js';
import { minimalTreeBytes } from '../../src/log/tile-gc.js';
import { makeHasher } from '../../src/merkle/hash.js';
import { nodeSha256 } from '../../src/log/options.js';
import { verifyConsistency, verifyInclusion } from '../../src/merkle/verify.js';
import { generateSignerKey, parseSignerKey } from '../../src/note/keys.js';
import { runCli } from '../cli/helpers.js';
import { quietLogger, repoRoot, tempDir, treeBytes } from '../log/helpers.js';

const CHILD = path.join(repoRoot, 'test/crash/gc-child.ts');
const ORIGIN = 'gc-crash.tilelog.example/log';
const key = generateSignerKey(ORIGIN, new Uint8Array(32).fill(11));
const hasher = makeHasher(nodeSha256);
const PER_RUN = 50;
const RUNS = 3;

function entry(i: number): Uint8Array {
  const e = new Uint8Array(512).fill(i & 0xff);
  new DataView(e.buffer).setUint32(0, i);
  return e;
}

/** Runs the child; once it prints `gc`, kills it after killAfterMs. Resolves with its acks and whether it finished. */
function runChild(dir: string, killAfterMs: number): Promise<{ acked: number[]; finished: boolean }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, String(PER_RUN)], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    if (stdout.includes('gc\n') && !stdout.includes('done\n')) setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL' && code !== 0) return reject(new Error(`child failed (${code}): ${stderr}`));
      const lines = stdout.split('\n');
      resolve({ acked: lines.filter((l) => l.startsWith('ack ')).map((l) => Number(l.slice(4))), finished: lines.includes('done') });
    });
  });
}

describe('SIGKILL during partial-tile collection', () => {
  const tmp = tempDir('tilelog-gc-crash-');
  afterAll(() => tmp.cleanup());

  test(`${RUNS} runs, each killed while collecting: nothing lost, the next run finishes`, async () => {
    const acked: number[] = [];
    let killedMidway = 0;
    for (let run = 0; run < RUNS; run++) {
      const r = await runChild(tmp.dir, [5, 40, 120][run]!);
      acked.push(...r.acked);
      if (!r.finished) killedMidway++;
    }
    expect(acked).toEqual(Array.from({ length: RUNS * PER_RUN }, (_, i) => i));
    expect(killedMidway).toBeGreaterThan(0);

    const log = await openFileLog({
      origin: ORIGIN,
      signer: parseSignerKey(key.signerKey),
      stateDir: path.join(tmp.dir, 'state'),
      tilesDir: path.join(tmp.dir, 'tiles'),
      partialGraceMs: 0,
      partialGcIntervalMs: 3_600_000,
      logger: quietLogger,
    });
    try {
      await log.collectPartialTiles();
      const { size, root } = log.checkpoint();
      expect(size).toBe(RUNS * PER_RUN);
      expect(treeBytes(path.join(tmp.dir, 'tiles'))).toBeLessThanOrEqual(1.5 * minimalTreeBytes(size, size * 512));
      for (let i = 0; i < size; i++) {
        expect(Buffer.from((await log.entry(i))!).equals(Buffer.from(entry(i)))).toBe(true);
        verifyInclusion(hasher, i, size, hasher.leaf(entry(i)), await log.inclusionProof(i, size), root);
      }
      for (let m = 1; m < size; m += 7) verifyConsistency(hasher, m, size, await log.consistencyProof(m, size), await log.treeHash(m), root);
    } finally {
      await log.close();
    }
    const audit = await runCli(['audit', path.join(tmp.dir, 'tiles'), '--log-key', key.verifierKey]);
    expect(audit.code, audit.stderr).toBe(0);
  }, 60_000);
});
