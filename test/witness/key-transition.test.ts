// A witness key transition the C2SP way, with real processes: `tilelog
// witness serve --key <old> --next-key <new>` (a new name and key announced
// beside the old) answers each add-checkpoint with one cosignature line per
// key, both verifying. A `tilelog serve` log configured with the old key
// keeps the old line and drops the other; restarted with the new key only
// (the log "adds the new one and drops the old"), it keeps the new line.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCosignatureVerifierKey } from '../../src/note/cosignature.js';
import { openNote, parseNote } from '../../src/note/index.js';
import { originHash } from '../../src/witness/origin-hash.js';
import { runCli, startJsonCli, startServe, tempDir, type JsonChild } from '../cli/helpers.js';

const ORIGIN = 'transition.example/log';
let dir: string;
let logKey: { file: string; vkey: string };
const wkey: Record<'old' | 'next', { file: string; vkey: string }> = {} as never;
let witness: JsonChild<{ url: string; verifierKey: string; nextVerifierKey?: string }> | null = null;

beforeAll(async () => {
  dir = tempDir('tilelog-witness-transition-');
  const made = await Promise.all([
    runCli(['keygen', '--origin', ORIGIN, '--out', path.join(dir, 'log.key'), '--json']),
    runCli(['witness', 'keygen', '--name', 'transition.example/w-2026', '--out', path.join(dir, 'old.key'), '--json']),
    runCli(['witness', 'keygen', '--name', 'transition.example/w-2027', '--out', path.join(dir, 'next.key'), '--json']),
  ]);
  expect(made.map((m) => m.code)).toEqual([0, 0, 0]);
  const vkey = (i: number) => JSON.parse(made[i]!.stdout).verifierKey as string;
  logKey = { file: path.join(dir, 'log.key'), vkey: vkey(0) };
  wkey.old = { file: path.join(dir, 'old.key'), vkey: vkey(1) };
  wkey.next = { file: path.join(dir, 'next.key'), vkey: vkey(2) };
  expect((await runCli(['witness', 'add-log', '--state', path.join(dir, 'w'), '--origin', ORIGIN, '--key', logKey.vkey])).code).toBe(0);
});
afterAll(async () => {
  if (witness !== null && witness.child.exitCode === null) witness.child.kill('SIGTERM');
  await witness?.exited;
  fs.rmSync(dir, { recursive: true, force: true });
});

const cosigners = (note: string) => parseNote(note).signatures.map((s) => s.name).filter((n) => n.startsWith('transition.example/w-')).sort();

describe('witness key transition', () => {
  it('serves both keys during a transition; the log keeps the line of the key it is configured for', { timeout: 120_000 }, async () => {
    const same = await runCli(['witness', 'serve', '--state', path.join(dir, 'w'), '--key', wkey.old.file, '--next-key', wkey.old.file, '--listen', '127.0.0.1:0']);
    expect(same.code).toBe(2);
    expect(same.stderr).toMatch(/a new witness key comes with a new name/);

    witness = await startJsonCli(['witness', 'serve', '--json', '--state', path.join(dir, 'w'), '--key', wkey.old.file, '--next-key', wkey.next.file, '--listen', '127.0.0.1:0']);
    expect(witness.summary).toMatchObject({ verifierKey: wkey.old.vkey, nextVerifierKey: wkey.next.vkey });
    const wurl = witness.summary.url;
    expect(await (await fetch(`${wurl}/`)).text()).toContain(`next key:     ${wkey.next.vkey}`);

    const logArgs = (w: string) => ['--state', path.join(dir, 'log'), '--tiles', path.join(dir, 'tiles'), '--key', logKey.file, '--listen', '127.0.0.1:0', '--witness', `${wurl},${w}`];
    const addAndRead = async (url: string, body: string) => {
      const r = await fetch(`${url}/add?wait=checkpoint`, { method: 'POST', body });
      expect(r.status).toBe(200);
      return (await fetch(`${url}/checkpoint`)).text();
    };

    // A log that knows the old key: the old line only.
    let log = await startServe(logArgs(wkey.old.vkey));
    try {
      const note = await addAndRead(log.url, 'one');
      expect(cosigners(note)).toEqual(['transition.example/w-2026']);
      expect(openNote(note, [parseCosignatureVerifierKey(wkey.old.vkey)]).verified.map((s) => s.name)).toContain('transition.example/w-2026');
    } finally {
      await log.stop();
    }

    // What the witness answered carried both lines, each verifying with its own key.
    const both = await (await fetch(`${wurl}/${originHash(ORIGIN)}/checkpoint`)).text();
    expect(cosigners(both)).toEqual(['transition.example/w-2026', 'transition.example/w-2027']);
    const verified = openNote(both, [parseCosignatureVerifierKey(wkey.old.vkey), parseCosignatureVerifierKey(wkey.next.vkey)]).verified;
    expect(verified.map((s) => s.name).sort()).toEqual(['transition.example/w-2026', 'transition.example/w-2027']);

    // The log moves to the new key: the new line only, from the same witness.
    log = await startServe(logArgs(wkey.next.vkey));
    try {
      const note = await addAndRead(log.url, 'two');
      expect(cosigners(note)).toEqual(['transition.example/w-2027']);
      expect(openNote(note, [parseCosignatureVerifierKey(wkey.next.vkey)]).verified.map((s) => s.name)).toContain('transition.example/w-2027');
    } finally {
      await log.stop();
    }
  });
});
