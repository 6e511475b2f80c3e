// The monitor catches each lie a log can tell, through the real CLI
// (`tilelog monitor --once` as a child process) against real HTTP servers on
// 127.0.0.1: the right MONITOR_* code, evidence on disk, exit 3, a webhook
// POST, and a state that did not move past the failure.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { leafHash } from '../../src/merkle/index.js';
import { parseNote, formatNote } from '../../src/note/index.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { toHex } from '../../src/merkle/index.js';
import { runCli } from '../cli/helpers.js';
import {
  LOG_VKEY,
  ORIGIN,
  WITNESSES,
  buildLog,
  copyDir,
  cosign,
  evidenceDirs,
  forge,
  serveDir,
  tempDir,
  webhookServer,
  type BuiltLog,
  type StaticServer,
  type WebhookServer,
} from './helpers.js';

const EXIT_ALERT = 3;
let root: string;
let logA: BuiltLog; // entries 'a', checkpoints at 1000 and 3000
let logB: BuiltLog; // same key, entries 'b', checkpoints at 1000 and 3000
let logC: BuiltLog; // same key, entries 'a' up to 2000 then 'c': a fork of A after 2000, at 4000
let hook: WebhookServer;
const servers: StaticServer[] = [];

beforeAll(async () => {
  root = tempDir();
  [logA, logB] = await Promise.all([buildLog(path.join(root, 'a'), [1000, 3000], 'a'), buildLog(path.join(root, 'b'), [1000, 3000], 'b')]);
  logC = await buildLog(path.join(root, 'c'), [2000, 4000], 'a', (i) => (i < 2000 ? 'a' : 'c'));
  hook = await webhookServer();
}, 60_000);

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  hook.bodies.length = 0;
});

afterAll(async () => {
  await hook?.close();
  fs.rmSync(root, { recursive: true, force: true });
});

/** Serves a private copy of a built log's tiles. */
async function serveCopy(log: BuiltLog): Promise<{ server: StaticServer; dir: string }> {
  const dir = copyDir(log.tilesDir, tempDir('tilelog-monitor-tiles-'));
  const server = await serveDir(dir);
  servers.push(server);
  return { server, dir };
}

function monitor(url: string, state: string, extra: string[] = []) {
  return runCli(['monitor', '--once', '--url', url, '--log-key', LOG_VKEY, '--state', state, '--webhook', hook.url, ...extra], { timeoutMs: 60_000 });
}

/** state.json, or what a monitor that never trusted anything has (no file). */
function readState(state: string): { trusted: string | null; audited: number; updatedAt?: string } {
  if (!fs.existsSync(path.join(state, 'state.json'))) return { trusted: null, audited: 0 };
  return JSON.parse(fs.readFileSync(path.join(state, 'state.json'), 'utf8'));
}

/** Asserts one alert with code: exit 3, evidence dir with alert.json, one webhook body. */
function expectAlert(r: { code: number | null; stdout: string; stderr: string }, state: string, code: string): { dir: string; files: string[] } {
  expect(r.code, r.stdout + r.stderr).toBe(EXIT_ALERT);
  expect(r.stdout).toContain(`ALERT ${code}`);
  const dirs = evidenceDirs(state);
  expect(dirs).toHaveLength(1);
  expect(path.basename(dirs[0]!)).toMatch(new RegExp(`^\\d{8}T\\d{6}\\.\\d{3}Z-${code}$`));
  const files = fs.readdirSync(dirs[0]!).sort();
  const report = JSON.parse(fs.readFileSync(path.join(dirs[0]!, 'alert.json'), 'utf8'));
  expect(report).toMatchObject({ code, origin: ORIGIN, evidencePath: dirs[0] });
  expect(hook.bodies).toHaveLength(1);
  expect(hook.bodies[0]).toMatchObject({ code, origin: ORIGIN, evidencePath: dirs[0] });
  expect(typeof hook.bodies[0]!.message).toBe('string');
  expect(hook.bodies[0]!.checkpoints).toEqual(report.checkpoints);
  return { dir: dirs[0]!, files };
}

// Rewrites entry `index` (same length) in its bundle file on disk; returns the new entry.
function rewriteEntry(dir: string, index: number): Uint8Array {
  const file = path.join(dir, 'tile/entries', String(Math.floor(index / 256)).padStart(3, '0'));
  const data = fs.readFileSync(file);
  let o = 0;
  for (let i = 0; i < index % 256; i++) o += 2 + data.readUInt16BE(o);
  const n = data.readUInt16BE(o);
  data[o + 2 + n - 1]! ^= 0x01;
  fs.writeFileSync(file, data);
  return new Uint8Array(data.subarray(o + 2, o + 2 + n));
}

