// One hash convention across the CLI: printed in base64 (as in checkpoints),
// taken as base64 or hex. proof and verify print the same leaf hash the same
// way, and proof's --leaf-hash and --root take either form.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatHash, parseHashFlag } from '../../src/cli/hash-text.js';
import { leafHash, toHex } from '../../src/merkle/index.js';
import { runCli, startServe, tempDir, usageMessage, type ServeHandle } from './helpers.js';

const ENTRY = 'hash me';
const LEAF = leafHash(new TextEncoder().encode(ENTRY));

describe('parseHashFlag', () => {
  it('takes 64 hex digits (either case) or 44 base64 characters, and names both forms otherwise', () => {
    const b64 = formatHash(LEAF);
    expect(b64).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(b64, 'base64').equals(Buffer.from(LEAF))).toBe(true);
    for (const given of [b64, toHex(LEAF), toHex(LEAF).toUpperCase(), ` ${b64}\n`]) expect(parseHashFlag('--root', given)).toEqual(LEAF);
    expect(usageMessage(() => parseHashFlag('--root', toHex(LEAF).slice(2)))).toMatch(/--root must be a 32-byte hash, as 64 hex digits or 44 base64 characters.*got 62 characters/);
    expect(usageMessage(() => parseHashFlag('--root', b64.slice(0, 40)))).toContain('64 hex digits or 44 base64');
    expect(usageMessage(() => parseHashFlag('--leaf-hash', `${b64.slice(0, 42)}==`))).toMatch(/^--leaf-hash is not a 32-byte hash/);
    expect(usageMessage(() => parseHashFlag('--leaf-hash', `${'g'.repeat(64)}`))).toContain('64 hex digits or 44 base64');
  });
});

describe('hashes in proof and verify', () => {
  let cwd: string;
  let srv: ServeHandle;
  beforeAll(async () => {
    cwd = tempDir('tilelog-hashes-');
    srv = await startServe(['--origin', 'hashes.example/log'], { cwd, env: { TILELOG_LISTEN: '127.0.0.1:0' } });
    const add = await runCli(['add', '--url', srv.url, '--wait', '--log-key', srv.verifierKey, '--lines', '-'], { cwd, input: `zero\none\n${ENTRY}\nthree\n` });
    expect(add.code, add.stderr).toBe(0);
  });
  afterAll(async () => {
    await srv?.stop();
  });

  it('proof and verify print the same leaf hash, in base64, and say so in their help', async () => {
    const proof = await runCli(['proof', '--url', srv.url, '--log-key', srv.verifierKey, '--index', '2'], { cwd });
    expect(proof.code, proof.stderr).toBe(0);
    expect(proof.stdout).toContain(`(leaf hash ${formatHash(LEAF)})`);

    const bundle = path.join(cwd, 'entry2.json');
    fs.writeFileSync(bundle, await (await fetch(`${srv.url}/v1/log/entry/2`)).text());
    const verify = await runCli(['verify', bundle, '--log-key', srv.verifierKey], { cwd });
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toContain(`leaf hash ${formatHash(LEAF)})`);
    const verifyJson = await runCli(['verify', bundle, '--log-key', srv.verifierKey, '--json'], { cwd });
    expect(JSON.parse(verifyJson.stdout).leafHash).toBe(formatHash(LEAF));

    for (const verb of ['proof', 'verify', 'audit']) {
      expect((await runCli([verb, '--help'])).stdout).toContain('Hashes are printed in base64, as in checkpoints; hash flags take base64 or 64 hex digits.');
    }
  });

  it('proof --leaf-hash and --root take hex or base64, and a hash that differs fails with both shown', async () => {
    const base = ['proof', '--url', srv.url, '--log-key', srv.verifierKey];
    for (const h of [formatHash(LEAF), toHex(LEAF)]) {
      const r = await runCli([...base, '--index', '2', '--leaf-hash', h], { cwd });
      expect(r.code, r.stderr).toBe(0);
    }
    const wrong = await runCli([...base, '--index', '1', '--leaf-hash', toHex(LEAF)], { cwd });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(`the leaf hash of entry 1 is ${formatHash(leafHash(new TextEncoder().encode('one')))}, not the --leaf-hash ${formatHash(LEAF)} you gave`);

    // The root of size 2, as the server reports it, given back in hex.
    const cons = await runCli([...base, '--old', '2', '--json'], { cwd });
    const oldRoot = Buffer.from(JSON.parse(cons.stdout).oldRoot as string, 'base64');
    const withRoot = await runCli([...base, '--old', '2', '--root', oldRoot.toString('hex')], { cwd });
    expect(withRoot.code, withRoot.stderr).toBe(0);
    const badRoot = await runCli([...base, '--old', '3', '--root', oldRoot.toString('hex')], { cwd });
    expect(badRoot.code).toBe(1);
    expect(badRoot.stderr).toContain(`not the --root ${oldRoot.toString('base64')} you gave`);

    const malformed = await runCli([...base, '--old', '2', '--root', 'abc'], { cwd });
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain('--root must be a 32-byte hash, as 64 hex digits or 44 base64 characters');
    const misplaced = await runCli([...base, '--old', '2', '--leaf-hash', toHex(LEAF)], { cwd });
    expect(misplaced.code).toBe(2);
  });
});
