// The log's cosigner against real witnesses (src/witness over HTTP on
// 127.0.0.1) that can be made to misbehave: the public checkpoint carries the
// log's signature plus verified cosignatures and moves only when the policy
// is met; every witness failure is counted and never stalls the log.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TilelogError } from '../../src/errors.js';
import { MemoryTileStore, openFileLog, openLog, type Log } from '../../src/log/index.js';
import type { LogLogger } from '../../src/log/options.js';
import { cosignersOf, openCheckpoint, parseVerifierKey, simplePolicy, type WitnessPolicy } from '../../src/note/index.js';
import { SqliteSequenceDB } from '../../src/storage/sqlite-sequence-db.js';
import { partialTiles, tilePath } from '../../src/merkle/layout.js';
import { ORIGIN, tempDir, testKey, testSigner, utf8 } from './helpers.js';
import { cosignatureTimestamps, eventually, TestWitness, type Mode } from './witness-helpers.js';

let tmp: ReturnType<typeof tempDir>;
let witnesses: TestWitness[];
let logs: Log[];
let messages: string[];

const logger: LogLogger = {
  info: (m) => messages.push(`info: ${m}`),
  warn: (m) => messages.push(`warn: ${m}`),
  error: (m) => messages.push(`error: ${m}`),
};

beforeEach(async () => {
  tmp = tempDir('tilelog-cosigner-');
  messages = [];
  logs = [];
  witnesses = [1, 2, 3].map((n) => new TestWitness(n, tmp.dir, ORIGIN, testKey.verifierKey));
  for (const w of witnesses) await w.start();
});
afterEach(async () => {
  for (const log of logs) await log.close();
  for (const w of witnesses) {
    await w.stop();
    w.close();
  }
  tmp.cleanup();
});

function policy(quorum = 2): WitnessPolicy {
  return simplePolicy(
    witnesses.map((w) => ({ vkey: w.vkey, url: w.url })),
    quorum,
  );
}

async function open(
  opts: { quorum?: number; timeoutMs?: number; refreshMs?: number; failOpen?: boolean; partialGraceMs?: number; partialGcIntervalMs?: number } = {},
): Promise<Log> {
  const { quorum = 2, timeoutMs = 400, refreshMs = 60_000, failOpen = false, ...gc } = opts;
  const log = await openFileLog({
    origin: ORIGIN,
    signer: testSigner,
    stateDir: path.join(tmp.dir, 'state'),
    tilesDir: path.join(tmp.dir, 'tiles'),
    logger,
    witnesses: { policy: policy(quorum), timeoutMs, refreshMs, failOpen },
    ...gc,
  });
  logs.push(log);
  return log;
}

async function close(log: Log): Promise<void> {
  await log.close();
  logs = logs.filter((l) => l !== log);
}

const publicText = (): string => fs.readFileSync(path.join(tmp.dir, 'tiles/checkpoint'), 'utf8');

// The witnesses whose cosignatures verify on the note (log key first, Go Open rules).
function cosigners(note: string): Set<string> {
  const p = policy();
  const opened = openCheckpoint(note, ORIGIN, [parseVerifierKey(testKey.verifierKey), ...p.witnesses.map((w) => w.verifier)]);
  expect(opened.verified[0]!.name).toBe(ORIGIN);
  return cosignersOf(p, opened.verified);
}

async function addAndWait(log: Log, n: number, tag = 'e'): Promise<number> {
  let last = 0;
  for (let i = 0; i < n; i++) last = (await log.add(utf8(`${tag}-${i}-${Math.random()}`))).index;
  const cp = await log.waitForCheckpoint(last, AbortSignal.timeout(10_000));
  return cp.size;
}

