// Rotating the intermediate of a CA whose keys are in a real SoftHSM2 token
// to another key in that token (POST /v1/ca/rotate {"object": label}): no
// key file is written, only ca-intermediate-<n>.uri (no PIN); certificates
// under each intermediate and each intermediate's CRL verify with openssl
// against the root; a CA opened again over the same log and dir (a restart)
// opens the new key from the .uri record, issues with it and serves both
// CRLs. Refused with 400 and nothing written or logged: a bad label, a label
// with no key in the token, a key the log already has (intermediate or
// root), no label on a token CA, anything but a label in the body, and a
// label on a file-key CA.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { CertificateAuthority } from '../../src/ca/ca.js';
import { buildCrl } from '../../src/ca/crl.js';
import { createCaApp } from '../../src/ca/http.js';
import { loadCaKeys } from '../../src/ca/keys.js';
import { generatePkcs11EcdsaKey } from '../../src/hsm/pkcs11-ecdsa.js';
import { Pkcs11Module } from '../../src/hsm/pkcs11-module.js';
import type { AgentBody } from '../../src/registry/entries/index.js';
import { ApiKeys, newApiKey } from '../../src/registry/http/auth.js';
import { agentKey, openFixture, type Fixture } from '../registry/helpers.js';
import { makeCsr, openCaFixture, openssl, opensslStatus, writeFile } from '../ca/helpers.js';
import { describeHsm, makeSoftHsm, USER_PIN, type SoftHsm } from '../support/softhsm.js';

const body = (n: number, host: string): AgentBody => ({ owner: 'acme', capabilities: [], endpoints: [{ protocol: 'A2A', url: `https://${host}/` }], publicKey: agentKey(n), validation: 'none' });
const admin = newApiKey('ops');

