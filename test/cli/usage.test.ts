import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageVersion } from '../../src/cli/version.js';
import { REPO, runCli, tempDir } from './helpers.js';

const VERBS = ['serve', 'keygen', 'add', 'proof', 'audit'];

describe('tilelog usage', () => {
  it('prints the command list with --help and exits 0', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const verb of VERBS) expect(r.stdout).toContain(verb);
  });

  it('exits 2 with the command list when no command is given', async () => {
    const r = await runCli([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Usage: tilelog <command>');
  });

  it.each(['--version', '-V'])('%s prints the version from package.json and exits 0', async (flag) => {
    const { version } = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string };
    const r = await runCli([flag]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`tilelog ${version}\n`);
    expect(r.stderr).toBe('');
  });

  it('packageVersion walks up to the package.json named tilelog, skipping others', () => {
    const root = tempDir('tilelog-version-');
    const deep = path.join(root, 'a', 'b', 'c');
    fs.mkdirSync(deep, { recursive: true });
    fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name: 'tilelog', version: '9.8.7' }));
    fs.writeFileSync(path.join(root, 'a', 'package.json'), JSON.stringify({ name: 'something-else', version: '1.0.0' }));
    fs.writeFileSync(path.join(root, 'a', 'b', 'package.json'), 'not json');
    expect(packageVersion(deep)).toBe('9.8.7');
    fs.rmSync(root, { recursive: true });
  });

  it('exits 2 on an unknown command', async () => {
    const r = await runCli(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown command "frobnicate"');
  });

  it.each(VERBS)('%s --help prints its usage and exits 0', async (verb) => {
    const r = await runCli([verb, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Usage: tilelog ${verb}`);
    expect(r.stderr).toBe('');
  });

  it.each(VERBS)('%s with an unknown flag exits 2 and points to --help', async (verb) => {
    const r = await runCli([verb, '--no-such-flag']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`Run 'tilelog ${verb} --help'`);
    expect(r.stderr).toMatch(/no-such-flag/);
  });

  it('a mistyped flag gets a "did you mean"', async () => {
    const r = await runCli(['serve', '--lisen', '127.0.0.1:0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Unknown option '--lisen'; did you mean --listen?");
  });

  it.each([
    [['keygen', '--out', 'x.key'], '--origin is required'],
    [['keygen', '--origin', 'a/b'], '--out is required'],
    [['proof', '--url', 'http://127.0.0.1:1'], 'give either --index'],
    [['proof', '--url', 'http://127.0.0.1:1', '--index=1.5'], 'must be a whole number'],
    [['proof', '--url', 'http://127.0.0.1:1', '--old', '0'], '--old must be an integer >= 1'],
    [['proof', '--url', 'http://127.0.0.1:1', '--index', '1', '--log-key', 'nope'], '--log-key is not a verifier key'],
    [['proof', '--index', '1', '--old', '1'], 'give either --index'],
    [['add', '--url', 'ftp://x', 'file'], 'http:// or https://'],
    [['audit'], 'give exactly one log'],
    [['serve', '--listen', 'nonsense'], '--listen must be host:port'],
    [['serve', '--batch-max-entries', '0'], '--batch-max-entries must be an integer >= 1'],
  ])('%j is a usage error', async (args, message) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });
});
