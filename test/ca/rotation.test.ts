// Rotation of the intermediate in process, against a real Log: what the
// end-to-end test (rotation-e2e.test.ts) cannot stage. A rotation stopped
// between ca.key.added and ca.key.retired is finished by the next CA over
// the log; two CAs over one log rotating at once (as two processes of a
// PostgreSQL log would) leave one issuing intermediate, the loser's key
// retired unused; a CA without the new key refuses to issue (before the
// agent entry is written) until the files are copied, with no restart; a
// retired intermediate's CRL and OCSP stop once its certificates expired.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { agentCertificates } from '../../src/ca/agent-certificates.js';
import { CertificateAuthority } from '../../src/ca/ca.js';
import { buildCrl } from '../../src/ca/crl.js';
import { createCaApp } from '../../src/ca/http.js';
import { newIntermediateKey, signIntermediate, writeIntermediateCertificate } from '../../src/ca/intermediate-keys.js';
import { loadCaKeys } from '../../src/ca/keys.js';
import { answerOcsp } from '../../src/ca/ocsp.js';
import { verifyCertificate } from '../../src/ca/verify-cert.js';
import { rotateIntermediate } from '../../src/ca/rotate.js';
import { spkiSha256, toHex, u8 } from '../../src/ca/x509.js';
import { isTilelogError } from '../../src/errors.js';
import { caKeySubject, type AgentBody } from '../../src/registry/entries/index.js';
import { ApiKeys, newApiKey } from '../../src/registry/http/auth.js';
import { createRegistryApp } from '../../src/registry/http/app.js';
import { agentKey } from '../registry/helpers.js';
import { makeCsr, openCaFixture, openssl, writeFile, type CaFixture } from './helpers.js';

const body = (n: number, host: string): AgentBody => ({ owner: 'acme', capabilities: [], endpoints: [{ protocol: 'A2A', url: `https://${host}/` }], publicKey: agentKey(n), validation: 'none' });
let f: CaFixture;
let n = 0;
beforeEach(async () => {
  f = await openCaFixture({ validitySeconds: 3600 });
});
afterEach(async () => f.close());

/** Registers an agent and issues it a certificate through ca. */
async function issue(ca: CertificateAuthority) {
  const host = `bot${++n}.acme.example`;
  const name = `ans://v1.0.0.${host}`;
  await f.registry.register(name, body(n, host));
  return ca.issue(name, await ca.prepareCsr(makeCsr(f.dir, `bot${n}`).csr));
}

const statuses = (ca: CertificateAuthority) => ca.intermediates.all().map((i) => (i.retired ? 'retired' : i.keyHashHex === ca.intermediates.issuing()!.keyHashHex ? 'issuing' : 'unfinished'));

/** A DER OCSP request for a certificate, made by openssl. */
function ocspRequest(certPem: string, issuerPem: string): Uint8Array {
  const out = path.join(f.dir, 'req.der');
  openssl(['ocsp', '-issuer', writeFile(f.dir, 'i.pem', issuerPem), '-cert', writeFile(f.dir, 'c.pem', certPem), '-no_nonce', '-reqout', out]);
  return new Uint8Array(fs.readFileSync(out));
}

