// The S3 fault matrix (SCALE-OUT T7, after Sunlight's TestSequenceErrors):
// for each object class (bundle, level-0 tile, upper tile, partial,
// checkpoint) and each fault the test S3 server injects (fail without
// storing, store then lose the answer (socket reset, or a 500 after storing),
// 503 SlowDown, 409 conflict, hang, stale read), a real log (SQLite state, S3TileStore through the real SDK
// over HTTP on 127.0.0.1) grows, breaks, grows while broken, heals, grows
// again. Each cell checks:
//   - progress as expected: a fault within the store's retry bound (or a lost
//     answer, which the 412 read-back absorbs) does not stop publication; a
//     fault beyond it publishes nothing while broken, yet every add is still
//     acknowledged (durable), and publication resumes after healing;
//   - a reader following the bucket's public HTTP view never finds a tile or
//     bundle missing for a checkpoint it saw, and the sizes it sees and the
//     server stored never decrease;
//   - at the end every acknowledged entry is at its index and the bucket
//     audits (signature, every tile recomputed from the bundles, root).
// A compact table (class x fault -> outcome) is printed at the end.
// TILELOG_S3_MATRIX_ROUNDS=N runs N break/heal rounds per cell (default 1).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, type ExpectStatic, test } from 'vitest';
import { openFileLog, type Log } from '../../src/log/index.js';
import { openS3TileStore, type S3TileStore } from '../../src/storage/s3-tile-store.js';
import type { FaultRule } from '../support/s3-faults.js';
import { startS3TestServer, type S3TestServer } from '../support/s3-server.js';
import { TEST_CREDENTIALS } from '../storage/s3-helpers.js';
import { ORIGIN, testKey, testSigner, utf8 } from './helpers.js';
import { auditUrl, nonDecreasing, PublicReader, rootConflicts, storedCheckpointSizes } from './s3-log-helpers.js';

const BUCKET = 'matrix';
const ROUNDS = Math.max(1, Number(process.env.TILELOG_S3_MATRIX_ROUNDS ?? '1'));
/** Small bounds: a fault that outlasts 3 attempts (or 2 s) fails the request. */
const RETRY = { maxAttempts: 3, baseDelayMs: 2, maxDelayMs: 10, totalMs: 3_000, requestTimeoutMs: 500 };
const TRANSIENT_HITS = RETRY.maxAttempts - 1;

type ClassName = 'bundle' | 'tile0' | 'upper' | 'partial' | 'checkpoint';
type FaultName = 'fail' | 'lost' | 'applied-500' | 'slowdown' | 'conflict' | 'hang' | 'stale';
type Mode = 'transient' | 'persistent';
type Outcome = 'progress' | 'stalled';

// Which requests each class covers. Level-0 tiles, bundles and upper tiles
// are matched by path, full and partial alike (the broken phase crosses a
// 256-entry boundary, so full ones are written then too); 'partial' is every
// partial tile and bundle.
const CLASSES: Record<ClassName, (prefix: string) => Pick<FaultRule, 'objectClass' | 'keyPattern'>> = {
  bundle: (p) => ({ keyPattern: new RegExp(`^${p}/tile/entries/`) }),
  tile0: (p) => ({ keyPattern: new RegExp(`^${p}/tile/0/`) }),
  upper: (p) => ({ keyPattern: new RegExp(`^${p}/tile/[1-9][0-9]*/`) }),
  partial: (p) => ({ objectClass: 'partial', keyPattern: new RegExp(`^${p}/`) }),
  checkpoint: (p) => ({ objectClass: 'checkpoint', keyPattern: new RegExp(`^${p}/`) }),
};

// The rules for a fault (stale reads hit only the log's own GETs, through its
// user-agent, and bite when a lost answer makes it read an object back).
function rules(fault: FaultName, mode: Mode, ua: string): FaultRule[] {
  const times = mode === 'transient' ? { times: TRANSIENT_HITS } : {};
  if (fault === 'stale') return [{ kind: 'stale', verb: 'GET', userAgent: ua }, { kind: 'lost', verb: 'PUT', times: 1 }];
  return [{ kind: fault, verb: 'PUT', ...times }];
}

