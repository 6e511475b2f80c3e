// Disk use of the public tree per entry, before and after the partial-tile
// collector (src/log/tile-gc.ts), for the worst add pattern (one add per
// checkpoint, as POST /add?wait=checkpoint one at a time does) and the best
// (one large batch), against the minimal tree measured for the same entries:
// entry bytes + 2-byte length prefixes + 32 bytes per hash-tile hash across
// levels. The budget is 1.5x that minimum after collection.
// Figures are apparent file sizes (st.size); "alloc" adds what the
// filesystem allocates (st.blocks), where small partial tiles round up to a block.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { minimalTreeBytes } from '../src/log/tile-gc.js';
import { openFileLog, type Log } from '../src/log/index.js';
import { generateSignerKey, parseSignerKey } from '../src/note/index.js';
import { header, line } from './util.js';

const BUDGET = 1.5;

interface Pattern {
  name: string;
  entries: number;
  entrySize: number;
  /** Entries per checkpoint: 1 is the worst case, entries the best. */
  perCheckpoint: number;
}

const PATTERNS: Pattern[] = [
  { name: 'worst 256 x 1 KiB, 1/checkpoint', entries: 256, entrySize: 1024, perCheckpoint: 1 },
  { name: 'worst 64 x 64 KiB, 1/checkpoint', entries: 64, entrySize: 65535, perCheckpoint: 1 },
  { name: 'worst 1000 x 100 B, 1/checkpoint', entries: 1000, entrySize: 100, perCheckpoint: 1 },
  { name: 'best 4096 x 1 KiB, one batch', entries: 4096, entrySize: 1024, perCheckpoint: 4096 },
  { name: 'best 256 x 64 KiB, one batch', entries: 256, entrySize: 65535, perCheckpoint: 256 },
];

function usage(dir: string): { bytes: number; alloc: number } {
  let bytes = 0;
  let alloc = 0;
  for (const name of fs.readdirSync(dir, { recursive: true }) as string[]) {
    const st = fs.statSync(path.join(dir, name));
    if (!st.isFile()) continue;
    bytes += st.size;
    alloc += st.blocks * 512;
  }
  return { bytes, alloc };
}

function entry(i: number, size: number): Uint8Array {
  const e = new Uint8Array(size).fill(i & 0xff);
  new DataView(e.buffer).setUint32(0, i);
  return e;
}

async function run(p: Pattern, signer: ReturnType<typeof parseSignerKey>, origin: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tilelog-bench-disk-'));
  const tilesDir = path.join(dir, 'tiles');
  let log: Log | null = null;
  try {
    log = await openFileLog({ origin, signer, stateDir: path.join(dir, 'state'), tilesDir, partialGraceMs: 0, partialGcIntervalMs: 3_600_000 });
    for (let i = 0; i < p.entries; i += p.perCheckpoint) {
      const batch = Array.from({ length: Math.min(p.perCheckpoint, p.entries - i) }, (_, k) => log!.add(entry(i + k, p.entrySize)));
      const results = await Promise.all(batch);
      await log.waitForCheckpoint(Math.max(...results.map((r) => r.index)));
    }
    const before = usage(tilesDir);
    const gc = await log.collectPartialTiles();
    const after = usage(tilesDir);
    return { before, after, deleted: gc.objects, minimal: minimalTreeBytes(p.entries, p.entries * p.entrySize) };
  } finally {
    await log?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function main(): Promise<void> {
  header('disk: public tree bytes per entry, before and after partial-tile GC', `${PATTERNS.length} patterns, grace 0, budget ${BUDGET}x the minimal tree`);
  const origin = 'bench.tilelog.example/disk';
  const signer = parseSignerKey(generateSignerKey(origin).signerKey);
  for (const p of PATTERNS) {
    const r = await run(p, signer, origin);
    const per = (b: number) => `${(b / p.entries).toFixed(0)} B/entry`;
    line(`${p.name} before GC`, per(r.before.bytes), 'minimal', per(r.minimal), r.before.bytes / r.minimal);
    line(`${p.name} after GC`, per(r.after.bytes), 'minimal', per(r.minimal), r.after.bytes / r.minimal);
    const verdict = r.after.bytes <= BUDGET * r.minimal ? 'within' : 'OVER';
    console.log(
      `${''.padEnd(34)} ${r.deleted} partials deleted; after GC ${verdict} the ${BUDGET}x budget; ` +
        `alloc ${per(r.after.alloc)} (x${(r.after.alloc / r.minimal).toFixed(2)}, block rounding)`,
    );
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
