// The private CA with its keys in a real SoftHSM2 token, through the built
// CLI as child processes: `tilelog keygen --ca --key` makes the key pairs in
// the token and prints their public keys; `serve --registry-ca-root-key
// --registry-ca-intermediate-key` issues certificates that openssl verifies
// against a root holding the printed key; with the token removed while
// serving, registering with a CSR answers 503 SIGNER_UNAVAILABLE before the
// agent is logged, and the log keeps sequencing and publishing; a
// certificate file of another key, a missing token and a wrong PIN stop the
// start with a message, and --print-config never shows a PIN.
// Needs `npm run build` (the tests spawn dist/).

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Pkcs11Module } from '../../src/hsm/pkcs11-module.js';
import { callApi, runCli, startServe, tempDir, type ServeHandle } from '../cli/helpers.js';
import { makeCsr, openssl, writeFile } from '../ca/helpers.js';
import { describeHsm, makeSoftHsm, USER_PIN, type SoftHsm } from '../support/softhsm.js';

const A = 'ans://v1.0.0.order-bot.acme.example';
const B = 'ans://v1.0.0.stock-bot.acme.example';
const agent = (name: string, csr: string) => ({ name, endpoints: [{ protocol: 'A2A', url: `https://${name.split('.').slice(3).join('.')}/a2a` }], csr });