describeHsm('rotating a token CA to another key in its token', () => {
  let hsm: SoftHsm;
  let rootUri: string;
  let interUri: string;
  beforeAll(async () => {
    hsm = makeSoftHsm(['tilelog']);
    rootUri = hsm.uri('ca-root');
    interUri = hsm.uri('ca-intermediate');
    for (const label of ['ca-root', 'ca-intermediate', 'ca-intermediate-2']) (await generatePkcs11EcdsaKey(hsm.uri(label))).close();
  });
  afterAll(() => {
    Pkcs11Module.finalizeAll();
    hsm.remove();
  });

  let f: Fixture;
  let caDir: string;
  let n = 0;
  const open = async () =>
    CertificateAuthority.open({
      registry: f.registry,
      keys: await loadCaKeys({ dir: caDir, rootKey: rootUri, intermediateKey: interUri }),
      dir: caDir,
      intermediateKey: interUri,
      nowMs: () => f.clock.now * 1000,
    });
  beforeEach(async () => {
    f = await openFixture();
    f.clock.now = Math.floor(Date.now() / 1000); // openssl checks validity against the real clock
    caDir = path.join(f.dir, 'ca');
  });
  afterEach(async () => f.close());

  async function issue(ca: CertificateAuthority) {
    const host = `bot${++n}.acme.example`;
    const name = `ans://v1.0.0.${host}`;
    await f.registry.register(name, body(n, host));
    return ca.issue(name, await ca.prepareCsr(makeCsr(f.dir, `bot${n}`, 'p256').csr));
  }
  const rotate = (ca: CertificateAuthority, payload: string) =>
    createCaApp(ca, { adminKeys: new ApiKeys([admin.line]), logError: () => undefined }).request('/v1/ca/rotate', {
      method: 'POST',
      headers: { Authorization: `Bearer ${admin.key}`, 'Content-Type': 'application/json' },
      body: payload,
    });

  it('issues under the new token key; both intermediates verify with openssl; a restart opens it from the .uri record', { timeout: 60_000 }, async () => {
    const ca = await open();
    const root = writeFile(f.dir, 'root.pem', ca.root.certificate.toString('pem'));
    const first = ca.intermediates.issuing()!;
    const c1 = await issue(ca);

    const res = await rotate(ca, JSON.stringify({ object: 'ca-intermediate-2' }));
    expect(res.status, await res.clone().text()).toBe(200);
    const second = ca.intermediates.issuing()!;
    expect(second.keyHashHex).not.toBe(first.keyHashHex);
    expect((await res.json()).added.keyHash).toBe(second.keyHashHex);
    // No key file for the new intermediate: the token key's URI, without the PIN.
    expect(fs.readdirSync(caDir).sort()).toEqual(['ca-intermediate-2.crt', 'ca-intermediate-2.uri', 'ca-intermediate.crt', 'ca-root.crt']);
    const record = fs.readFileSync(path.join(caDir, 'ca-intermediate-2.uri'), 'utf8');
    expect(record).toMatch(/^pkcs11:token=tilelog;object=ca-intermediate-2\?module-path=/);
    expect(record).not.toContain(USER_PIN);

    const c2 = await issue(ca);
    expect(c2.issuer.keyHashHex).toBe(second.keyHashHex);
    const inter1 = writeFile(f.dir, 'inter1.pem', first.certificate.toString('pem'));
    const inter2 = writeFile(f.dir, 'inter2.pem', second.certificate.toString('pem'));
    expect(openssl(['verify', '-CAfile', root, inter2])).toContain(': OK');
    expect(openssl(['verify', '-CAfile', root, '-untrusted', inter2, writeFile(f.dir, 'c2.pem', c2.pem)])).toContain(': OK');
    expect(openssl(['verify', '-CAfile', root, '-untrusted', inter1, writeFile(f.dir, 'c1.pem', c1.pem)])).toContain(': OK');
    await ca.revoke(c1.serial, 'keyCompromise');
    await ca.revoke(c2.serial, 'keyCompromise');

    // Each intermediate's CRL is signed by its own key (the second one in the token) and lists only its certificates.
    const crlsVerify = async (from: CertificateAuthority, tag: string) => {
      for (const [i, mine, other] of [
        [first, c1, c2],
        [second, c2, c1],
      ] as const) {
        const crl = writeFile(f.dir, `${tag}-${i.keyHashHex}.crl`, await buildCrl(from, i.keyHashHex));
        const chain = writeFile(f.dir, `${tag}-chain.pem`, from.chainPem(i));
        expect(opensslStatus(['crl', '-inform', 'DER', '-in', crl, '-CAfile', chain, '-noout', '-verify']).out).toMatch(/verify OK/);
        const text = openssl(['crl', '-inform', 'DER', '-in', crl, '-noout', '-text']).toUpperCase();
        expect(text).toContain(mine.serial.toUpperCase());
        expect(text).not.toContain(other.serial.toUpperCase());
      }
    };
    await crlsVerify(ca, 'before');

    // A restart: a new CA over the same log and dir finds the second key through ca-intermediate-2.uri.
    const again = await open();
    expect(again.intermediates.hasSigner(second)).toBe(true);
    const c3 = await issue(again);
    expect(c3.issuer.keyHashHex).toBe(second.keyHashHex);
    expect(openssl(['verify', '-CAfile', root, '-untrusted', inter2, writeFile(f.dir, 'c3.pem', c3.pem)])).toContain(': OK');
    await crlsVerify(again, 'after');
    expect(fs.readdirSync(caDir).filter((x) => x.endsWith('.key'))).toEqual([]);
  });

  it('refuses a bad label, a missing key, a logged key, no label, and more than a label: 400, nothing written or logged', { timeout: 60_000 }, async () => {
    const ca = await open();
    const files = fs.readdirSync(caDir).sort();
    const cases: [string, RegExp][] = [
      [JSON.stringify({ object: 'x;id=%01' }), /object must be a token key label/],
      [JSON.stringify({ object: '' }), /object must be a token key label/],
      [JSON.stringify({ object: 'no-such-key' }), /cannot use the token key object=no-such-key .*tilelog keygen --ca --key 'pkcs11:token=tilelog;object=no-such-key\?/],
      [JSON.stringify({ object: 'ca-intermediate' }), /already the CA's intermediate ca:[0-9a-f]{64}/],
      [JSON.stringify({ object: 'ca-root' }), /already the CA's root ca:[0-9a-f]{64}/],
      ['', /keeps its intermediate in a PKCS#11 token; make the new key there .*--object LABEL/],
      ['{}', /keeps its intermediate in a PKCS#11 token/],
      [JSON.stringify({ object: 'ca-intermediate-2', 'module-path': '/tmp/evil.so' }), /takes only "object"/],
      [JSON.stringify({ object: 7 }), /object must be a string/],
      ['not json', /must be JSON/],
    ];
    for (const [payload, message] of cases) {
      const res = await rotate(ca, payload);
      const text = await res.text();
      expect(res.status, `${payload}: ${text}`).toBe(400);
      expect(JSON.parse(text).error.message, payload).toMatch(message);
    }
    expect(fs.readdirSync(caDir).sort()).toEqual(files);
    expect(ca.intermediates.all()).toHaveLength(1);
    // The refused keys' sessions were closed; the CA's own stay logged in and sign.
    expect((await issue(ca)).issuer.keyHashHex).toBe(ca.intermediates.issuing()!.keyHashHex);
  });

  it('a file-key CA asked for a token label: 400 saying to rotate without one', async () => {
    const fc = await openCaFixture();
    try {
      const res = await rotate(fc.ca, JSON.stringify({ object: 'ca-intermediate-2' }));
      const text = await res.text();
      expect(res.status, text).toBe(400);
      expect(JSON.parse(text).error.message).toMatch(/keeps its intermediate in a key file.*rotate without object/);
      expect(fc.ca.intermediates.all()).toHaveLength(1);
    } finally {
      await fc.close();
    }
  });
});
