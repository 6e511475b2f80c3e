// `tilelog ca rotate --object <label>` against `serve` whose CA keys are in a
// real SoftHSM2 token, all as child processes: the new intermediate is the
// token key keygen made (its certificate holds the printed public key), no
// key file is written, certificates issued under it verify with openssl;
// after a SIGKILL and a restart with the same flags the server issues with
// the token key again and serves both intermediates' CRLs. Rotating a token
// CA without --object fails with a message saying what to do.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Pkcs11Module } from '../../src/hsm/pkcs11-module.js';
import { callApi, runCli, startServe, tempDir } from '../cli/helpers.js';
import { makeCsr, openssl, opensslStatus, writeFile } from '../ca/helpers.js';
import { describeHsm, makeSoftHsm, type SoftHsm } from '../support/softhsm.js';

const agent = (host: string, csr: string) => ({ name: `ans://v1.0.0.${host}`, endpoints: [{ protocol: 'A2A', url: `https://${host}/a2a` }], csr });

describeHsm('tilelog ca rotate --object with the CA keys in SoftHSM2', () => {
  let hsm: SoftHsm;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(() => {
    hsm = makeSoftHsm(['tilelog']);
    dir = tempDir('tilelog-hsm-ca-rotate-');
    env = { SOFTHSM2_CONF: hsm.conf };
  });
  afterAll(() => {
    Pkcs11Module.finalizeAll();
    hsm.remove();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('rotates to a second token key, survives SIGKILL and restart, serves both CRLs', { timeout: 180_000 }, async () => {
    for (const label of ['ca-root', 'ca-intermediate']) expect((await runCli(['keygen', '--ca', '--key', hsm.uri(label)], { env })).code).toBe(0);
    const made = await runCli(['keygen', '--ca', '--key', hsm.uri('ca-inter-2'), '--json'], { env });
    expect(made.code, made.stderr).toBe(0);
    const newKey = JSON.parse(made.stdout) as { publicKey: string; spkiSha256: string };

    const state = path.join(dir, 'state');
    const args = [
      '--state', state,
      '--tiles', path.join(dir, 'tiles'),
      '--listen', '127.0.0.1:0',
      '--origin', 'ca-rotate-hsm.example/log',
      '--registry', '--no-registry-dns-validation', '--registry-ca',
      '--registry-ca-root-key', hsm.uri('ca-root'),
      '--registry-ca-intermediate-key', hsm.uri('ca-intermediate'),
    ];
    const apiKey = (await runCli(['registry', 'apikey', '--state', state, '--owner', 'acme'])).stdout.trim();
    const adminKey = (await runCli(['ca', 'adminkey', '--state', state, '--owner', 'ops'])).stdout.trim();
    const adminEnv = { ...env, TILELOG_CA_ADMIN_KEY: adminKey };

    let srv = await startServe(args, { env });
    let first: string;
    let c1: string;
    try {
      const r1 = await callApi(srv.url, apiKey, 'POST', '/v1/agents?wait=checkpoint', agent('one.acme.example', makeCsr(dir, 'one').csr));
      expect(r1.status, JSON.stringify(r1.json)).toBe(201);
      c1 = r1.json.certificate.pem;
      first = ((await (await fetch(`${srv.url}/v1/ca/intermediates`)).json()) as { intermediates: { keyHash: string }[] }).intermediates[0]!.keyHash;

      const noObject = await runCli(['ca', 'rotate', '--url', srv.url], { env: adminEnv });
      expect(noObject.code).toBe(1);
      expect(noObject.stderr).toMatch(/refused the rotation \(400\): .*keeps its intermediate in a PKCS#11 token.*--object LABEL/);

      const rot = await runCli(['ca', 'rotate', '--url', srv.url, '--object', 'ca-inter-2', '--json'], { env: adminEnv });
      expect(rot.code, rot.stderr).toBe(0);
      const added = (JSON.parse(rot.stdout) as { added: { keyHash: string; pem: string } }).added;
      expect(added.keyHash).toBe(newKey.spkiSha256);
      expect(openssl(['x509', '-noout', '-pubkey'], added.pem).trim()).toBe(newKey.publicKey.trim());
    } finally {
      await srv.stop('SIGKILL');
    }
    expect(fs.readdirSync(state).filter((f) => f.startsWith('ca-') && f !== 'ca-admin-keys').sort()).toEqual([
      'ca-intermediate-2.crt',
      'ca-intermediate-2.uri',
      'ca-intermediate.crt',
      'ca-root.crt',
    ]);

    srv = await startServe(args, { env });
    try {
      const r2 = await callApi(srv.url, apiKey, 'POST', '/v1/agents?wait=checkpoint', agent('two.acme.example', makeCsr(dir, 'two').csr));
      expect(r2.status, JSON.stringify(r2.json)).toBe(201);
      const chain = r2.json.certificate.chain as string;
      const [interPem, rootPem] = chain.split(/(?<=-----END CERTIFICATE-----\n)/).map((s) => s.trim() + '\n');
      const root = writeFile(dir, 'root.pem', rootPem!);
      expect(openssl(['x509', '-noout', '-pubkey'], interPem!).trim()).toBe(newKey.publicKey.trim());
      expect(openssl(['verify', '-CAfile', root, '-untrusted', writeFile(dir, 'inter2.pem', interPem!), writeFile(dir, 'two.pem', r2.json.certificate.pem)])).toContain(': OK');
      for (const issuer of [first, newKey.spkiSha256]) {
        const crl = await fetch(`${srv.url}/v1/ca/crl?issuer=${issuer}`);
        expect(crl.status, issuer).toBe(200);
        const chainOf = await (await fetch(`${srv.url}/v1/ca/chain?issuer=${issuer}`)).text();
        const out = opensslStatus(['crl', '-inform', 'DER', '-in', writeFile(dir, `${issuer}.crl`, new Uint8Array(await crl.arrayBuffer())), '-CAfile', writeFile(dir, `${issuer}.pem`, chainOf), '-noout', '-verify']);
        expect(out.out, issuer).toMatch(/verify OK/);
      }
      const interOld = await (await fetch(`${srv.url}/v1/ca/chain?issuer=${first}`)).text();
      expect(openssl(['verify', '-CAfile', root, '-untrusted', writeFile(dir, 'inter1.pem', interOld), writeFile(dir, 'one.pem', c1)])).toContain(': OK');
    } finally {
      await srv.stop();
    }
  });
});