describe('cosigned publication', () => {
  it('publishes checkpoints with the log signature and every witness cosignature, verified', async () => {
    const log = await open();
    const size = await addAndWait(log, 5);
    expect(size).toBe(5);
    const text = publicText();
    expect(log.checkpoint().text).toBe(text);
    expect([...cosigners(text)].sort()).toEqual(['w1.test', 'w2.test', 'w3.test']);
    // The log-signed checkpoint stays bare; the DB holds exactly that.
    expect(log.logSignedCheckpoint().text.split('\n— ').length).toBe(2);
    expect(text.startsWith(log.logSignedCheckpoint().text)).toBe(true);
    for (const w of witnesses) expect(w.size(ORIGIN)).toBe(5);
    const status = log.witnessStatus()!;
    expect(status.publishedSize).toBe(5);
    expect(status.witnesses.map((w) => w.size)).toEqual([5, 5, 5]);
    // Proofs are served for the cosigned size.
    expect((await log.inclusionProof(2, 5)).length).toBeGreaterThan(0);
  });

  it.each<[Mode | 'down', keyof NonNullable<ReturnType<Log['witnessStatus']>>['witnesses'][0]['counters']]>([
    ['down', 'unreachable'],
    ['slow', 'timeouts'],
    ['garbage', 'badResponses'],
    ['wrong-key', 'badResponses'],
    ['500', 'serverErrors'],
  ])('a witness that is %s is counted (%s); the other two meet 2-of-3', async (mode, counter) => {
    const bad = witnesses[1]!;
    if (mode === 'down') await bad.stop();
    else bad.mode = mode;
    // Far beyond the log's 300 ms timeout: publication must not wait for it.
    bad.slowMs = 15_000;
    const log = await open({ timeoutMs: 300 });
    expect(await addAndWait(log, 3)).toBe(3);
    const text = publicText();
    expect([...cosigners(text)].sort()).toEqual(['w1.test', 'w3.test']);
    // The bad witness's lines (if any) are not on the note at all.
    expect(text).not.toContain(`— ${bad.name} `);
    const status = log.witnessStatus()!.witnesses[1]!;
    expect(status.counters[counter]).toBeGreaterThan(0);
    expect(status.counters.cosigned).toBe(0);
    expect(status.lastError).not.toBeNull();
    // Published at quorum, before the slow one answered anything (an order, not a time).
    expect(bad.slowAnswered).toBe(0);
    if (mode === 'slow') expect(messages.some((m) => m.includes('no answer within the timeout'))).toBe(true);
    // The log stays healthy.
    expect(log.stats().fatal).toBeNull();
    expect(await addAndWait(log, 2, 'more')).toBe(5);
  });

  it('fail-closed: with the quorum unmet adds succeed and integrate, the public checkpoint waits, then advances', async () => {
    const log = await open({ timeoutMs: 300 });
    expect(await addAndWait(log, 2)).toBe(2);
    const before = publicText();
    await witnesses[0]!.stop();
    await witnesses[2]!.stop();
    for (let i = 0; i < 4; i++) await log.add(utf8(`while-down-${i}`));
    await eventually(() => log.stats().integrated === 6, 5000, 'integration');
    await eventually(() => log.witnessStatus()!.quorumMissed > 0, 5000, 'a missed quorum');
    expect(log.stats().published).toBe(2);
    expect(log.checkpoint().size).toBe(2);
    expect(publicText()).toBe(before);
    expect(log.logSignedCheckpoint().size).toBe(6);
    expect(messages.some((m) => m.includes('witness policy not met'))).toBe(true);
    await expect(log.inclusionProof(3, 6)).rejects.toThrow(/beyond the published tree size 2/);
    // One witness back: 2-of-3 again.
    await witnesses[0]!.start();
    const cp = await log.waitForCheckpoint(5, AbortSignal.timeout(10_000));
    expect(cp.size).toBe(6);
    expect([...cosigners(publicText())].sort()).toEqual(['w1.test', 'w2.test']);
  });

  it('partial-tile GC while the public checkpoint lags: its partials and proofs stay; witnesses catch up; then they go', async () => {
    const log = await open({ timeoutMs: 300, partialGraceMs: 0, partialGcIntervalMs: 3_600_000 });
    expect(await addAndWait(log, 3)).toBe(3);
    await witnesses[0]!.stop();
    await witnesses[2]!.stop();
    for (let i = 0; i < 20; i++) {
      await log.add(utf8(`lagging-${i}`));
      await eventually(() => log.stats().integrated === 4 + i, 5000, 'integration');
    }
    expect(log.checkpoint().size).toBe(3);
    expect((await log.collectPartialTiles()).objects).toBeGreaterThan(10);
    const tiles = path.join(tmp.dir, 'tiles');
    for (const t of partialTiles(3)) expect(fs.existsSync(path.join(tiles, tilePath(t))), tilePath(t)).toBe(true);
    for (let i = 0; i < 3; i++) await log.inclusionProof(i, 3);
    // A witness back (and one more add, so the cosigner tries at once): it proves 3 -> 24
    // from tiles the collector kept, and publishes 24.
    await witnesses[0]!.start();
    await log.add(utf8('back'));
    await eventually(() => log.checkpoint().size === 24, 10_000, `publication of 24: ${messages.join('; ')}`);
    await log.collectPartialTiles();
    for (const t of partialTiles(3)) expect(fs.existsSync(path.join(tiles, tilePath(t))), tilePath(t)).toBe(false);
    for (let i = 0; i < 24; i++) await log.inclusionProof(i, 24);
    await log.consistencyProof(3, 24);
  });

  it('fail-open publishes with fewer cosignatures and says so', async () => {
    await witnesses[0]!.stop();
    await witnesses[2]!.stop();
    const log = await open({ timeoutMs: 300, failOpen: true });
    expect(await addAndWait(log, 3)).toBe(3);
    expect([...cosigners(publicText())]).toEqual(['w2.test']);
    expect(messages.some((m) => m.includes('publishing anyway (fail-open)'))).toBe(true);
  });

  it('a 409 with a size larger than our tree is an incident: logged loudly, counted, not retried', async () => {
    witnesses[2]!.mode = 'big409';
    const log = await open();
    expect(await addAndWait(log, 2)).toBe(2);
    const st = log.witnessStatus()!.witnesses[2]!;
    expect(st.counters.incidents).toBeGreaterThan(0);
    // One request per round: no blind retry.
    expect(st.counters.requests).toBe(st.counters.incidents);
    expect(st.size).toBeNull();
    expect(messages.some((m) => m.startsWith('error: ') && m.includes('INCIDENT') && m.includes('1000000'))).toBe(true);
    expect([...cosigners(publicText())].sort()).toEqual(['w1.test', 'w2.test']);
  });

  it('remembers witness sizes across restarts and catches up through a 409 when they are stale', async () => {
    let log = await open();
    expect(await addAndWait(log, 4)).toBe(4);
    await close(log);
    // Remembered in the SequenceDB, keyed by the witness's verifier key.
    const db = new SqliteSequenceDB(path.join(tmp.dir, 'state/log.db'), { origin: ORIGIN });
    expect(witnesses.map((w) => db.witnessSize(w.vkey))).toEqual([4, 4, 4]);
    // Make one stale: the witness will answer 409 with 4, and we retry from 4.
    db.setWitnessSize(witnesses[0]!.vkey, 1);
    db.close();
    log = await open();
    expect(await addAndWait(log, 3, 'after')).toBe(7);
    const st = log.witnessStatus()!.witnesses;
    expect(st[0]!.counters.conflicts).toBe(1);
    expect(st[1]!.counters.conflicts).toBe(0);
    expect(st.map((w) => w.size)).toEqual([7, 7, 7]);
    expect(cosigners(publicText()).size).toBe(3);
  });

  it('a witness that goes down mid-run is skipped, then catches up from the size it cosigned last', async () => {
    const log = await open({ timeoutMs: 300 });
    expect(await addAndWait(log, 2)).toBe(2);
    await witnesses[1]!.stop();
    expect(await addAndWait(log, 3, 'b')).toBe(5);
    expect(await addAndWait(log, 3, 'c')).toBe(8);
    expect(witnesses[1]!.size(ORIGIN)).toBe(2);
    await witnesses[1]!.start();
    expect(await addAndWait(log, 1, 'd')).toBe(9);
    expect(witnesses[1]!.size(ORIGIN)).toBe(9);
    expect(cosigners(publicText()).size).toBe(3);
  });

  it('re-collects cosignatures with fresh timestamps when the tree does not grow', async () => {
    const log = await open({ refreshMs: 600 });
    expect(await addAndWait(log, 1)).toBe(1);
    const first = cosignatureTimestamps(publicText(), witnesses);
    expect(first.size).toBe(3);
    await eventually(
      () => {
        const now = cosignatureTimestamps(publicText(), witnesses);
        return [...now].every(([name, t]) => t > first.get(name)!);
      },
      6000,
      'fresh timestamps',
    );
    expect(log.checkpoint().size).toBe(1);
    expect(log.witnessStatus()!.publications).toBeGreaterThan(1);
    expect(cosigners(publicText()).size).toBe(3);
  });
});

