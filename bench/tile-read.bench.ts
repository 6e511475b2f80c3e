// Tile read benchmark: the cost of the safe read on the tile hot path
// (src/storage/safe-read.ts: open O_NOFOLLOW, fstat, readlink of
// /proc/self/fd, read) against the plain readFile the store used before,
// on the same files in the same run, sequentially and 32 reads in flight.
//   node --import tsx bench/tile-read.bench.ts
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { FileTileStore } from '../src/storage/file-tile-store.js';
import { tilePath } from '../src/merkle/layout.js';
import { header, line, median, rate } from './util.js';

const FILES = Number(process.env.BENCH_TILE_FILES ?? 2000);
const READS = Number(process.env.BENCH_TILE_READS ?? 20_000);
const RUNS = 5;

/** Full 8 KiB hash tiles at level 0 and their entry bundles: the paths clients fetch most. */
function makeTree(root: string): string[] {
  const paths: string[] = [];
  const tile = new Uint8Array(8192).fill(7);
  for (let n = 0; n < FILES / 2; n++) {
    for (const p of [tilePath({ level: 0, index: n, width: 256 }), tilePath({ level: -1, index: n, width: 256 })]) {
      mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
      writeFileSync(path.join(root, p), tile);
      paths.push(p);
    }
  }
  return paths;
}

/** Reads/s of READS reads over paths, `inFlight` at a time. */
async function measure(read: (p: string) => Promise<unknown>, paths: string[], inFlight: number): Promise<number> {
  let next = 0;
  const start = process.hrtime.bigint();
  const worker = async () => {
    while (next < READS) await read(paths[next++ % paths.length]!);
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return READS / (Number(process.hrtime.bigint() - start) / 1e9);
}

export async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tilelog-bench-tiles-'));
  try {
    const root = path.join(dir, 'tiles');
    const paths = makeTree(root);
    const store = new FileTileStore(root);
    const plain = (p: string) => readFile(path.join(root, p)); // the read before the guard
    const safe = (p: string) => store.read(p);
    header('tile reads: safe read vs plain readFile', `${paths.length} files of 8 KiB, ${READS} reads per run, median of ${RUNS} runs, runs interleaved`);
    for (const inFlight of [1, 32]) {
      await measure(plain, paths, inFlight); // warm-up (page cache, JIT)
      await measure(safe, paths, inFlight);
      const old: number[] = [];
      const neu: number[] = [];
      for (let r = 0; r < RUNS; r++) {
        old.push(await measure(plain, paths, inFlight));
        neu.push(await measure(safe, paths, inFlight));
      }
      const o = median(old);
      const n = median(neu);
      line(`read tile, ${inFlight} in flight`, `${rate(n)} reads/s`, 'plain readFile', `${rate(o)}/s`, n / o);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