describe('rotation in process', () => {
  it('a rotation stopped after ca.key.added: the next CA over the log and files issues with the new key and retires the old one', async () => {
    const a = f.ca.intermediates.issuing()!;
    // R1-R3 by hand, then "crash" (no ca.key.retired).
    const { signer } = await newIntermediateKey(f.caDir, 2);
    const cert = await signIntermediate(f.ca.root, signer, 'CN=tilelog agent issuing CA 2', f.clock.now * 1000);
    writeIntermediateCertificate(f.caDir, 2, cert);
    const spki = spkiSha256(cert);
    await f.ca.submitEntry({ type: 'ca.key.added', subject: caKeySubject(spki), seq: 0, prev: null, body: { role: 'intermediate', spkiSha256: spki, der: u8(cert.rawData) } });
    expect(f.registry.index.head(caKeySubject(a.keyHash))!.entry.type).toBe('ca.key.added');

    const again = await CertificateAuthority.open({ registry: f.registry, keys: await loadCaKeys({ dir: f.caDir }), dir: f.caDir, nowMs: () => f.clock.now * 1000 });
    expect(f.registry.index.head(caKeySubject(a.keyHash))!.entry.type).toBe('ca.key.retired');
    expect(statuses(again)).toEqual(['retired', 'issuing']);
    const c = await issue(again);
    expect(c.issuer.keyHashHex).toBe(toHex(spki));
  });

  it('two CAs over one log and CA dir rotating at once: one wins, the other gets CA_ROTATION_CONFLICT and its key is retired unused', async () => {
    const other = await CertificateAuthority.open({ registry: f.registry, keys: await loadCaKeys({ dir: f.caDir }), dir: f.caDir, nowMs: () => f.clock.now * 1000 });
    const results = await Promise.allSettled([rotateIntermediate(f.ca), rotateIntermediate(other)]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(isTilelogError(lost[0]!.reason, 'CA_ROTATION_CONFLICT'), String(lost[0]!.reason)).toBe(true);
    expect(String(lost[0]!.reason)).toMatch(/another rotation retired .* first .* was retired unused/);
    // Generations 2 and 3: the second rotation found 2 taken.
    expect(['ca-intermediate-2.key', 'ca-intermediate-3.key'].every((k) => fs.existsSync(path.join(f.caDir, k)))).toBe(true);
    await f.ca.index.catchUp();
    expect(statuses(f.ca).filter((s) => s === 'issuing')).toHaveLength(1);
    expect(statuses(f.ca).filter((s) => s === 'retired')).toHaveLength(2);
    const winner = (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof rotateIntermediate>>>).value.added.keyHashHex;
    expect((await issue(other)).issuer.keyHashHex).toBe(winner);
    expect((await issue(f.ca)).issuer.keyHashHex).toBe(winner);
  });

  it('a CA without the new key refuses to issue (503 before the agent entry) until the files are copied, then issues with no restart', async () => {
    // A second "process" with its own copy of the CA dir, made before the rotation.
    const dir2 = path.join(f.dir, 'ca2');
    fs.mkdirSync(dir2, { mode: 0o700 });
    for (const file of fs.readdirSync(f.caDir)) fs.copyFileSync(path.join(f.caDir, file), path.join(dir2, file));
    const other = await CertificateAuthority.open({ registry: f.registry, keys: await loadCaKeys({ dir: dir2 }), dir: dir2, nowMs: () => f.clock.now * 1000 });
    const underA = await issue(other);
    const r = await rotateIntermediate(f.ca);

    const err = await issue(other).catch((e) => e);
    expect(isTilelogError(err, 'CA_KEY_UNAVAILABLE'), String(err)).toBe(true);
    expect(err.message).toMatch(/copy its ca-intermediate-<n>.key and .crt/);
    const acme = newApiKey('acme');
    const app = createRegistryApp(f.registry, { apiKeys: new ApiKeys([acme.line]), dns: null, publicUrl: 'https://registry.example', certificates: agentCertificates(other), logError: () => undefined });
    app.route('/', createCaApp(other, { logError: () => undefined }));
    const size = f.log.checkpoint().size;
    const res = await app.request('/v1/agents', {
      method: 'POST',
      headers: { Authorization: `Bearer ${acme.key}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'ans://v1.0.0.late.acme.example', endpoints: [{ protocol: 'A2A', url: 'https://late.acme.example/' }], csr: makeCsr(f.dir, 'late').csr }),
    });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('CA_KEY_UNAVAILABLE');
    expect(f.log.checkpoint().size).toBe(size);
    // Its CRL under A still works (it holds A's key); B's needs the key too.
    expect((await app.request(`/v1/ca/crl?issuer=${underA.issuer.keyHashHex}`)).status).toBe(200);
    expect((await app.request(`/v1/ca/crl?issuer=${r.added.keyHashHex}`)).status).toBe(503);

    for (const ext of ['key', 'crt']) fs.copyFileSync(path.join(f.caDir, `ca-intermediate-2.${ext}`), path.join(dir2, `ca-intermediate-2.${ext}`));
    expect((await issue(other)).issuer.keyHashHex).toBe(r.added.keyHashHex);
    expect((await app.request(`/v1/ca/crl?issuer=${r.added.keyHashHex}`)).status).toBe(200);
  });

  it("a retired intermediate's CRL and OCSP are served until its last certificate expires, then not", async () => {
    const old = await issue(f.ca);
    const r = await rotateIntermediate(f.ca);
    const app = createCaApp(f.ca, { logError: () => undefined });
    const oldPem = r.retired.certificate.toString('pem');
    expect((await app.request(`/v1/ca/crl?issuer=${r.retired.keyHashHex}`)).status).toBe(200);
    expect((await answerOcsp(f.ca, ocspRequest(old.pem, oldPem))).statuses).toEqual(['good']);
    const list = (await (await app.request('/v1/ca/intermediates')).json()) as { intermediates: { status: string; statusServedUntil: string | null }[] };
    expect(list.intermediates[0]).toMatchObject({ status: 'retired', statusServedUntil: old.certificate.notAfter.toISOString() });

    f.clock.now = Math.floor(old.certificate.notAfter.getTime() / 1000) + 1;
    const gone = await app.request(`/v1/ca/crl?issuer=${r.retired.keyHashHex}`);
    expect(gone.status).toBe(404);
    expect(((await gone.json()) as { error: { message: string } }).error.message).toMatch(/every certificate it issued expired/);
    expect((await answerOcsp(f.ca, ocspRequest(old.pem, oldPem))).statuses).toEqual(['unknown']);
    // The issuing intermediate's CRL is unaffected.
    expect((await buildCrl(f.ca)).length).toBeGreaterThan(0);
  });

  it('a retired intermediate never issues again (the rules refuse a cert.issued under it); one that issued nothing is served until its retirement', async () => {
    const a = f.ca.intermediates.issuing()!;
    await rotateIntermediate(f.ca);
    // It issued nothing: its status is served until its retirement only.
    expect(f.ca.intermediates.servedUntilMs(f.ca.intermediates.byKeyHash(a.keyHashHex)!)).toBe(f.clock.now * 1000);
    const c = await issue(f.ca);
    const forged = { ...(f.registry.index.head(`cert:${c.serial}`)!.entry.body as object), issuerKeyHash: a.keyHash, serial: new Uint8Array([0x42]) };
    const err = await f.ca.submitEntry({ type: 'cert.issued', subject: 'cert:42', seq: 0, prev: null, body: forged as never }).catch((e) => e);
    expect(isTilelogError(err, 'REGISTRY_CONFLICT'), String(err)).toBe(true);
    expect(err.message).toMatch(/is retired/);
  });

  it("verify-cert accepts only intermediates the root signed, whatever the log's ca.key.added says", async () => {
    // Another CA's intermediate, logged as if it were ours (a submitter key can write ca.key.added).
    const foreign = await loadCaKeys({ dir: path.join(f.dir, 'foreign') });
    for (const ext of ['key', 'crt']) fs.copyFileSync(path.join(f.dir, 'foreign', `ca-intermediate.${ext}`), path.join(f.caDir, `ca-intermediate-2.${ext}`));
    const cert = foreign.intermediate.certificate;
    const spki = spkiSha256(cert);
    await f.ca.submitEntry({ type: 'ca.key.added', subject: caKeySubject(spki), seq: 0, prev: null, body: { role: 'intermediate', spkiSha256: spki, der: u8(cert.rawData) } });
    const c = await issue(f.ca);
    expect(c.issuer.keyHashHex).toBe(toHex(spki));
    expect(await verifyCertificate(f.ca, u8(c.certificate.rawData))).toMatchObject({ valid: false, reason: 'unknown-issuer' });
  });
});