describe('a failing public checkpoint write', () => {
  it('is retried on the next round; the public checkpoint never moves back', async () => {
    const inner = new MemoryTileStore();
    const sizes: number[] = [];
    let fail = 0;
    const tiles = Object.assign(Object.create(inner) as MemoryTileStore, {
      // Every checkpoint write is the fenced one (never an overwrite).
      overwrite: async (p: string, data: Uint8Array): Promise<void> => {
        if (p === 'checkpoint') throw new Error('the checkpoint was overwritten unconditionally');
        return inner.overwrite(p, data);
      },
      replaceIfMatch: async (p: string, data: Uint8Array, etag: string | null): Promise<string> => {
        if (fail > 0) {
          fail--;
          throw new TilelogError('STORAGE_IO', 'injected failure');
        }
        const next = await inner.replaceIfMatch(p, data, etag);
        sizes.push(Number(new TextDecoder().decode(data).split('\n')[1]));
        return next;
      },
    });
    const db = new SqliteSequenceDB(path.join(tmp.dir, 'log.db'), { origin: ORIGIN });
    const log = await openLog({
      origin: ORIGIN,
      signer: testSigner,
      db,
      tiles,
      logger,
      witnesses: { policy: policy(), timeoutMs: 400, refreshMs: 60_000 },
    });
    try {
      expect(await addAndWait(log, 2)).toBe(2);
      fail = 2;
      for (let i = 0; i < 3; i++) await log.add(utf8(`f${i}`));
      expect((await log.waitForCheckpoint(4, AbortSignal.timeout(10_000))).size).toBe(5);
      expect(messages.some((m) => m.includes('cannot write the cosigned checkpoint'))).toBe(true);
      expect(sizes).toEqual([...sizes].sort((a, b) => a - b));
      expect(cosigners(new TextDecoder().decode(inner.objects.get('checkpoint')!)).size).toBe(3);
    } finally {
      await log.close();
      db.close();
    }
  });
});