// Sets hash i of a level-0 tile file on disk.
function rewriteTileHash(dir: string, tile: number, i: number, hash?: Uint8Array): void {
  const file = path.join(dir, 'tile/0', String(tile).padStart(3, '0'));
  const data = fs.readFileSync(file);
  if (hash === undefined) data[i * 32]! ^= 0x80;
  else data.set(hash, i * 32);
  fs.writeFileSync(file, data);
}

describe('tilelog monitor --once catches', () => {
  it('nothing on a healthy log (control): exit 0, no evidence, no webhook', async () => {
    const { server } = await serveCopy(logA);
    const state = tempDir();
    const r = await monitor(server.url, state);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/OK .* size 3000 \(first checkpoint\).*audited 3000/);
    expect(evidenceDirs(state)).toEqual([]);
    expect(hook.bodies).toEqual([]);
    expect(readState(state).audited).toBe(3000);
  });

  it('(a) an entry rewritten inside a bundle on disk: MONITOR_BUNDLE_MISMATCH', async () => {
    const { server, dir } = await serveCopy(logA);
    rewriteEntry(dir, 1234);
    const state = tempDir();
    const r = await monitor(server.url, state);
    const { dir: ev, files } = expectAlert(r, state, 'MONITOR_BUNDLE_MISMATCH');
    expect(r.stdout).toContain('entry 1234');
    expect(files).toContain('received.checkpoint');
    expect(files.some((f) => f.endsWith('tile_entries_004'))).toBe(true);
    expect(fs.readFileSync(path.join(ev, 'received.checkpoint'), 'utf8')).toBe(logA.checkpoints.get(3000));
    // The checkpoint itself was fine, so it is trusted; the audit stopped before the bad bundle.
    expect(readState(state).audited).toBeLessThanOrEqual(1024);
  });

  it('(a) a hash rewritten inside a tile on disk: MONITOR_TILE_MISMATCH', async () => {
    const { server, dir } = await serveCopy(logA);
    rewriteTileHash(dir, 2, 17);
    const state = tempDir();
    const r = await monitor(server.url, state);
    const { files } = expectAlert(r, state, 'MONITOR_TILE_MISMATCH');
    expect(r.stdout).toContain('tile 0/2 does not match its parent tile');
    expect(files.some((f) => f.endsWith('tile_0_002'))).toBe(true);
    expect(readState(state).audited).toBeLessThan(2 * 256 + 17);
  });

  it('(e) a tile that does not hash to its parent (entry and leaf hash rewritten together): MONITOR_TILE_MISMATCH', async () => {
    const { server, dir } = await serveCopy(logA);
    const changed = rewriteEntry(dir, 3 * 256 + 5);
    rewriteTileHash(dir, 3, 5, leafHash(changed));
    const state = tempDir();
    const r = await monitor(server.url, state);
    expectAlert(r, state, 'MONITOR_TILE_MISMATCH');
    expect(r.stdout).toContain('tile 0/3 does not match its parent tile');
    expect(readState(state).audited).toBeLessThan(3 * 256 + 5);
  });

  it('(b) a split view via --compare: another URL of the log with the same key and a different tree of the same size', async () => {
    const a = await serveCopy(logA);
    const b = await serveCopy(logB);
    const state = tempDir();
    const r = await monitor(a.server.url, state, ['--compare', b.server.url]);
    const { dir, files } = expectAlert(r, state, 'MONITOR_SPLIT_VIEW');
    expect(r.stdout).toContain('two roots for size 3000');
    expect(files.filter((f) => f.endsWith('.checkpoint')).length).toBe(2);
    const other = files.find((f) => f.startsWith('compare-'))!;
    expect(fs.readFileSync(path.join(dir, other), 'utf8')).toBe(logB.checkpoints.get(3000));
    expect(readState(state).trusted).toBeNull(); // never trusted
  });

  it("(b) a split view via a witness's monitoring endpoint: a smaller cosigned checkpoint of another tree", async () => {
    const a = await serveCopy(logA);
    const witness = await serveDir(tempDir());
    servers.push(witness);
    const hex = toHex(sha256(new TextEncoder().encode(ORIGIN)));
    witness.override.set(`${hex}/checkpoint`, cosign(logB.checkpoints.get(1000)!, [WITNESSES[0]!.signerKey]));
    const state = tempDir();
    const r = await monitor(a.server.url, state, ['--compare-witness', witness.url]);
    const { files } = expectAlert(r, state, 'MONITOR_SPLIT_VIEW');
    expect(witness.requests).toContain(`${hex}/checkpoint`);
    expect(r.stdout).toContain('sizes 1000 and 3000 are not consistent');
    expect(files).toContain('proof.txt');
  });

  it('(b) agreement: the same log at another URL and a witness behind it are fine', async () => {
    const a = await serveCopy(logA);
    const mirror = await serveCopy(logA);
    const witness = await serveDir(tempDir());
    servers.push(witness);
    const hex = toHex(sha256(new TextEncoder().encode(ORIGIN)));
    witness.override.set(`${hex}/checkpoint`, cosign(logA.checkpoints.get(1000)!, [WITNESSES[0]!.signerKey]));
    const state = tempDir();
    const r = await monitor(a.server.url, state, ['--compare', mirror.server.url, '--compare-witness', witness.url, '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const res = JSON.parse(r.stdout.trim());
    expect(res.compare.map((c: { status: string }) => c.status)).toEqual(['agree', 'behind']);
  });

  it('(c) a checkpoint with a bad signature: MONITOR_BAD_SIGNATURE', async () => {
    const a = await serveCopy(logA);
    const note = parseNote(logA.checkpoints.get(3000)!);
    const sig = note.signatures[0]!;
    const bad = new Uint8Array(sig.signature);
    bad[10]! ^= 0x01;
    const tampered = formatNote({ text: note.text, signatures: [{ ...sig, signature: bad, line: '' }] });
    a.server.override.set('checkpoint', tampered);
    const state = tempDir();
    const r = await monitor(a.server.url, state);
    const { dir } = expectAlert(r, state, 'MONITOR_BAD_SIGNATURE');
    expect(fs.readFileSync(path.join(dir, 'received.checkpoint'), 'utf8')).toBe(tampered);
    expect(readState(state).trusted).toBeNull();
  });

  it('(c) a checkpoint signed by another key with the log name: MONITOR_BAD_SIGNATURE', async () => {
    const a = await serveCopy(logA);
    a.server.override.set('checkpoint', forge(logA.checkpoints.get(3000)!));
    const state = tempDir();
    expectAlert(await monitor(a.server.url, state), state, 'MONITOR_BAD_SIGNATURE');
  });

  it('(c) too few cosignatures: MONITOR_QUORUM with 1 of 2; the full quorum passes', async () => {
    const a = await serveCopy(logA);
    const witnessFlags = ['--witness', WITNESSES[0]!.verifierKey, '--witness', WITNESSES[1]!.verifierKey, '--quorum', '2'];
    a.server.override.set('checkpoint', cosign(logA.checkpoints.get(3000)!, [WITNESSES[0]!.signerKey]));
    const state = tempDir();
    const r = await monitor(a.server.url, state, witnessFlags);
    expectAlert(r, state, 'MONITOR_QUORUM');
    expect(readState(state).trusted).toBeNull();

    hook.bodies.length = 0;
    a.server.override.set('checkpoint', cosign(logA.checkpoints.get(3000)!, [WITNESSES[0]!.signerKey, WITNESSES[1]!.signerKey]));
    const ok = await monitor(a.server.url, state, witnessFlags);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(readState(state).audited).toBe(3000);
  });

  it('(d) a rollback to a smaller size: MONITOR_ROLLBACK, and the trusted checkpoint stays', async () => {
    const a = await serveCopy(logA);
    const state = tempDir();
    expect((await monitor(a.server.url, state)).code).toBe(0);
    const before = readState(state);
    a.server.override.set('checkpoint', logA.checkpoints.get(1000)!);
    const r = await monitor(a.server.url, state);
    const { dir } = expectAlert(r, state, 'MONITOR_ROLLBACK');
    expect(fs.readFileSync(path.join(dir, 'trusted.checkpoint'), 'utf8')).toBe(logA.checkpoints.get(3000));
    expect(fs.readFileSync(path.join(dir, 'received.checkpoint'), 'utf8')).toBe(logA.checkpoints.get(1000));
    expect(readState(state)).toEqual({ ...before, updatedAt: readState(state).updatedAt });
  });

  it('a fork after the trusted size (same key, no consistency proof): MONITOR_INCONSISTENT with the proof', async () => {
    const a = await serveCopy(logA);
    const c = await serveCopy(logC);
    const state = tempDir();
    expect((await monitor(a.server.url, state)).code).toBe(0);
    const r = await monitor(c.server.url, state);
    const { files } = expectAlert(r, state, 'MONITOR_INCONSISTENT');
    expect(files).toEqual(expect.arrayContaining(['alert.json', 'proof.txt', 'received.checkpoint', 'trusted.checkpoint']));
    expect(readState(state).trusted).toBe(logA.checkpoints.get(3000));
  });

  it('an unreachable log is exit 1, not an alert', async () => {
    const state = tempDir();
    const r = await monitor('http://127.0.0.1:1', state);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('UNCHECKED');
    expect(evidenceDirs(state)).toEqual([]);
    expect(hook.bodies).toEqual([]);
  });
});