describeHsm('the CA with keys in SoftHSM2, through the CLI', () => {
  let hsm: SoftHsm;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let rootUri: string;
  let interUri: string;
  beforeAll(() => {
    hsm = makeSoftHsm(['tilelog']);
    dir = tempDir('tilelog-hsm-ca-cli-');
    env = { SOFTHSM2_CONF: hsm.conf };
    rootUri = hsm.uri('ca-root');
    interUri = hsm.uri('ca-intermediate');
  });
  afterAll(() => {
    Pkcs11Module.finalizeAll();
    hsm.remove();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const serveArgs = (name: string, root: string, inter: string) => [
    '--state', path.join(dir, name, 'state'),
    '--tiles', path.join(dir, name, 'tiles'),
    '--listen', '127.0.0.1:0',
    '--origin', 'ca-hsm.example/log',
    '--registry', '--no-registry-dns-validation', '--registry-ca',
    '--registry-ca-root-key', root,
    '--registry-ca-intermediate-key', inter,
  ];

  it('keygen --ca makes each key in the token; serve issues certificates that openssl verifies against the root holding it', async () => {
    const kg = await runCli(['keygen', '--ca', '--key', rootUri, '--json'], { env });
    expect(kg.code, kg.stderr).toBe(0);
    const made = JSON.parse(kg.stdout) as { publicKey: string; spkiSha256: string; key: string };
    expect(openssl(['pkey', '-pubin', '-noout', '-text'], made.publicKey)).toMatch(/prime256v1/);
    const again = await runCli(['keygen', '--ca', '--key', rootUri], { env });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already holds a key object="ca-root"; refusing to replace it/);
    const inter = await runCli(['keygen', '--ca', '--key', interUri], { env });
    expect(inter.code, inter.stderr).toBe(0);
    expect(inter.stdout).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    expect(inter.stderr).toMatch(/--registry-ca-intermediate-key/);
    const usage = await runCli(['keygen', '--ca', '--out', path.join(dir, 'x.key')], { env });
    expect(usage.code).toBe(2);

    const state = path.join(dir, 'ca', 'state');
    const apiKey = (await runCli(['registry', 'apikey', '--state', state, '--owner', 'acme'])).stdout.trim();
    const srv = await startServe(serveArgs('ca', rootUri, interUri), { env });
    try {
      const r = await callApi(srv.url, apiKey, 'POST', '/v1/agents?wait=checkpoint', agent(A, makeCsr(dir, 'a').csr));
      expect(r.status, JSON.stringify(r.json)).toBe(201);
      const chain = await (await fetch(`${srv.url}/v1/ca/chain`)).text();
      const [interPem, rootPem] = chain.split(/(?<=-----END CERTIFICATE-----\n)/).map((s) => s.trim() + '\n');
      const root = writeFile(dir, 'root.pem', rootPem!);
      expect(openssl(['verify', '-CAfile', root, '-untrusted', writeFile(dir, 'inter.pem', interPem!), writeFile(dir, 'a.pem', r.json.certificate.pem)])).toContain(': OK');
      // The root certificate holds the key keygen printed; no key file was written.
      const rootSpki = openssl(['x509', '-noout', '-pubkey', '-in', root]);
      expect(rootSpki.trim()).toBe(made.publicKey.trim());
      expect(createHash('sha256').update(Buffer.from(rootSpki.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64')).digest('hex')).toBe(made.spkiSha256);
      expect(fs.readdirSync(state).filter((f) => f.startsWith('ca-')).sort()).toEqual(['ca-intermediate.crt', 'ca-root.crt']);

      await tokenRemoved(srv, apiKey);
    } finally {
      await srv.stop();
    }
  });

  // The token goes away while serving: CA writes answer 503 and log nothing; the log keeps working; back, the CA issues again.
  async function tokenRemoved(srv: ServeHandle, apiKey: string): Promise<void> {
    const [tokenDir] = fs.readdirSync(hsm.tokenDir);
    const away = path.join(hsm.dir, 'unplugged');
    fs.renameSync(path.join(hsm.tokenDir, tokenDir!), away);
    try {
      const r = await callApi(srv.url, apiKey, 'POST', '/v1/agents', agent(B, makeCsr(dir, 'b').csr));
      expect(r.status, JSON.stringify(r.json)).toBe(503);
      expect(r.json.error.code).toBe('SIGNER_UNAVAILABLE');
      expect((await fetch(`${srv.url}/v1/agents/${encodeURIComponent(B)}`)).status).toBe(404); // not half done
      const crl = await fetch(`${srv.url}/v1/ca/crl`);
      expect(crl.status).toBe(503);
      expect(crl.headers.get('retry-after')).not.toBeNull();
      // The log (its key is a file) sequences and publishes.
      const add = await fetch(`${srv.url}/add?wait=checkpoint`, { method: 'POST', body: 'still here' });
      expect(add.status).toBe(200);
      expect((await fetch(`${srv.url}/readyz`)).status).toBe(200);
    } finally {
      fs.renameSync(away, path.join(hsm.tokenDir, tokenDir!));
    }
    const back = await callApi(srv.url, apiKey, 'POST', '/v1/agents', agent(B, makeCsr(dir, 'b2').csr));
    expect(back.status, JSON.stringify(back.json)).toBe(201);
    expect(back.json.certificate.serial).toMatch(/^[0-9a-f]+$/);
  }

  it('refuses to start, saying why, for a certificate of another key, a missing token or a wrong PIN; --print-config hides a PIN', async () => {
    // The CA dir of the first test holds certificates of ca-root / ca-intermediate.
    const other = hsm.uri('ca-other');
    expect((await runCli(['keygen', '--ca', '--key', other], { env })).code).toBe(0);
    const state = path.join(dir, 'ca', 'state');
    const mismatch = await runCli(['serve', ...serveArgs('ca', other, interUri)], { env });
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr).toMatch(/ca-root\.crt is not the certificate of the root key pkcs11:token=tilelog;object=ca-other\?.*it holds another public key/);
    expect(fs.readdirSync(state).filter((f) => f.startsWith('ca-')).sort()).toEqual(['ca-intermediate.crt', 'ca-root.crt']);

    const missing = await runCli(['serve', ...serveArgs('missing', hsm.uri('ca-root', 'no-such-token'), interUri)], { env });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no token in .* matches the URI \(token="no-such-token"\); tokens present: "tilelog"/);

    const wrongPin = path.join(dir, 'wrong-pin');
    fs.writeFileSync(wrongPin, '9999-wrong\n', { mode: 0o600 });
    // On the root, opened first: a token already logged in by this process does not check a second PIN (PKCS#11 login is per token).
    const wrong = await runCli(['serve', ...serveArgs('wrong', rootUri.replace(hsm.pinFile, wrongPin), interUri)], { env });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/refused the PIN in .*wrong-pin \(CKR_PIN_INCORRECT\)/);
    expect(wrong.stderr).not.toContain('9999-wrong');

    const inline = `${interUri}&pin-value=${USER_PIN}`;
    const printed = await runCli(['serve', ...serveArgs('print', rootUri, inline), '--print-config'], { env });
    expect(printed.code, printed.stderr).toBe(0);
    expect(printed.stdout).not.toContain(USER_PIN);
    const ca = (JSON.parse(printed.stdout) as { registry: { ca: { rootKey: string; intermediateKey: string } } }).registry.ca;
    expect(ca.rootKey).toBe(rootUri);
    expect(ca.intermediateKey).toMatch(/pin-value=\[hidden\]/);
    const refused = await runCli(['serve', ...serveArgs('print', rootUri, inline)], { env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/pin-value is refused/);
    expect(refused.stderr).not.toContain(USER_PIN);
  });
});
