// The CLI with keys in a real SoftHSM2 token, as child processes: keygen and
// witness keygen make the key inside the token and print its verifier key;
// serve and witness serve sign with it; a key file moves into the token and
// keeps its verifier key; the failures at start (no token, wrong PIN, a PIN in
// the URI, no --origin) exit with a message that says what to do and never
// shows the PIN.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openCheckpoint, openNote, parseCosignatureVerifierKey, parseSignerKey, parseVerifierKey } from '../../src/note/index.js';
import { runCli, startJsonCli, startServe, tempDir } from '../cli/helpers.js';
import { importPkcs11Key } from '../../src/hsm/pkcs11-keygen.js';
import { Pkcs11Module } from '../../src/hsm/pkcs11-module.js';
import { decodeEntry, submitterKey, verifyEntrySignature } from '../../src/registry/index.js';
import { body, SIGSUM_ORIGIN, SIGSUM_VKEY, sigsumNote } from '../witness/helpers.js';
import { describeHsm, makeSoftHsm, USER_PIN, type SoftHsm } from '../support/softhsm.js';

describeHsm('the CLI with keys in SoftHSM2', () => {
  let hsm: SoftHsm;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(() => {
    hsm = makeSoftHsm(['tilelog']);
    dir = tempDir('tilelog-hsm-cli-');
    env = { SOFTHSM2_CONF: hsm.conf };
  });
  afterAll(() => {
    Pkcs11Module.finalizeAll();
    hsm.remove();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const serveArgs = (name: string, key: string, origin?: string) => [
    '--state', path.join(dir, name, 'state'),
    '--tiles', path.join(dir, name, 'tiles'),
    '--listen', '127.0.0.1:0',
    '--key', key,
    ...(origin === undefined ? [] : ['--origin', origin]),
  ];

  it('keygen makes the log key in the token, and serve signs with it', async () => {
    const uri = hsm.uri('log-key');
    const kg = await runCli(['keygen', '--origin', 'hsm.example/log', '--key', uri, '--json'], { env });
    expect(kg.code, kg.stderr).toBe(0);
    const { verifierKey } = JSON.parse(kg.stdout) as { verifierKey: string };
    expect(verifierKey).toMatch(/^hsm\.example\/log\+[0-9a-f]{8}\+/);
    // Never replaced.
    const again = await runCli(['keygen', '--origin', 'hsm.example/log', '--key', uri], { env });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already holds a key object="log-key"; refusing to replace it/);

    const srv = await startServe(serveArgs('log', uri, 'hsm.example/log'), { env });
    try {
      expect(srv.verifierKey).toBe(verifierKey);
      const res = await fetch(`${srv.url}/add?wait=checkpoint`, { method: 'POST', body: 'hello' });
      expect(res.status).toBe(200);
      const text = await (await fetch(`${srv.url}/checkpoint`)).text();
      expect(openCheckpoint(text, 'hsm.example/log', [parseVerifierKey(verifierKey)]).checkpoint.size).toBe(1);
    } finally {
      await srv.stop();
    }
  });

  it('keygen --from moves an existing key file into the token; the log keeps its verifier key', async () => {
    const file = path.join(dir, 'old.key');
    const made = await runCli(['keygen', '--origin', 'moved.example/log', '--out', file]);
    expect(made.code).toBe(0);
    const uri = hsm.uri('moved-key');
    const moved = await runCli(['keygen', '--key', uri, '--from', file], { env });
    expect(moved.code, moved.stderr).toBe(0);
    expect(moved.stdout.trim()).toBe(parseSignerKey(fs.readFileSync(file, 'utf8').trim()).verifierKey);
    expect(moved.stderr).toMatch(/delete .*old\.key/);
  });

  it('refuses to start, saying why, when the token is missing, the PIN is wrong or given in the URI, or --origin is missing', async () => {
    const missing = await runCli(['serve', ...serveArgs('missing', hsm.uri('log-key', 'no-such-token'), 'hsm.example/log')], { env });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no token in .* matches the URI \(token="no-such-token"\); tokens present: "tilelog"/);

    const wrongPin = path.join(dir, 'wrong-pin');
    fs.writeFileSync(wrongPin, '9999-wrong\n', { mode: 0o600 });
    const wrong = await runCli(['serve', ...serveArgs('wrong', hsm.uri('log-key').replace(hsm.pinFile, wrongPin), 'hsm.example/log')], { env });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/refused the PIN in .*wrong-pin \(CKR_PIN_INCORRECT\): fix the pin-source file/);
    expect(wrong.stderr).not.toContain('9999-wrong');

    const inline = `${hsm.uri('log-key')}&pin-value=${USER_PIN}`;
    const refused = await runCli(['serve', ...serveArgs('inline', inline, 'hsm.example/log')], { env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/pin-value is refused/);
    expect(refused.stderr).not.toContain(USER_PIN);
    const printed = await runCli(['serve', ...serveArgs('inline', inline, 'hsm.example/log'), '--print-config'], { env });
    expect(printed.code).toBe(0);
    expect(printed.stdout).not.toContain(USER_PIN);
    expect((JSON.parse(printed.stdout) as { key: string }).key).toMatch(/pin-value=\[hidden\]/);

    const noOrigin = await runCli(['serve', ...serveArgs('noorigin', hsm.uri('log-key'))], { env });
    expect(noOrigin.code).toBe(2);
    expect(noOrigin.stderr).toMatch(/carries no name: give --origin/);
  });

  it('witness keygen makes the witness key in the token, and witness serve cosigns with it', async () => {
    const uri = hsm.uri('witness-key');
    const kg = await runCli(['witness', 'keygen', '--name', 'hsm.example/witness', '--key', uri], { env });
    expect(kg.code, kg.stderr).toBe(0);
    const vkey = kg.stdout.trim();
    const state = path.join(dir, 'witness');
    expect((await runCli(['witness', 'add-log', '--state', state, '--origin', SIGSUM_ORIGIN, '--key', SIGSUM_VKEY])).code).toBe(0);
    const w = await startJsonCli<{ url: string; verifierKey: string }>(
      ['witness', 'serve', '--state', state, '--key', uri, '--name', 'hsm.example/witness', '--listen', '127.0.0.1:0', '--json'],
      { env },
    );
    try {
      expect(w.summary.verifierKey).toBe(vkey);
      const res = await fetch(`${w.summary.url}/add-checkpoint`, { method: 'POST', body: body(0, [], sigsumNote(1)) });
      const lines = await res.text();
      expect(res.status, lines).toBe(200);
      expect(openNote(sigsumNote(1).trimEnd() + '\n' + lines, [parseCosignatureVerifierKey(vkey)]).verified).toHaveLength(1);
    } finally {
      w.child.kill('SIGTERM');
      await w.exited;
    }
  });

  it('the registry signs its entries with a submitter key in the token (--registry-key)', async () => {
    const seed = new Uint8Array(32).fill(0x5a);
    (await importPkcs11Key(hsm.uri('registry-key'), seed)).close();
    const logUri = hsm.uri('registry-log-key');
    expect((await runCli(['keygen', '--origin', 'hsm.example/registry', '--key', logUri], { env })).code).toBe(0);
    const srv = await startServe([...serveArgs('registry', logUri, 'hsm.example/registry'), '--registry', '--no-registry-dns-validation', '--registry-key', hsm.uri('registry-key')], {
      env,
    });
    try {
      // The registry's first entry adds its own key, signed by it.
      const res = await fetch(`${srv.url}/v1/log/entry/0`);
      expect(res.status).toBe(200);
      const entry = decodeEntry(new Uint8Array(Buffer.from(((await res.json()) as { entry: string }).entry, 'base64')));
      const want = submitterKey(seed);
      expect(entry.kid).toBe(want.kid);
      expect(verifyEntrySignature(entry, want.publicKey)).toBe(true);
    } finally {
      await srv.stop();
    }
    expect(fs.existsSync(path.join(dir, 'registry', 'state', 'registry.key'))).toBe(false);
  });
});
