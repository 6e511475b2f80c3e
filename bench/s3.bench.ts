// S3 benchmark (issue 12): the public tree in a bucket on the in-repo
// S3-compatible test server, beside the file store (FileTileStore in a temp
// dir) on the same load in the same run. The server runs as a child process
// (test/support/s3-server-main.ts), so its CPU is not in this process; the
// engine reaches it over HTTP on 127.0.0.1 with the real AWS SDK.
//
// Phases, each on a fresh log (own state dir, own bucket prefix), RUNS times:
//   steady   RATE adds/s, open loop, for SECONDS: time to checkpoint per add
//            (add() called -> first published checkpoint covering it);
//   bursts   BURSTS bursts of BURST adds at once, one a second: the same;
//   singles  one add at a time, each waiting for its checkpoint (the most
//            checkpoints per entry: the worst case for PUTs per entry);
//   large    LARGE_PASSES batches of 4096 adds at once (few checkpoints);
//   backlog  BACKLOG entries sequenced into the state DB first, then the log
//            opened: time until all are published, in entries/s.
// For each: PUT requests and bytes per 1,000 entries (S3TileStore.counters:
// every attempt, as a store bills it; cross-checked with the server's request
// log), GETs per checkpoint, retries, and the number of public objects that
// changed between consecutive published sizes, from the tlog-tiles layout
// (tile-changes.ts; one `checkpoint` per step included). Target: PUTs (first
// attempts) / objects changed = 1.00, and time-to-checkpoint p99 <= 1 s.
// Targets are printed as PASS/MISS, never asserted. The partial-tile
// collector is kept out (its DELETEs come a grace period later).

import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openFileLog, type Log } from '../src/log/index.js';
import { leafHash } from '../src/merkle/index.js';
import { generateSignerKey, parseSignerKey } from '../src/note/index.js';
import { FileTileStore } from '../src/storage/file-tile-store.js';
import { openS3TileStore, type S3Counters, type S3TileStore } from '../src/storage/s3-tile-store.js';
import { SqliteSequenceDB } from '../src/storage/sqlite-sequence-db.js';
import { CountingStore, type EngineCalls } from './counting-store.js';
import { changedAlong } from './tile-changes.js';
import { header, line, median, quantile, rate } from './util.js';

const RUNS = Number(process.env.BENCH_S3_RUNS ?? 3);
const RATE = Number(process.env.BENCH_S3_RATE ?? 50);
const SECONDS = Number(process.env.BENCH_S3_SECONDS ?? 4);
const BURST = Number(process.env.BENCH_S3_BURST ?? 1000);
const BURSTS = Number(process.env.BENCH_S3_BURSTS ?? 3);
const SINGLES = Number(process.env.BENCH_S3_SINGLES ?? 256);
const LARGE_PASSES = Number(process.env.BENCH_S3_LARGE_PASSES ?? 4);
const LARGE_BATCH = 4096;
const BACKLOG = Number(process.env.BENCH_S3_BACKLOG ?? 65536);
const ENTRY_SIZE = 128;
const TARGET_P99_MS = 1000;
const BUCKET = 'bench';
const ORIGIN = 'bench.tilelog.example/s3';

type StoreKind = 'file' | 's3';
const KINDS: readonly StoreKind[] = ['file', 's3'];

/** One request as the test server logged it (the fields used here). */
interface WireRequest {
  verb: string;
  key: string;
  objectClass: string;
  status: number | string;
  bytes: number;
}

interface S3Server {
  url: string;
  /** The server's request log for keys under prefix/ (self-test probes, class 'other', left out). */
  requests(prefix: string): Promise<WireRequest[]>;
  close(): Promise<void>;
}

