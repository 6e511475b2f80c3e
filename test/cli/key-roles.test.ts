// Key roles with real CLI child processes: a key from 'tilelog witness keygen'
// (signer key type 0x04) is refused by 'tilelog serve'; a log key from
// 'tilelog keygen' (type 0x01) is refused by 'tilelog witness serve' when the
// witness trusts that log, and warned about loudly otherwise; a log refuses a
// witness configured with the log's own key. Each with the right key starts.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCosignerKey } from '../../src/note/index.js';
import { runCli, spawnCli, startServe, tempDir } from './helpers.js';

const ORIGIN = 'roles.example/log';
let dir: string;
let logKey: { file: string; vkey: string };
let witnessKey: { file: string; vkey: string };

beforeAll(async () => {
  dir = tempDir('tilelog-key-roles-');
  const [l, w] = await Promise.all([
    runCli(['keygen', '--origin', ORIGIN, '--out', path.join(dir, 'log.key'), '--json']),
    runCli(['witness', 'keygen', '--name', 'roles.example/w1', '--out', path.join(dir, 'witness.key'), '--json']),
  ]);
  expect([l.code, w.code]).toEqual([0, 0]);
  logKey = { file: path.join(dir, 'log.key'), vkey: JSON.parse(l.stdout).verifierKey };
  witnessKey = { file: path.join(dir, 'witness.key'), vkey: JSON.parse(w.stdout).verifierKey };
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Starts `tilelog witness serve --json`; resolves with its stderr once it printed its summary (then stops it), or with its exit. */
async function witnessServe(state: string, keyFile: string): Promise<{ started: boolean; code: number | null; stderr: string }> {
  const child = spawnCli(['witness', 'serve', '--state', state, '--key', keyFile, '--listen', '127.0.0.1:0', '--json']);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const started = await new Promise<boolean>((resolve) => {
    child.stdout!.setEncoding('utf8').on('data', (d: string) => d.includes('\n') && resolve(true));
    void exited.then(() => resolve(false));
  });
  if (started) child.kill('SIGTERM');
  return { started, code: await exited, stderr };
}

describe('key roles', () => {
  it("'tilelog witness keygen' writes a type 0x04 private key whose ID is the verifier key's", () => {
    const skey = fs.readFileSync(witnessKey.file, 'utf8').trim();
    const [, , name, id, b64] = skey.split('+', 5) as string[];
    expect(name).toBe('roles.example/w1');
    expect(Buffer.from(skey.slice(skey.indexOf(b64!)), 'base64')[0]).toBe(0x04);
    expect(witnessKey.vkey.split('+')[1]).toBe(id);
    expect(Buffer.from(logKey.vkey.split('+')[2]!, 'base64')[0]).toBe(0x01);
  });

  it("'tilelog serve --key <a witness key>' is refused, saying how to make a log key", async () => {
    const r = await runCli(['serve', '--state', path.join(dir, 's1'), '--tiles', path.join(dir, 't1'), '--listen', '127.0.0.1:0', '--key', witnessKey.file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('is a witness cosigner key (type 0x04');
    expect(r.stderr).toContain("tilelog keygen --origin <origin> --out <file>");
    expect(fs.existsSync(path.join(dir, 's1', 'log.db'))).toBe(false);
  });

  it("'tilelog serve' refuses a witness configured with the log's own key", async () => {
    // The cosignature/v1 verifier key a witness running on the log's key would print.
    const vkey04 = parseCosignerKey(fs.readFileSync(logKey.file, 'utf8').trim()).verifierKey;
    const r = await runCli(['serve', '--state', path.join(dir, 's2'), '--tiles', path.join(dir, 't2'), '--listen', '127.0.0.1:0', '--key', logKey.file, '--witness', `http://127.0.0.1:1,${vkey04}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("has the log's own key");
    expect(r.stderr).toContain('tilelog witness keygen');
  });

  it("'tilelog witness serve --key <a log key>' of a log it does not know: starts, with a loud warning saying what to do", async () => {
    const fresh = await witnessServe(path.join(dir, 'w1'), logKey.file);
    expect(fresh.started).toBe(true);
    expect(fresh.stderr).toContain('WARNING:');
    expect(fresh.stderr).toContain("the kind 'tilelog keygen' makes for logs");
    expect(fresh.stderr).toContain('tilelog witness keygen --name <name> --out <file>');
  });

  it("'tilelog witness serve --key <a log key>' of a log it cosigns: refused, saying what to do", async () => {
    const state = path.join(dir, 'w2');
    expect((await runCli(['witness', 'add-log', '--state', state, '--origin', ORIGIN, '--key', logKey.vkey])).code).toBe(0);
    const trusted = await witnessServe(state, logKey.file);
    expect(trusted.started).toBe(false);
    expect(trusted.code).toBe(1);
    expect(trusted.stderr).toContain(`is the signing key of log ${ORIGIN}`);
    expect(trusted.stderr).toContain('tilelog witness keygen --name <name> --out <file>');
  });

  it('each key in its own role starts without a warning', async () => {
    const w = await witnessServe(path.join(dir, 'w2'), witnessKey.file);
    expect(w.started).toBe(true);
    expect(w.stderr).not.toContain('WARNING');
    const s = await startServe(['--state', path.join(dir, 's3'), '--tiles', path.join(dir, 't3'), '--listen', '127.0.0.1:0', '--key', logKey.file]);
    expect(s.origin).toBe(ORIGIN);
    const stopped = await s.stop();
    expect(stopped.code).toBe(0);
    expect(stopped.stderr).not.toMatch(/witness|WARNING/);
  });
});
