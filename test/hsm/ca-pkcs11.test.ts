// The CA with its root and intermediate keys in a real SoftHSM2 token (never
// a mock): the certificates it issues, its CRL and its OCSP responses verify
// with Debian's openssl against the root; the EC private keys cannot be read
// out of the token; a certificate file of another key, a missing token, a
// wrong PIN and a key of the wrong type are refused at load with a message
// that says what is wrong; a token that goes away while the CA runs makes
// issuance fail with SIGNER_UNAVAILABLE (HTTP 503) and logs nothing.

import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { CertificateAuthority } from '../../src/ca/ca.js';
import { buildCrl } from '../../src/ca/crl.js';
import { createCaApp } from '../../src/ca/http.js';
import { loadCaKeys } from '../../src/ca/keys.js';
import { answerOcsp } from '../../src/ca/ocsp.js';
import { openCaSigner } from '../../src/ca/signer.js';
import { isTilelogError } from '../../src/errors.js';
import { ckr, loadPkcs11js, Pkcs11Module } from '../../src/hsm/pkcs11-module.js';
import { generatePkcs11EcdsaKey } from '../../src/hsm/pkcs11-ecdsa.js';
import { generatePkcs11Key } from '../../src/hsm/pkcs11-keygen.js';
import { parsePkcs11Uri } from '../../src/hsm/pkcs11-uri.js';
import type { AgentBody } from '../../src/registry/entries/index.js';
import { agentKey, openFixture, type Fixture } from '../registry/helpers.js';
import { makeCsr, OPENSSL, openssl, opensslStatus, writeFile } from '../ca/helpers.js';
import { describeHsm, makeSoftHsm, SOFTHSM_MODULE, USER_PIN, type SoftHsm } from '../support/softhsm.js';

const run = promisify(execFile);
const NAME = 'ans://v1.0.0.bot.acme.example';
const body = (): AgentBody => ({ owner: 'acme', capabilities: [], endpoints: [{ protocol: 'A2A', url: 'https://bot.acme.example/' }], publicKey: agentKey(1), validation: 'none' });

async function rejectsWith(p: Promise<unknown>, code: string): Promise<Error> {
  try {
    await p;
  } catch (err) {
    expect(isTilelogError(err), String(err)).toBe(true);
    expect((err as { code: string }).code, String(err)).toBe(code);
    return err as Error;
  }
  throw new Error(`expected ${code}, but it resolved`);
}