// expected(fault, mode): a fault the retry bound absorbs lets publication go
// on (a lost answer: the retry's 412 is resolved by reading the object back);
// a persistent one stops publication until healed (a persistent 'lost' loses
// every answer, the retries' 412s too). A stale read that hides our own
// write cannot be told from a failed one, so publication waits for the store
// to read its writes again.
function expected(_fault: FaultName, mode: Mode): Outcome {
  return mode === 'transient' ? 'progress' : 'stalled';
}

interface Cell {
  cls: ClassName;
  fault: FaultName;
  mode: Mode;
}

const CELLS: Cell[] = [];
for (const cls of Object.keys(CLASSES) as ClassName[]) {
  for (const fault of ['fail', 'lost', 'applied-500', 'slowdown', 'conflict', 'hang', 'stale'] as FaultName[]) {
    CELLS.push({ cls, fault, mode: 'persistent' });
    if (fault !== 'stale') CELLS.push({ cls, fault, mode: 'transient' });
  }
}

const results = new Map<string, string>();
let srv: S3TestServer;
let tmp: string;
beforeAll(async () => {
  srv = await startS3TestServer({ buckets: [BUCKET], publicRead: true });
  tmp = mkdtempSync(path.join(tmpdir(), 'tilelog-s3-matrix-'));
});
afterAll(async () => {
  await srv?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  printTable();
});

// until(cond, ms, what): resolves once cond() holds, checking every 5 ms; throws after ms.
async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