describe('recovery with witnesses', () => {
  it('keeps a lagging public checkpoint across a restart, never moves it back, and publishes once cosigned', async () => {
    let log = await open({ timeoutMs: 200 });
    expect(await addAndWait(log, 2)).toBe(2);
    const published = publicText();
    for (const w of witnesses) await w.stop();
    for (let i = 0; i < 3; i++) await log.add(utf8(`unwitnessed-${i}`));
    await eventually(() => log.stats().integrated === 5, 5000, 'integration');
    await close(log);
    expect(publicText()).toBe(published);

    log = await open({ timeoutMs: 200 });
    expect(log.checkpoint().size).toBe(2);
    expect(log.checkpoint().text).toBe(published);
    expect(log.logSignedCheckpoint().size).toBe(5);
    expect(publicText()).toBe(published);
    for (const w of witnesses) await w.start();
    const cp = await log.waitForCheckpoint(4, AbortSignal.timeout(10_000));
    expect(cp.size).toBe(5);
    expect(cosigners(publicText()).size).toBe(3);
  });

  it('without witnesses configured, a later open republishes the log-signed checkpoint as before', async () => {
    const log = await open();
    expect(await addAndWait(log, 2)).toBe(2);
    await close(log);
    const plain = await openFileLog({
      origin: ORIGIN,
      signer: testSigner,
      stateDir: path.join(tmp.dir, 'state'),
      tilesDir: path.join(tmp.dir, 'tiles'),
      logger,
    });
    logs.push(plain);
    expect(plain.checkpoint().size).toBe(2);
    expect(publicText().split('\n— ').length).toBe(2);
    expect(plain.witnessStatus()).toBeNull();
  });
});
