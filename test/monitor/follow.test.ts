// The monitor follows a healthy log of 100,000+ entries to the end through
// the real CLI, then resumes after a restart without downloading an audited
// bundle again (requests counted on the serving side), and a SIGTERM in the
// middle of the audit saves a state that the next run continues from.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, spawnCli } from '../cli/helpers.js';
import { LOG_VKEY, buildLog, serveDir, tempDir, type BuiltLog, type StaticServer } from './helpers.js';

const FIRST = 100_000;
const FINAL = 100_300;
let root: string;
let log: BuiltLog;
let server: StaticServer;

beforeAll(async () => {
  root = tempDir();
  log = await buildLog(root, [FIRST, FINAL]);
  server = await serveDir(log.tilesDir);
}, 120_000);

afterAll(async () => {
  await server?.close();
  fs.rmSync(root, { recursive: true, force: true });
});

const once = (state: string, extra: string[] = []) =>
  runCli(['monitor', '--once', '--url', server.url, '--log-key', LOG_VKEY, '--state', state, ...extra], { timeoutMs: 120_000 });

const readState = (state: string): { trusted: string; audited: number } => JSON.parse(fs.readFileSync(path.join(state, 'state.json'), 'utf8'));

/** Indexes of the entry bundles requested since `from`. */
function bundlesRequested(from: number): number[] {
  return server.requests
    .slice(from)
    .filter((p) => p.startsWith('tile/entries/'))
    .map((p) => Number(p.slice('tile/entries/'.length).replace(/\.p\/\d+$/, '').replace(/[x/]/g, '')));
}

describe('tilelog monitor on a healthy log', () => {
  it(`follows ${FIRST.toLocaleString('en-US')} entries to the end, then resumes after restarts without re-downloading`, async () => {
    const state = tempDir();
    server.override.set('checkpoint', log.checkpoints.get(FIRST)!);

    // 1. The first run audits everything.
    let mark = server.requests.length;
    const first = await once(state, ['--json']);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const r1 = JSON.parse(first.stdout.trim());
    expect(r1).toMatchObject({ status: 'ok', size: FIRST, audited: FIRST, auditedNow: FIRST, alert: null });
    const bundles = bundlesRequested(mark);
    expect(new Set(bundles).size).toBe(Math.ceil(FIRST / 256));
    console.log(`monitor: audited ${FIRST} entries in ${r1.seconds.toFixed(2)} s (${Math.round(FIRST / r1.seconds)} entries/s), ${r1.requests} requests`);
    expect(readState(state)).toMatchObject({ trusted: log.checkpoints.get(FIRST), audited: FIRST });

    // 2. A restart with the same checkpoint reads the checkpoint and nothing else.
    mark = server.requests.length;
    const again = await once(state);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/OK .* size 100000 \(unchanged\).* audited 100000 \(\+0 /);
    expect(server.requests.slice(mark)).toEqual(['checkpoint']);

    // 3. The log grows: only the bundles past the audited size are fetched.
    server.override.delete('checkpoint');
    mark = server.requests.length;
    const grown = await once(state);
    expect(grown.code, grown.stdout + grown.stderr).toBe(0);
    expect(grown.stdout).toMatch(/OK .* size 100300 \(\+300\).* audited 100300 \(\+300 /);
    const later = bundlesRequested(mark);
    expect(later.length).toBeGreaterThan(0);
    expect(Math.min(...later)).toBe(Math.floor(FIRST / 256));
    expect(readState(state)).toMatchObject({ trusted: log.checkpoints.get(FINAL), audited: FINAL });
  }, 120_000);

  it('saves its place on SIGTERM mid-audit (exit 0) and the next run continues from there', async () => {
    const state = tempDir();
    server.override.delete('checkpoint');
    const gate = server.holdBundlesAfter(100);
    const mark = server.requests.length;
    const child = spawnCli(['monitor', '--url', server.url, '--log-key', LOG_VKEY, '--state', state, '--interval', '3600']);
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    await gate.reached; // the audit is under way, some bundles are held
    child.kill('SIGTERM');
    gate.release();
    expect(await exited, stdout + stderr).toBe(0);
    expect(stderr).toContain('SIGTERM, saving state');
    expect(stdout).toContain('INTERRUPTED');
    const saved = readState(state);
    expect(saved.trusted).toBe(log.checkpoints.get(FINAL));
    expect(saved.audited).toBeGreaterThan(0);
    expect(saved.audited).toBeLessThan(FINAL);
    expect(saved.audited % 256).toBe(0);
    const before = bundlesRequested(mark);

    const resumeMark = server.requests.length;
    const resumed = await once(state);
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
    expect(readState(state).audited).toBe(FINAL);
    const after = bundlesRequested(resumeMark);
    expect(Math.min(...after)).toBe(saved.audited / 256);
    expect(new Set([...before.filter((k) => k < saved.audited / 256), ...after]).size).toBe(Math.ceil(FINAL / 256));
  }, 120_000);
});
