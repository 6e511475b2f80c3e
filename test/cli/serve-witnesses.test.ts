// End to end with real processes on 127.0.0.1: `tilelog serve` with three
// `tilelog witness serve` processes and a 2-of-3 policy. Cosigned checkpoints
// verify (log key + >= 2 distinct witnesses); a SIGKILLed witness does not stop
// publication and catches up when it returns (its state persisted); the log's
// remembered witness sizes survive a restart, and stale ones are repaired
// through 409s.
import * as path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cosignersOf,
  openCheckpoint,
  parseVerifierKey,
  policySatisfied,
  simplePolicy,
  type WitnessPolicy,
} from '../../src/note/index.js';
import { parseCosignatureVerifierKey } from '../../src/note/cosignature.js';
import type { WitnessCounters } from '../../src/log/witness-client.js';
import { SqliteSequenceDB } from '../../src/storage/sqlite-sequence-db.js';
import { runCli, spawnCli, startServe, tempDir, type ServeHandle } from './helpers.js';

const ORIGIN = 'e2e.tilelog.example/log';

interface WitnessProc {
  name: string;
  vkey: string;
  keyFile: string;
  state: string;
  port: number;
  child: ChildProcess | null;
}

let dir: string;
let logVkey: string;
let keyFile: string;
const witnesses: WitnessProc[] = [];
let log: ServeHandle | null = null;
let policy: WitnessPolicy;

async function startWitness(w: WitnessProc): Promise<void> {
  const child = spawnCli(['witness', 'serve', '--state', w.state, '--key', w.keyFile, '--listen', `127.0.0.1:${w.port}`, '--json']);
  let out = '';
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`witness did not start: ${err}`)), 30_000);
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('\n')) {
        clearTimeout(timer);
        resolve((JSON.parse(out.split('\n')[0]!) as { url: string }).url);
      }
    });
    child.on('close', (code) => reject(new Error(`witness exited with ${code}: ${err}`)));
  });
  w.port = Number(new URL(url).port);
  w.child = child;
}

async function killWitness(w: WitnessProc): Promise<void> {
  const child = w.child!;
  w.child = null;
  const closed = new Promise((r) => child.on('close', r));
  child.kill('SIGKILL');
  await closed;
}

async function startLog(): Promise<ServeHandle> {
  const args = [
    '--state', path.join(dir, 'state'),
    '--tiles', path.join(dir, 'tiles'),
    '--key', keyFile,
    '--listen', '127.0.0.1:0',
    '--witness-quorum', '2',
    '--witness-timeout-ms', '1000',
    '--witness-refresh-s', '1',
  ];
  for (const w of witnesses) args.push('--witness', `http://127.0.0.1:${w.port},${w.vkey}`);
  return startServe(args);
}

async function add(n: number, tag: string): Promise<{ treeSize: number; checkpoint: string }> {
  let last: { treeSize: number; checkpoint: string } | null = null;
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${log!.url}/add?wait=checkpoint`, { method: 'POST', body: `${tag}-${i}-${Math.random()}` });
    expect(res.status).toBe(200);
    // The checkpoint that covers the entry; its second line is the tree size.
    const { checkpoint } = (await res.json()) as { checkpoint: string };
    last = { treeSize: Number(checkpoint.split('\n')[1]), checkpoint };
  }
  return last!;
}

const get = async (p: string): Promise<string> => (await fetch(`${log!.url}${p}`)).text();

interface Status {
  signedSize: number;
  publishedSize: number;
  witnesses: { name: string; size: number | null; counters: WitnessCounters }[];
}
const status = async (): Promise<Status> => JSON.parse(await get('/v1/log/witnesses')) as Status;

// The witnesses whose cosignatures verify on a checkpoint, after the log's signature.
function cosigners(note: string): Set<string> {
  const verifiers = [parseVerifierKey(logVkey), ...witnesses.map((w) => parseCosignatureVerifierKey(w.vkey))];
  const opened = openCheckpoint(note, ORIGIN, verifiers);
  expect(opened.verified[0]!.name).toBe(ORIGIN);
  return cosignersOf(policy, opened.verified);
}

beforeAll(async () => {
  dir = tempDir('tilelog-e2e-witness-');
  keyFile = path.join(dir, 'log.key');
  const kg = await runCli(['keygen', '--origin', ORIGIN, '--out', keyFile]);
  expect(kg.code).toBe(0);
  logVkey = kg.stdout.trim();
  for (let i = 1; i <= 3; i++) {
    const wKey = path.join(dir, `w${i}.key`);
    const r = await runCli(['witness', 'keygen', '--name', `w${i}.e2e.example`, '--out', wKey, '--json']);
    expect(r.code).toBe(0);
    const w: WitnessProc = {
      name: `w${i}.e2e.example`,
      vkey: (JSON.parse(r.stdout) as { verifierKey: string }).verifierKey,
      keyFile: wKey,
      state: path.join(dir, `w${i}`),
      port: 0,
      child: null,
    };
    const a = await runCli(['witness', 'add-log', '--state', w.state, '--origin', ORIGIN, '--key', logVkey]);
    expect(a.code).toBe(0);
    witnesses.push(w);
  }
  await Promise.all(witnesses.map(startWitness));
  policy = simplePolicy(
    witnesses.map((w) => ({ vkey: w.vkey, url: `http://127.0.0.1:${w.port}` })),
    2,
  );
  log = await startLog();
});

