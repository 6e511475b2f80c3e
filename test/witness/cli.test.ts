// tilelog witness keygen / add-log / list-logs / remove-log / serve as real
// processes: happy paths, friendly errors and exit codes (0 ok, 1 failure, 2 usage).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { openNote, parseCosignatureVerifierKey } from '../../src/note/index.js';
import { runCli, spawnCli } from '../cli/helpers.js';
import { TestLog, tempDir } from './helpers.js';

const dir = tempDir('tilelog-witness-cli-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const ORIGIN = 'example.com/cli-log';
const log = new TestLog(ORIGIN, 10);

describe('tilelog witness', () => {
  test('keygen writes a 0600 key, prints a type 0x04 verifier key, refuses to overwrite', async () => {
    const out = path.join(dir, 'w.key');
    const r = await runCli(['witness', 'keygen', '--name', 'witness.example/w', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const vkey = r.stdout.trim();
    const v = parseCosignatureVerifierKey(vkey);
    expect(v.name).toBe('witness.example/w');
    expect(Buffer.from(vkey.split('+')[2]!, 'base64')[0]).toBe(0x04);
    expect(fs.statSync(out).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(out, 'utf8')).toMatch(/^PRIVATE\+KEY\+witness\.example\/w\+/);

    const again = await runCli(['witness', 'keygen', '--name', 'witness.example/w', '--out', out]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already exists.*--force/);
    const forced = await runCli(['witness', 'keygen', '--name', 'witness.example/w', '--out', out, '--force', '--json']);
    expect(forced.code).toBe(0);
    expect(JSON.parse(forced.stdout)).toMatchObject({ name: 'witness.example/w', keyFile: out });

    expect((await runCli(['witness', 'keygen', '--out', out])).code).toBe(2);
    const badName = await runCli(['witness', 'keygen', '--name', 'has space', '--out', path.join(dir, 'x.key')]);
    expect(badName.code).toBe(1);
    expect(badName.stderr).toMatch(/witness name/);
  });

  test('add-log, list-logs, remove-log', async () => {
    const state = path.join(dir, 'state');
    const add = await runCli(['witness', 'add-log', '--state', state, '--origin', ORIGIN, '--key', log.vkey]);
    expect(add.code, add.stderr).toBe(0);
    const list = await runCli(['witness', 'list-logs', '--state', state, '--json']);
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual({ logs: [{ origin: ORIGIN, keys: [log.vkey], size: null, timestamp: null }] });
    const text = await runCli(['witness', 'list-logs', '--state', state]);
    expect(text.stdout).toContain(`${ORIGIN}\tsize none`);

    // Friendly errors.
    const badKey = await runCli(['witness', 'add-log', '--state', state, '--origin', ORIGIN, '--key', 'not-a-key']);
    expect(badKey.code).toBe(1);
    expect(badKey.stderr).toMatch(/--key is not an Ed25519 note verifier key/);
    const noKey = await runCli(['witness', 'add-log', '--state', state, '--origin', ORIGIN]);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toMatch(/--key is required/);
    const unknown = await runCli(['witness', 'remove-log', '--state', state, '--origin', 'nobody.example']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/unknown origin "nobody\.example"; configured: "example\.com\/cli-log"/);
    const noState = await runCli(['witness', 'list-logs', '--state', path.join(dir, 'missing')]);
    expect(noState.code).toBe(1);
    expect(noState.stderr).toMatch(/no witness state/);
    expect((await runCli(['witness', 'bogus'])).code).toBe(2);
    expect((await runCli(['witness'])).code).toBe(2);
    const help = await runCli(['witness', 'serve', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/add-checkpoint/);

    const remove = await runCli(['witness', 'remove-log', '--state', state, '--origin', ORIGIN]);
    expect(remove.code, remove.stderr).toBe(0);
    expect(remove.stderr).toMatch(/removed 1 key/);
    expect(JSON.parse((await runCli(['witness', 'list-logs', '--state', state, '--json'])).stdout)).toEqual({ logs: [] });
  });

  test('serve: prints URL and key, cosigns, picks up add-log while running, stops on SIGTERM', async () => {
    const state = path.join(dir, 'serve-state');
    const keyFile = path.join(dir, 'serve.key');
    const kg = await runCli(['witness', 'keygen', '--name', 'witness.example/serve', '--out', keyFile]);
    const vkey = kg.stdout.trim();
    const child = spawnCli(['witness', 'serve', '--state', state, '--key', keyFile, '--listen', '127.0.0.1:0']);
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    for (let i = 0; i < 300 && !/verifier key/.test(stdout); i++) await new Promise((r) => setTimeout(r, 100));
    const url = /at (http:\/\/127\.0\.0\.1:[0-9]+)/.exec(stdout)?.[1];
    expect(url, stdout + stderr).toBeDefined();
    expect(stdout).toContain(`verifier key: ${vkey}`);

    expect((await fetch(`${url}/add-checkpoint`, { method: 'POST', body: await log.request(0, 4) })).status).toBe(404);
    const add = await runCli(['witness', 'add-log', '--state', state, '--origin', ORIGIN, '--key', log.vkey]);
    expect(add.code).toBe(0);
    const res = await fetch(`${url}/add-checkpoint`, { method: 'POST', body: await log.request(0, 4) });
    const lines = await res.text();
    expect(res.status, lines).toBe(200);
    expect(openNote((await log.checkpoint(4)) + lines, [parseCosignatureVerifierKey(vkey)]).verified).toHaveLength(1);
    const page = await (await fetch(`${url}/`)).text();
    expect(page).toContain(vkey);
    expect(page).toMatch(/cosigned size: 4/);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toMatch(/SIGTERM: shutting down/);
    const list = JSON.parse((await runCli(['witness', 'list-logs', '--state', state, '--json'])).stdout) as { logs: { size: number }[] };
    expect(list.logs[0]?.size).toBe(4);
  });

  test('serve: friendly errors', async () => {
    const missing = await runCli(['witness', 'serve', '--state', path.join(dir, 's2'), '--key', path.join(dir, 'nope.key')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/does not exist.*witness keygen/);
    const badListen = await runCli(['witness', 'serve', '--state', path.join(dir, 's2'), '--key', 'x', '--listen', 'nope']);
    expect(badListen.code).toBe(2);
  });
});