let cellNo = 0;
describe.concurrent('S3 fault matrix: class x fault', () => {
  test.for(CELLS)('$cls x $fault ($mode)', async ({ cls, fault, mode }, ctx) => {
    const expect: ExpectStatic = ctx.expect;
    const n = ++cellNo;
    const prefix = `c${n}-${cls}-${fault}-${mode}`;
    const ua = `tilelog-matrix-${n}`;
    const messages: string[] = [];
    let store: S3TileStore | null = null;
    let log: Log | null = null;
    const reader = new PublicReader(`${srv.url}/${BUCKET}/${prefix}`, ORIGIN, testKey.verifierKey);
    const acked = new Map<number, string>();
    let entryNo = 0; // every entry distinct: no add is a duplicate
    const add = async (count: number, batch: number): Promise<number> => {
      let last = -1;
      for (let done = 0; done < count; done += batch) {
        const names = Array.from({ length: Math.min(batch, count - done) }, () => `${prefix}:${entryNo++}`);
        const rs = await Promise.all(names.map((e) => log!.add(utf8(e))));
        rs.forEach((r, i) => acked.set(r.index, names[i]!));
        last = Math.max(last, ...rs.map((r) => r.index));
      }
      return last;
    };
    try {
      store = await openS3TileStore({
        bucket: BUCKET,
        prefix,
        endpoint: srv.url,
        forcePathStyle: true,
        credentials: TEST_CREDENTIALS,
        retry: RETRY,
        userAgent: ua,
      });
      log = await openFileLog({
        origin: ORIGIN,
        signer: testSigner,
        stateDir: path.join(tmp, prefix),
        tileStore: store,
        batchMaxDelayMs: 1,
        logger: { info: () => undefined, warn: (m) => void messages.push(m), error: (m, e) => void messages.push(`${m}: ${String(e)}`) },
      });
      reader.start();
      // Phase A: 250 entries, published (the first broken batch then crosses 256).
      await log.waitForCheckpoint(await add(250, 50), AbortSignal.timeout(20_000));
      const outcomes: string[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const publishedBefore = log.checkpoint().size;
        const failedBefore = log.stats().failedPasses;
        // Break, then grow across a 256-entry boundary (full tiles, a new level-1 tile).
        const faults = CLASSES[cls](prefix);
        const injected = rules(fault, mode, ua).map((r) => srv.inject({ ...r, ...faults }));
        const lastB = await add(100, 20); // every add acknowledged: durable while broken (250 → 350 in the first round)
        let outcome: Outcome;
        if (expected(fault, mode) === 'progress') {
          await log.waitForCheckpoint(lastB, AbortSignal.timeout(20_000));
          outcome = 'progress';
        } else {
          // Let passes run and fail (at least two), then look: nothing new is public.
          await until(() => log!.stats().failedPasses >= failedBefore + 2 || log!.stats().fatal !== null, 20_000, 'two failed passes');
          outcome = log.checkpoint().size === publishedBefore ? 'stalled' : 'progress';
          expect(log.stats().fatal, messages.join('\n')).toBeNull();
          expect(log.checkpoint().size).toBe(publishedBefore);
          expect(log.stats().sequenced).toBe(lastB + 1);
        }
        const hits = injected.reduce((s, f) => s + f.hits, 0);
        expect(hits, 'the fault hit nothing: the cell tests nothing').toBeGreaterThan(0);
        outcomes.push(`${outcome === 'progress' ? 'ok' : 'stall'}(${hits})`);
        expect(outcome).toBe(expected(fault, mode));
        // Heal: what waited is published, and more goes through.
        // Only this cell's faults (cells run concurrently); hung requests were already abandoned by the client's timeout.
        for (const f of injected) f.remove();
        await log.waitForCheckpoint(lastB, AbortSignal.timeout(20_000));
        // Grow to 6 below the next-but-one multiple of 256, so the next round's broken batch crosses a boundary too.
        const size = log.stats().sequenced;
        await log.waitForCheckpoint(await add((Math.floor(size / 256) + 2) * 256 - 6 - size, 64), AbortSignal.timeout(20_000));
      }
      expect(log.stats().fatal).toBeNull();
      const final = log.checkpoint().size;
      expect(final).toBe(entryNo);
      expect(acked.size).toBe(entryNo);
      for (const [index, entry] of acked) expect(new TextDecoder().decode(await log.entry(index))).toBe(entry);
      await reader.stop();
      expect(reader.missing, 'a published checkpoint lacked a tile').toEqual([]);
      expect(reader.problems).toEqual([]);
      expect(nonDecreasing(reader.sizes), `reader saw ${reader.sizes.join(',')}`).toBe(true);
      expect(rootConflicts(reader.seen)).toEqual([]);
      expect(reader.sizes.at(-1)).toBe(final);
      expect(reader.seen.length, 'the reader followed the run').toBeGreaterThanOrEqual(3);
      const stored = storedCheckpointSizes(srv.log, `${prefix}/checkpoint`);
      expect(nonDecreasing(stored), `stored ${stored.join(',')}`).toBe(true);
      const audited = await auditUrl(`${srv.url}/${BUCKET}/${prefix}`, testKey.verifierKey, ORIGIN);
      expect(audited, JSON.stringify(audited.mismatches)).toMatchObject({ ok: true, treeSize: final, signatureVerified: true });
      results.set(`${cls} ${fault} ${mode}`, `${outcomes.join(' ')}→${final}`);
    } catch (err) {
      results.set(`${cls} ${fault} ${mode}`, 'FAILED');
      throw err;
    } finally {
      await reader.stop().catch(() => undefined);
      await log?.close();
      store?.close();
    }
  });
});

// printTable: one row per class, one column per fault; each cell
// "persistent / transient" as outcome(fault hits)→final size.
function printTable(): void {
  const faults: FaultName[] = ['fail', 'lost', 'applied-500', 'slowdown', 'conflict', 'hang', 'stale'];
  const rows = [['class', ...faults]];
  for (const cls of Object.keys(CLASSES) as ClassName[]) {
    rows.push([
      cls,
      ...faults.map((f) => {
        const p = results.get(`${cls} ${f} persistent`) ?? '-';
        const t = results.get(`${cls} ${f} transient`);
        return t === undefined ? p : `${p} / ${t}`;
      }),
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`);
  lines.splice(1, 0, `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  console.log(`S3 fault matrix (persistent / transient within the retry bound; stall(n) = no publication while broken, n = requests the fault hit; →final size):\n${lines.join('\n')}`);
}