afterAll(async () => {
  await log?.stop();
  for (const w of witnesses) if (w.child !== null) await killWitness(w);
});

describe('tilelog serve with three witnesses, 2-of-3', () => {
  it('publishes cosigned checkpoints that a 2-of-3 client accepts', async () => {
    const r = await add(5, 'a');
    expect(r.treeSize).toBe(5);
    const cp = await get('/checkpoint');
    const who = cosigners(cp);
    expect(who.size).toBeGreaterThanOrEqual(2);
    expect(policySatisfied(policy, who)).toBe(true);
    // The log-signed checkpoint carries the log's signature only.
    const bare = await get('/v1/log/log-signed-checkpoint');
    expect(cp.startsWith(bare)).toBe(true);
    expect(bare.match(/\n— /g)).toHaveLength(1);
  });

  it('keeps publishing with a witness SIGKILLed mid-run; the witness catches up when it returns', async () => {
    // Adds flow while w2 dies.
    const flowing = add(20, 'b');
    await new Promise((r) => setTimeout(r, 100));
    const before = (await status()).witnesses[1]!.size;
    await killWitness(witnesses[1]!);
    const r = await flowing;
    expect(r.treeSize).toBe(25);
    const who = cosigners(await get('/checkpoint'));
    expect(policySatisfied(policy, who)).toBe(true);
    expect(who.has(witnesses[1]!.name)).toBe(false);
    const down = (await status()).witnesses[1]!;
    expect(down.counters.unreachable + down.counters.timeouts).toBeGreaterThan(0);
    expect(down.size).toBeGreaterThanOrEqual(before ?? 0);
    // What the dead witness persisted: at least what it last told the log.
    const listed = await runCli(['witness', 'list-logs', '--state', witnesses[1]!.state, '--json']);
    const persisted = (JSON.parse(listed.stdout) as { logs: { size: number }[] }).logs[0]!.size;
    expect(persisted).toBeGreaterThanOrEqual(down.size!);

    // Back on the same port with the same state.
    await startWitness(witnesses[1]!);
    const back = await add(2, 'c');
    expect(back.treeSize).toBe(27);
    await expect.poll(async () => (await status()).witnesses[1]!.size, { timeout: 10_000 }).toBe(27);
    const after = (await status()).witnesses[1]!;
    // It continued from the size it persisted before the kill. If it was
    // killed after storing a cosignature but before answering, it is ahead of
    // the log's remembered size: one 409 (never an incident) and a retry.
    expect(after.counters.conflicts).toBe(persisted > down.size! ? 1 : 0);
    expect(after.counters.incidents + after.counters.refused).toBe(0);
    await expect.poll(async () => cosigners(await get('/checkpoint')).size, { timeout: 10_000 }).toBe(3);
  });

  it('refreshes cosignatures while the tree does not grow (refresh 1 s)', async () => {
    const ts = (note: string) =>
      witnesses.map((w) => {
        const v = parseCosignatureVerifierKey(w.vkey);
        const line = note.split('\n').find((l) => l.startsWith(`— ${w.name} `));
        if (line === undefined) return 0;
        const raw = Buffer.from(line.split(' ')[2]!, 'base64');
        return v.timestamp(new Uint8Array(raw.subarray(4)));
      });
    const first = ts(await get('/checkpoint'));
    await expect
      .poll(async () => ts(await get('/checkpoint')).every((t, i) => t > first[i]!), { timeout: 10_000, interval: 200 })
      .toBe(true);
    expect((await status()).publishedSize).toBe(27);
  });

  it('remembers witness sizes across a log restart, and repairs stale ones through 409s', async () => {
    await log!.stop();
    const dbPath = path.join(dir, 'state/log.db');
    let db = new SqliteSequenceDB(dbPath, { origin: ORIGIN });
    expect(witnesses.map((w) => db.witnessSize(w.vkey))).toEqual([27, 27, 27]);
    db.close();

    // A plain restart: the remembered sizes are used, no 409.
    log = await startLog();
    expect((await add(1, 'd')).treeSize).toBe(28);
    expect((await status()).witnesses.map((w) => w.counters.conflicts)).toEqual([0, 0, 0]);
    await log.stop();

    // Stale sizes (as after restoring an old database): each witness answers
    // 409 with its size, and the log retries once from there.
    db = new SqliteSequenceDB(dbPath, { origin: ORIGIN });
    for (const w of witnesses) db.setWitnessSize(w.vkey, 3);
    db.close();
    log = await startLog();
    expect((await add(1, 'e')).treeSize).toBe(29);
    await expect.poll(async () => (await status()).witnesses.map((w) => w.size), { timeout: 10_000 }).toEqual([29, 29, 29]);
    const st = await status();
    expect(st.witnesses.map((w) => w.counters.conflicts)).toEqual([1, 1, 1]);
    expect(st.witnesses.map((w) => w.counters.incidents)).toEqual([0, 0, 0]);
    expect(cosigners(await get('/checkpoint')).size).toBe(3);
  });
});
