import { describe, expect, it } from 'vitest';
import { runCli } from './helpers.js';

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
