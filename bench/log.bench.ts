// Log benchmark, in process: 1M entries through the whole engine (durable
// batched sequencing in SQLite, integration into tiles on disk, signed
// checkpoints), RSS before, during and after, then inclusion proof latency
// at that size against the cost of a single tile read.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openFileLog, type Log } from '../src/log/index.js';
import { generateSignerKey, parseSignerKey } from '../src/note/index.js';
import { verifyInclusion, leafHash, tilePath } from '../src/merkle/index.js';
import { makeEntries } from './engine.bench.js';
import { header, line, mib, quantile, rate } from './util.js';

const N = Number(process.env.BENCH_ENTRIES ?? 1_000_000);
const PROOFS = 2000;
const WINDOW = 16_384; // adds in flight, like many concurrent clients

function rss(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().rss;
}

async function addAll(log: Log, entries: Uint8Array[], onProgress: (done: number) => void): Promise<void> {
  let next = 0;
  let done = 0;
  async function worker(): Promise<void> {
    while (next < entries.length) {
      const i = next++;
      await log.add(entries[i]!);
      if (++done % 100_000 === 0) onProgress(done);
    }
  }
  await Promise.all(Array.from({ length: WINDOW }, worker));
}

export async function main(): Promise<void> {
  header('log: 1M entries through the engine (SQLite + files)', `${N} entries, ${WINDOW} adds in flight, ${PROOFS} proofs`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tilelog-bench-log-'));
  const origin = 'bench.tilelog.example/log';
  const signer = parseSignerKey(generateSignerKey(origin).signerKey);
  const log = await openFileLog({
    origin,
    signer,
    stateDir: path.join(dir, 'state'),
    tilesDir: path.join(dir, 'tiles'),
    logger: { info() {}, warn: console.warn, error: console.error },
  });
  try {
    const entries = makeEntries(N);
    const rssBefore = rss();
    const samples: string[] = [];
    const t0 = performance.now();
    await addAll(log, entries, (done) => samples.push(`${done / 1000}k: ${mib(rss())}`));
    const durableSecs = (performance.now() - t0) / 1000;
    await log.waitForCheckpoint(N - 1);
    const publishedSecs = (performance.now() - t0) / 1000;
    const rssAfter = rss();

    line('durable adds (in process)', `${rate(N / durableSecs)} entries/s`, 'published at', `${rate(N / publishedSecs)} entries/s`, publishedSecs / durableSecs);
    console.log(`  RSS before ${mib(rssBefore)}, after ${mib(rssAfter)} (entries array itself ~${mib(entries.reduce((a, e) => a + e.length + 64, 0))})`);
    console.log(`  RSS samples: ${samples.join(', ')}`);

    // Inclusion proofs at size N, random indexes, each verified.
    const size = log.checkpoint().size;
    const root = log.checkpoint().root;
    const proofMs: number[] = [];
    for (let i = 0; i < PROOFS; i++) {
      const index = Math.floor(Math.random() * size);
      const t = performance.now();
      const proof = await log.inclusionProof(index, size);
      proofMs.push(performance.now() - t);
      verifyInclusion(undefined, index, size, leafHash(entries[index]!), proof, root);
    }
    const readMs: number[] = [];
    for (let i = 0; i < PROOFS; i++) {
      const n = Math.floor(Math.random() * Math.floor(size / 256));
      const t = performance.now();
      await log.readPublic(tilePath({ level: 0, index: n, width: 256 }));
      readMs.push(performance.now() - t);
    }
    const p50 = quantile(proofMs, 0.5);
    const p99 = quantile(proofMs, 0.99);
    line(
      `inclusion proof at ${rate(size)} p50/p99`,
      `${p50.toFixed(3)}/${p99.toFixed(3)} ms`,
      'one tile read p50',
      `${quantile(readMs, 0.5).toFixed(3)} ms`,
      p50 / quantile(readMs, 0.5),
    );
  } finally {
    await log.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
