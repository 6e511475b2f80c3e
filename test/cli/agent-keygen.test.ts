// `tilelog registry keygen`: the agent key pair the registry's "publicKey" needs.
import { execFileSync } from 'node:child_process';
import { createPrivateKey, sign } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { verify } from '@noble/ed25519';
import { describe, expect, it } from 'vitest';
import { publicKeyOf } from '../../src/registry/http/input.js';
import { OPENSSL } from '../ca/helpers.js';
import { runCli, tempDir } from './helpers.js';

describe('tilelog registry keygen', () => {
  it('writes a 0600 PKCS#8 key and prints its raw public key in base64, as register takes it', async () => {
    const dir = tempDir();
    const out = path.join(dir, 'agent.key');
    const r = await runCli(['registry', 'keygen', '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('publicKey');
    const publicKey = r.stdout.trim();
    expect(Buffer.from(publicKey, 'base64')).toHaveLength(32);
    expect(publicKeyOf(publicKey)).toHaveLength(32); // the registry's own input check accepts it
    expect(fs.statSync(out).mode & 0o777).toBe(0o600);
    // The pair matches: a signature by the file verifies under the printed key.
    const pem = fs.readFileSync(out, 'utf8');
    expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    const msg = new TextEncoder().encode('agent');
    const sig = sign(null, msg, createPrivateKey(pem));
    expect(verify(new Uint8Array(sig), msg, new Uint8Array(Buffer.from(publicKey, 'base64')))).toBe(true);
    // openssl makes the agent's CSR from the same file (the CA walk-through).
    const csr = execFileSync(OPENSSL, ['req', '-new', '-key', out, '-subj', '/CN=agent'], { encoding: 'utf8' });
    expect(csr).toContain('BEGIN CERTIFICATE REQUEST');
  });

  it('refuses to overwrite without --force; --json; usage errors', async () => {
    const dir = tempDir();
    const out = path.join(dir, 'agent.key');
    fs.writeFileSync(out, 'precious\n');
    const refused = await runCli(['registry', 'keygen', '--out', out]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/already exists.*--force/);
    expect(fs.readFileSync(out, 'utf8')).toBe('precious\n');
    const forced = await runCli(['registry', 'keygen', '--out', out, '--force', '--json']);
    expect(forced.code).toBe(0);
    const json = JSON.parse(forced.stdout) as { publicKey: string; keyFile: string };
    expect(json.keyFile).toBe(out);
    const fromFile = createPrivateKey(fs.readFileSync(out, 'utf8')).export({ format: 'jwk' }).x!;
    expect(Buffer.from(fromFile, 'base64url').toString('base64')).toBe(json.publicKey);
    expect(fs.statSync(out).mode & 0o777).toBe(0o600);
    expect((await runCli(['registry', 'keygen'])).stderr).toContain('--out is required');
    expect((await runCli(['registry', 'keygen', '--out', out, '--owner', 'acme'])).code).toBe(2);
    expect((await runCli(['registry', 'apikey', '--owner', 'acme', '--out', out])).code).toBe(2);
  });
});