describeHsm('the CA with its keys in SoftHSM2', () => {
  let hsm: SoftHsm;
  let rootUri: string;
  let interUri: string;
  beforeAll(async () => {
    hsm = makeSoftHsm(['tilelog', 'other']);
    rootUri = hsm.uri('ca-root');
    interUri = hsm.uri('ca-intermediate');
    (await generatePkcs11EcdsaKey(rootUri)).close();
    (await generatePkcs11EcdsaKey(interUri)).close();
  });
  afterAll(() => {
    Pkcs11Module.finalizeAll();
    hsm.remove();
  });

  let f: Fixture;
  let ca: CertificateAuthority;
  let caDir: string;
  beforeEach(async () => {
    f = await openFixture();
    f.clock.now = Math.floor(Date.now() / 1000); // openssl checks validity against the real clock
    caDir = path.join(f.dir, 'ca');
    const keys = await loadCaKeys({ dir: caDir, rootKey: rootUri, intermediateKey: interUri });
    ca = await CertificateAuthority.open({ registry: f.registry, keys, nowMs: () => f.clock.now * 1000 });
    await f.registry.register(NAME, body());
  });
  afterEach(async () => f.close());

  const files = () => ({
    root: writeFile(f.dir, 'root.pem', ca.keys.root.certificate.toString('pem')),
    inter: writeFile(f.dir, 'inter.pem', ca.keys.intermediate.certificate.toString('pem')),
    chain: writeFile(f.dir, 'chain.pem', ca.chainPem()),
  });

  it('issues a certificate, a CRL and OCSP responses that openssl verifies against the root; no key file is written', async () => {
    expect(fs.readdirSync(caDir).sort()).toEqual(['ca-intermediate.crt', 'ca-root.crt']);
    const { root, inter, chain } = files();
    expect(openssl(['verify', '-CAfile', root, inter])).toContain(': OK');

    const issued = await ca.issue(NAME, await ca.prepareCsr(makeCsr(f.dir, 'leaf', 'p256').csr));
    const leaf = writeFile(f.dir, 'leaf.pem', issued.pem);
    expect(openssl(['verify', '-CAfile', root, '-untrusted', inter, leaf])).toContain(': OK');

    // OCSP (signed in the token by the intermediate): good, then revoked.
    const ocsp = async () => {
      const reqFile = path.join(f.dir, 'ocsp.req');
      openssl(['ocsp', '-issuer', inter, '-cert', leaf, '-reqout', reqFile, '-no_nonce']);
      const { der } = await answerOcsp(ca, new Uint8Array(fs.readFileSync(reqFile)));
      const r = await run(OPENSSL, ['ocsp', '-respin', writeFile(f.dir, 'ocsp.resp', der), '-issuer', inter, '-cert', leaf, '-CAfile', chain, '-no_nonce']);
      expect(r.stderr).toMatch(/Response verify OK/);
      return r.stdout;
    };
    expect(await ocsp()).toMatch(/leaf\.pem: good/);
    await ca.revoke(issued.serial, 'keyCompromise');
    expect(await ocsp()).toMatch(/leaf\.pem: revoked/);

    // The CRLs (intermediate's and root's), each signed in the token.
    const crl = writeFile(f.dir, 'crl.der', await buildCrl(ca));
    expect(opensslStatus(['crl', '-inform', 'DER', '-in', crl, '-CAfile', chain, '-noout', '-verify']).out).toMatch(/verify OK/);
    expect(openssl(['crl', '-inform', 'DER', '-in', crl, '-noout', '-text']).toUpperCase()).toContain(issued.serial.toUpperCase());
    const rootCrl = writeFile(f.dir, 'root-crl.der', await buildCrl(ca, 'root'));
    expect(opensslStatus(['crl', '-inform', 'DER', '-in', rootCrl, '-CAfile', root, '-noout', '-verify']).out).toMatch(/verify OK/);
    const crlPem = writeFile(f.dir, 'crl.pem', openssl(['crl', '-inform', 'DER', '-in', crl]));
    const refused = opensslStatus(['verify', '-crl_check', '-CRLfile', crlPem, '-CAfile', root, '-untrusted', inter, leaf]);
    expect(refused.out).toMatch(/certificate revoked/);
  });

  it('loads again from the token and the certificate files, and the same key opens through openCaSigner', async () => {
    const again = await loadCaKeys({ dir: caDir, rootKey: rootUri, intermediateKey: interUri });
    expect(again.root.certificate.toString('pem')).toBe(ca.keys.root.certificate.toString('pem'));
    const signer = await openCaSigner(interUri);
    const spki = new Uint8Array(await signer.crypto.subtle.exportKey('spki', signer.publicKey));
    expect(Buffer.from(spki).equals(Buffer.from(ca.keys.intermediate.certificate.publicKey.rawData))).toBe(true);
  });

  it('keeps the EC private keys in the token: CKA_VALUE is refused, sensitive, never extractable', async () => {
    const js = await loadPkcs11js();
    const m = Pkcs11Module.get(js, SOFTHSM_MODULE);
    const session = m.lib.C_OpenSession(m.findSlot(parsePkcs11Uri(rootUri)), js.CKF_SERIAL_SESSION);
    try {
      try {
        m.lib.C_Login(session, js.CKU_USER, USER_PIN);
      } catch (err) {
        if (ckr(err) !== 'CKR_USER_ALREADY_LOGGED_IN') throw err;
      }
      for (const label of ['ca-root', 'ca-intermediate']) {
        const [key] = m.findObjects(session, [
          { type: js.CKA_CLASS, value: js.CKO_PRIVATE_KEY },
          { type: js.CKA_LABEL, value: label },
        ]);
        expect(key).toBeDefined();
        let refused: string | null = null;
        try {
          m.lib.C_GetAttributeValue(session, key!, [{ type: js.CKA_VALUE }]);
        } catch (err) {
          refused = ckr(err);
        }
        expect(refused).toBe('CKR_ATTRIBUTE_SENSITIVE');
        const [kt, sensitive, extractable, never] = m.lib.C_GetAttributeValue(session, key!, [
          { type: js.CKA_KEY_TYPE },
          { type: js.CKA_SENSITIVE },
          { type: js.CKA_EXTRACTABLE },
          { type: js.CKA_NEVER_EXTRACTABLE },
        ]);
        expect(kt!.value.readUInt32LE(0)).toBe(js.CKK_EC);
        expect(sensitive!.value[0]).toBe(1);
        expect(extractable!.value[0]).toBe(0);
        expect(never!.value[0]).toBe(1);
      }
    } finally {
      m.lib.C_CloseSession(session);
    }
  });

  it('refuses a certificate file that holds another public key than the token key', async () => {
    const other = hsm.uri('ca-other');
    (await generatePkcs11EcdsaKey(other)).close();
    const err = await rejectsWith(loadCaKeys({ dir: caDir, rootKey: other, intermediateKey: interUri }), 'CA_CONFIG');
    expect(err.message).toMatch(/ca-root\.crt is not the certificate of the root key pkcs11:token=tilelog;object=ca-other\?.*: it holds another public key/);
    const swapped = await rejectsWith(loadCaKeys({ dir: caDir, rootKey: rootUri, intermediateKey: rootUri }), 'CA_CONFIG');
    expect(swapped.message).toMatch(/ca-intermediate\.crt is not the certificate of the intermediate key/);
  });

  it('names what is wrong at load: no such token, a wrong PIN, no such key, a key that is not ECDSA P-256', async () => {
    const dir = path.join(f.dir, 'fresh-ca');
    const noToken = await rejectsWith(loadCaKeys({ dir, rootKey: hsm.uri('ca-root', 'absent-token') }), 'SIGNER_CONFIG');
    expect(noToken.message).toMatch(/no token .* matches .*"absent-token".*tokens present: .*"tilelog"/);
    const noKey = await rejectsWith(loadCaKeys({ dir, rootKey: hsm.uri('no-such-key') }), 'SIGNER_CONFIG');
    expect(noKey.message).toMatch(/no private key object="no-such-key" in the token; create one with 'tilelog keygen --ca --key <this URI>'/);
    (await generatePkcs11Key(hsm.uri('an-ed25519-key'))).close();
    const ed = await rejectsWith(loadCaKeys({ dir, rootKey: hsm.uri('an-ed25519-key') }), 'SIGNER_CONFIG');
    expect(ed.message).toMatch(/is not an ECDSA \(CKK_EC\) P-256 key/);

    // A wrong PIN, on the other token (login state is per token and process).
    (await generatePkcs11EcdsaKey(hsm.uri('k', 'other'))).close();
    Pkcs11Module.finalizeAll(); // log out of every token
    const wrongPin = path.join(hsm.dir, 'wrong-pin');
    fs.writeFileSync(wrongPin, '0000-wrong\n', { mode: 0o600 });
    const wrong = await rejectsWith(loadCaKeys({ dir, rootKey: hsm.uri('k', 'other').replace(hsm.pinFile, wrongPin) }), 'SIGNER_CONFIG');
    expect(wrong.message).toMatch(/refused the PIN in .*wrong-pin \(CKR_PIN_INCORRECT\)/);
    expect(wrong.message).not.toContain('0000-wrong');
    expect(fs.existsSync(path.join(dir, 'ca-root.key'))).toBe(false);
  });

  it('while the token is gone: issuance, CRL and OCSP fail with SIGNER_UNAVAILABLE (503), nothing is logged; back, it issues again', async () => {
    const prepared = await ca.prepareCsr(makeCsr(f.dir, 'gone').csr);
    const before = f.log.checkpoint().size;
    const tokenDir = fs.readdirSync(hsm.tokenDir).find((d) => hasKey(path.join(hsm.tokenDir, d), 'ca-intermediate'))!;
    const away = path.join(hsm.dir, 'unplugged');
    fs.renameSync(path.join(hsm.tokenDir, tokenDir), away);
    try {
      const err = await rejectsWith(ca.issue(NAME, prepared), 'SIGNER_UNAVAILABLE');
      expect(err.message).toMatch(/nothing was signed/);
      await rejectsWith(buildCrl(ca), 'SIGNER_UNAVAILABLE');
      const app = createCaApp(ca, { logError: () => {} });
      const crl = await app.request('/v1/ca/crl');
      expect(crl.status).toBe(503);
      expect(((await crl.json()) as { error: { code: string } }).error.code).toBe('SIGNER_UNAVAILABLE');
      const reqFile = path.join(f.dir, 'gone.req');
      const { inter } = files();
      openssl(['ocsp', '-issuer', inter, '-serial', '0x01', '-reqout', reqFile, '-no_nonce']);
      const ocsp = await app.request('/v1/ca/ocsp', { method: 'POST', body: fs.readFileSync(reqFile), headers: { 'Content-Type': 'application/ocsp-request' } });
      expect(ocsp.status).toBe(503);
      expect(ca.index.agentCerts(NAME)).toHaveLength(0);
      expect(f.log.checkpoint().size).toBe(before); // no cert.issued entry
      // The log itself keeps sequencing.
      await f.log.add(new TextEncoder().encode('still sequencing'));
    } finally {
      fs.renameSync(away, path.join(hsm.tokenDir, tokenDir));
    }
    const issued = await ca.issue(NAME, prepared);
    const { root, inter } = files();
    expect(openssl(['verify', '-CAfile', root, '-untrusted', inter, writeFile(f.dir, 'back.pem', issued.pem)])).toContain(': OK');
  });
});

/** True when a SoftHSM2 token directory's files mention label (object files hold the label in clear). */
function hasKey(dir: string, label: string): boolean {
  return fs.readdirSync(dir).some((file) => fs.readFileSync(path.join(dir, file)).includes(Buffer.from(label)));
}