// startServer: the test S3 server as a child process; resolves once it prints its URL.
async function startServer(): Promise<S3Server> {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'test/support/s3-server-main.ts', '--bucket', BUCKET], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve((JSON.parse(out.slice(0, nl)) as { url: string }).url);
    });
    child.once('exit', (code) => reject(new Error(`s3 bench: the test S3 server exited (code ${code}) before listening`)));
  });
  return {
    url,
    async requests(prefix) {
      const all = (await (await fetch(`${url}/_s3test/log`)).json()) as WireRequest[];
      return all.filter((r) => r.key.startsWith(`${prefix}/`) && r.objectClass !== 'other');
    },
    async close() {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.stdin!.end(); // the server exits when its stdin closes
      await Promise.race([exited, sleep(2000).then(() => child.kill('SIGKILL'))]);
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A public tree for one phase: the engine-side counter around it, and the S3 store when it is one. */
interface Tree {
  tiles: CountingStore;
  s3: S3TileStore | null;
  prefix: string | null;
  close(): void;
}

let treeSeq = 0;

async function openTree(kind: StoreKind, server: S3Server, dir: string): Promise<Tree> {
  if (kind === 'file') {
    return { tiles: new CountingStore(new FileTileStore(path.join(dir, 'tiles'))), s3: null, prefix: null, close() {} };
  }
  const prefix = `r${++treeSeq}`;
  const s3 = await openS3TileStore({
    bucket: BUCKET,
    prefix,
    endpoint: server.url,
    forcePathStyle: true,
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  return { tiles: new CountingStore(s3), s3, prefix, close: () => s3.close() };
}

const quiet = { info() {}, warn: (m: string, e?: unknown) => console.warn(`tilelog: ${m}`, e ?? ''), error: (m: string, e?: unknown) => console.error(`tilelog: ${m}`, e ?? '') };

function openLog(tree: Tree, dir: string, signer: ReturnType<typeof parseSignerKey>): Promise<Log> {
  return openFileLog({ origin: ORIGIN, signer, stateDir: path.join(dir, 'state'), tileStore: tree.tiles, partialGcIntervalMs: 3_600_000, logger: quiet });
}

// makeEntries(n, tag): n distinct ENTRY_SIZE-byte entries (tag keeps phases apart).
function makeEntries(n: number, tag: number): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => {
    const e = new Uint8Array(ENTRY_SIZE).fill(0x61 + (i % 26));
    const v = new DataView(e.buffer);
    v.setUint32(0, i);
    v.setUint32(4, tag);
    return e;
  });
}

async function timeToCheckpoint(log: Log, entry: Uint8Array): Promise<number> {
  const t0 = performance.now();
  const { index } = await log.add(entry);
  await log.waitForCheckpoint(index);
  return performance.now() - t0;
}

type Load = (log: Log, entries: Uint8Array[]) => Promise<number[]>;

interface Phase {
  name: string;
  entries: number;
  load: Load;
}

const steady: Load = async (log, entries) => {
  const start = performance.now();
  const out: Promise<number>[] = [];
  for (let k = 0; k < entries.length; k++) {
    const wait = start + (k * 1000) / RATE - performance.now();
    if (wait > 0) await sleep(wait);
    out.push(timeToCheckpoint(log, entries[k]!));
  }
  return Promise.all(out);
};

const bursts: Load = async (log, entries) => {
  const start = performance.now();
  const out: Promise<number>[] = [];
  for (let b = 0; b < BURSTS; b++) {
    const wait = start + b * 1000 - performance.now();
    if (wait > 0) await sleep(wait);
    for (const e of entries.slice(b * BURST, (b + 1) * BURST)) out.push(timeToCheckpoint(log, e));
  }
  return Promise.all(out);
};

const singles: Load = async (log, entries) => {
  const out: number[] = [];
  for (const e of entries) out.push(await timeToCheckpoint(log, e));
  return out;
};

const large: Load = async (log, entries) => {
  const out: number[] = [];
  for (let p = 0; p < LARGE_PASSES; p++) {
    out.push(...(await Promise.all(entries.slice(p * LARGE_BATCH, (p + 1) * LARGE_BATCH).map((e) => timeToCheckpoint(log, e)))));
  }
  return out;
};

const PHASES: Phase[] = [
  { name: `steady ${RATE}/s x ${SECONDS} s`, entries: Math.round(RATE * SECONDS), load: steady },
  { name: `bursts ${BURSTS} x ${BURST}, 1/s`, entries: BURSTS * BURST, load: bursts },
  { name: `singles ${SINGLES} x 1/checkpoint`, entries: SINGLES, load: singles },
  { name: `large ${LARGE_PASSES} x ${LARGE_BATCH}/pass`, entries: LARGE_PASSES * LARGE_BATCH, load: large },
];

/** What one phase on one store did. */
interface Result {
  entries: number;
  seconds: number;
  ttc: number[];
  /** Published checkpoints written in the phase. */
  checkpoints: number;
  /** Public objects that had to change (layout), checkpoints included. */
  changed: number;
  calls: EngineCalls;
  s3: S3Counters | null;
  /** store.counters since the store opened (after its self-test): the phase plus the log's open. */
  s3SinceOpen: S3Counters | null;
  /** From the server's log, the phase's store only: PUTs by object class, and PUT keys sent more than once. */
  wire: { puts: number; putsByClass: Record<string, number>; repeatedKeys: number; gets: number } | null;
}

function diff<T extends object>(a: T, b: T): T {
  const out = { ...b };
  for (const k of Object.keys(a) as (keyof T)[]) (out[k] as number) = (b[k] as number) - (a[k] as number);
  return out;
}

async function wireSummary(server: S3Server, tree: Tree): Promise<Result['wire']> {
  if (tree.prefix === null) return null;
  const reqs = await server.requests(tree.prefix);
  const puts = reqs.filter((r) => r.verb === 'PUT');
  const putsByClass: Record<string, number> = {};
  const seen = new Map<string, number>();
  for (const r of puts) {
    putsByClass[r.objectClass] = (putsByClass[r.objectClass] ?? 0) + 1;
    if (r.objectClass !== 'checkpoint') seen.set(r.key, (seen.get(r.key) ?? 0) + 1);
  }
  const repeatedKeys = [...seen.values()].filter((n) => n > 1).length;
  return { puts: puts.length, putsByClass, repeatedKeys, gets: reqs.filter((r) => r.verb === 'GET').length };
}

// runPhase: a fresh log on a fresh tree; counters are read after open (so
// the self-test and recovery are not counted) and after the load.
async function runPhase(kind: StoreKind, phase: Phase, server: S3Server, signer: ReturnType<typeof parseSignerKey>, tag: number): Promise<Result> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tilelog-bench-s3-'));
  const tree = await openTree(kind, server, dir);
  let log: Log | null = null;
  try {
    log = await openLog(tree, dir, signer);
    const entries = makeEntries(phase.entries, tag);
    const calls0 = { ...tree.tiles.calls };
    const s30 = tree.s3 === null ? null : { ...tree.s3.counters };
    const sizes0 = tree.tiles.checkpointSizes.length;
    const t0 = performance.now();
    const ttc = await phase.load(log, entries);
    const seconds = (performance.now() - t0) / 1000;
    const sizes = tree.tiles.checkpointSizes.slice(sizes0 - 1);
    return {
      entries: phase.entries,
      seconds,
      ttc,
      checkpoints: sizes.length - 1,
      changed: changedAlong(sizes),
      calls: diff(calls0, tree.tiles.calls),
      s3: s30 === null ? null : diff(s30, tree.s3!.counters),
      s3SinceOpen: tree.s3 === null ? null : { ...tree.s3.counters },
      wire: await wireSummary(server, tree),
    };
  } finally {
    await log?.close();
    tree.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// runBacklog: BACKLOG entries made durable in the state DB with the log
// closed, then openFileLog, which integrates and publishes them before it
// returns. Counted from before the open, so recovery's GET of `checkpoint`
// and its first (size 0) checkpoint PUT are in the figures.
async function runBacklog(kind: StoreKind, server: S3Server, signer: ReturnType<typeof parseSignerKey>, tag: number): Promise<Result> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tilelog-bench-s3-'));
  const tree = await openTree(kind, server, dir);
  let log: Log | null = null;
  try {
    fs.mkdirSync(path.join(dir, 'state'), { mode: 0o700 });
    const db = new SqliteSequenceDB(path.join(dir, 'state', 'log.db'), { origin: ORIGIN });
    const entries = makeEntries(BACKLOG, tag);
    for (let i = 0; i < BACKLOG; i += 4096) {
      db.sequence(entries.slice(i, i + 4096).map((bytes) => ({ bytes, leafHash: leafHash(bytes) })), true);
    }
    db.close();
    const s30 = tree.s3 === null ? null : { ...tree.s3.counters };
    const t0 = performance.now();
    log = await openLog(tree, dir, signer);
    const seconds = (performance.now() - t0) / 1000;
    if (log.checkpoint().size !== BACKLOG) throw new Error(`s3 bench: bad math: published ${log.checkpoint().size} of ${BACKLOG}`);
    const sizes = tree.tiles.checkpointSizes;
    return {
      entries: BACKLOG,
      seconds,
      ttc: [],
      checkpoints: sizes.length - 1,
      changed: 1 + changedAlong(sizes), // + the size-0 checkpoint recovery creates
      calls: { ...tree.tiles.calls },
      s3: s30 === null ? null : diff(s30, tree.s3!.counters),
      s3SinceOpen: tree.s3 === null ? null : { ...tree.s3.counters },
      wire: await wireSummary(server, tree),
    };
  } finally {
    await log?.close();
    tree.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// --- Reporting: medians over runs with [min-max] spread.

function spread(xs: readonly number[], digits: number): string {
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  const m = median(xs).toFixed(digits);
  return xs.length > 1 ? `${m} [${lo.toFixed(digits)}-${hi.toFixed(digits)}]` : m;
}

/** PUT requests counted per store: wire attempts for S3, engine write calls for files. */
function puts(r: Result): number {
  return r.s3 === null ? r.calls.writes : r.s3.puts;
}
function putBytes(r: Result): number {
  return r.s3 === null ? r.calls.writeBytes : r.s3.putBytes;
}
function gets(r: Result): number {
  return r.s3 === null ? r.calls.reads : r.s3.gets;
}
function retries(r: Result): number {
  return r.s3?.retries ?? 0;
}

const COLS = ['store', 'ttc p50 ms', 'ttc p99 ms', 'ckpts', 'PUT/entry', 'PUT/1k', 'PUT KiB/1k', 'changed/1k', 'PUT/changed', 'GET/ckpt', 'retries'];
const WIDTHS = [6, 19, 19, 6, 18, 8, 11, 11, 12, 9, 8];

function row(cells: readonly string[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(WIDTHS[i]!) : c.padStart(WIDTHS[i]!))).join(' ');
}

function report(kind: StoreKind, rs: readonly Result[]): string {
  const per1k = (f: (r: Result) => number) => rs.map((r) => (1000 * f(r)) / r.entries);
  const has = rs[0]!.ttc.length > 0;
  return row([
    kind,
    has ? spread(rs.map((r) => quantile(r.ttc, 0.5)), 1) : '-',
    has ? spread(rs.map((r) => quantile(r.ttc, 0.99)), 1) : '-',
    median(rs.map((r) => r.checkpoints)).toFixed(0),
    spread(rs.map((r) => puts(r) / r.entries), 3),
    median(per1k(puts)).toFixed(0),
    median(per1k((r) => putBytes(r) / 1024)).toFixed(0),
    median(per1k((r) => r.changed)).toFixed(0),
    spread(rs.map((r) => (puts(r) - retries(r)) / r.changed), 2),
    median(rs.map((r) => gets(r) / Math.max(1, r.checkpoints))).toFixed(2),
    String(rs.reduce((a, r) => a + retries(r), 0)),
  ]);
}

// wireNote: the server's view of the last S3 run, checked against the store's counters.
function wireNote(r: Result): string {
  const w = r.wire!;
  const classes = Object.entries(w.putsByClass)
    .sort()
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const total = r.s3SinceOpen!;
  const agree = w.puts === total.puts && w.gets === total.gets ? 'agree with' : `DIFFER from (${total.puts} PUTs, ${total.gets} GETs)`;
  return (
    `       server log, last s3 run, from the log's open (1 GET + 1 PUT of checkpoint) on: ${w.puts} PUTs (${classes}), ${w.gets} GETs, ${agree} store.counters;\n` +
    `       ${w.repeatedKeys} tile keys PUT more than once; ${r.s3!.preconditionFailed} PUTs answered 412; self-test probes not counted`
  );
}

export async function main(): Promise<void> {
  header(
    'S3: the public tree on the local S3 test server (child process, real HTTP, AWS SDK) vs files',
    `${RUNS} runs, ${ENTRY_SIZE}-byte entries; median [min-max]; targets: ttc p99 <= ${TARGET_P99_MS} ms, PUT/changed = 1.00`,
  );
  const server = await startServer();
  const signer = parseSignerKey(generateSignerKey(ORIGIN).signerKey);
  let tag = 0;
  try {
    for (const phase of PHASES) {
      const results: Record<StoreKind, Result[]> = { file: [], s3: [] };
      for (let run = 0; run < RUNS; run++) {
        for (const kind of KINDS) results[kind].push(await runPhase(kind, phase, server, signer, ++tag));
      }
      console.log(`\n## ${phase.name} (${phase.entries} entries)`);
      console.log(row(COLS));
      for (const kind of KINDS) console.log(report(kind, results[kind]));
      console.log(wireNote(results.s3.at(-1)!));
      const p99 = (k: StoreKind) => median(results[k].map((r) => quantile(r.ttc, 0.99)));
      line(`${phase.name} ttc p99 s3`, `${p99('s3').toFixed(1)} ms`, 'file', `${p99('file').toFixed(1)} ms`, p99('s3') / p99('file'));
      const ratio = median(results.s3.map((r) => (r.s3!.puts - r.s3!.retries) / r.changed));
      console.log(
        `       target ttc p99 <= ${TARGET_P99_MS} ms: ${p99('s3') <= TARGET_P99_MS ? 'PASS' : 'MISS'}; ` +
          `target PUT/changed <= 1.00: ${ratio <= 1.0005 ? 'PASS' : 'MISS'} (${ratio.toFixed(2)})`,
      );
    }

    const backlog: Record<StoreKind, Result[]> = { file: [], s3: [] };
    for (let run = 0; run < RUNS; run++) {
      for (const kind of KINDS) backlog[kind].push(await runBacklog(kind, server, signer, ++tag));
    }
    console.log(`\n## backlog: ${BACKLOG} entries sequenced, then open until published`);
    console.log(row(COLS));
    for (const kind of KINDS) console.log(report(kind, backlog[kind]));
    console.log(wireNote(backlog.s3.at(-1)!));
    const eps = (k: StoreKind) => backlog[k].map((r) => r.entries / r.seconds);
    line('backlog integration s3', `${rate(median(eps('s3')))} entries/s`, 'file', `${rate(median(eps('file')))} entries/s`, median(eps('s3')) / median(eps('file')));
    console.log(`       s3 spread ${spread(eps('s3').map((x) => x / 1000), 1)}k entries/s; file ${spread(eps('file').map((x) => x / 1000), 1)}k entries/s (ckpts: published steps after the size-0 one recovery creates; GETs: recovery's 1 of checkpoint)`);
  } finally {
    await server.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
