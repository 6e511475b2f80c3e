import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCheckpoint, parseSignerKey, parseVerifierKey, signCheckpoint } from '../../src/note/index.js';
import { EMPTY_ROOT } from '../../src/merkle/index.js';
import { runCli, tempDir } from './helpers.js';

describe('tilelog keygen', () => {
  it('writes a 0600 private key and prints the matching verifier key', async () => {
    const dir = tempDir();
    const out = path.join(dir, 'log.key');
    const r = await runCli(['keygen', '--origin', 'example.com/log', '--out', out]);
    expect(r.code).toBe(0);
    const vkey = r.stdout.trim();
    expect(vkey).toMatch(/^example\.com\/log\+[0-9a-f]{8}\+[A-Za-z0-9+/]+=*$/);
    expect(fs.statSync(out).mode & 0o777).toBe(0o600);
    const signer = parseSignerKey(fs.readFileSync(out, 'utf8').trim());
    expect(signer.verifierKey).toBe(vkey);
    // The pair works: a checkpoint signed with the file verifies with the printed key.
    const text = signCheckpoint({ origin: 'example.com/log', size: 0, root: EMPTY_ROOT, extensions: [] }, signer);
    expect(openCheckpoint(text, 'example.com/log', [parseVerifierKey(vkey)]).checkpoint.size).toBe(0);
  });

  it('refuses to overwrite a key without --force', async () => {
    const dir = tempDir();
    const out = path.join(dir, 'log.key');
    fs.writeFileSync(out, 'precious\n');
    const r = await runCli(['keygen', '--origin', 'example.com/log', '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('already exists');
    expect(r.stderr).toContain('--force');
    expect(fs.readFileSync(out, 'utf8')).toBe('precious\n');
    const forced = await runCli(['keygen', '--origin', 'example.com/log', '--out', out, '--force', '--json']);
    expect(forced.code).toBe(0);
    const json = JSON.parse(forced.stdout) as { verifierKey: string; origin: string };
    expect(json.origin).toBe('example.com/log');
    expect(parseSignerKey(fs.readFileSync(out, 'utf8').trim()).verifierKey).toBe(json.verifierKey);
    expect(fs.statSync(out).mode & 0o777).toBe(0o600);
  });

  it('rejects an origin that cannot be a key name', async () => {
    const dir = tempDir();
    const r = await runCli(['keygen', '--origin', 'has space+plus', '--out', path.join(dir, 'k')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot use');
    expect(fs.existsSync(path.join(dir, 'k'))).toBe(false);
  });
});
