// The CA in process against a real Log: keys on disk, issuance logged
// before it is returned, CSR refusals that write nothing, the reasons of
// /v1/verify/cert, CRL and OCSP checked with Debian's openssl, and a second
// CA over the same log (a rebuild from the log alone) that answers the same.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { serve } from '@hono/node-server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CertificateAuthority } from '../../src/ca/ca.js';
import { buildCrl } from '../../src/ca/crl.js';
import { createCaApp } from '../../src/ca/http.js';
import { loadCaKeys } from '../../src/ca/keys.js';
import { answerOcsp } from '../../src/ca/ocsp.js';
import { verifyCertificate } from '../../src/ca/verify-cert.js';
import { verifyCertEntry } from '../../src/ca/verify-offline.js';
import { ECDSA_P256, spkiSha256, toPem, u8, x509 } from '../../src/ca/x509.js';
import { isTilelogError } from '../../src/errors.js';
import { toBase64 } from '../../src/merkle/index.js';
import { caKeySubject, type AgentBody } from '../../src/registry/entries/index.js';
import { agentKey, ORIGIN, registryKey } from '../registry/helpers.js';
import { makeCsr, openCaFixture, openssl, OPENSSL, opensslStatus, writeFile, type CaFixture } from './helpers.js';

const run = promisify(execFile);
const NAME = 'ans://v1.0.0.bot.acme.example';
const HOST = 'bot.acme.example';
const body = (n = 1): AgentBody => ({ owner: 'acme', capabilities: [], endpoints: [{ protocol: 'A2A', url: `https://${HOST}/` }], publicKey: agentKey(n), validation: 'none' });

let f: CaFixture;
beforeEach(async () => {
  f = await openCaFixture();
  await f.registry.register(NAME, body());
});
afterEach(async () => f.close());

const policy = () => ({ log: { logKey: f.log.verifierKey, origin: ORIGIN }, submitterKeys: { [registryKey.kid]: toBase64(registryKey.publicKey) } });
const chainFiles = () => ({
  root: writeFile(f.dir, 'root.pem', f.ca.keys.root.certificate.toString('pem')),
  inter: writeFile(f.dir, 'inter.pem', f.ca.keys.intermediate.certificate.toString('pem')),
  chain: writeFile(f.dir, 'chain.pem', f.ca.chainPem()),
});

describe('CA keys', () => {
  it('are PKCS#8 files of mode 0600, logged once as ca.key.added, and load again unchanged', async () => {
    for (const k of ['ca-root.key', 'ca-intermediate.key']) expect(fs.statSync(path.join(f.caDir, k)).mode & 0o777).toBe(0o600);
    const again = await loadCaKeys({ dir: f.caDir });
    expect(again.intermediate.certificate.toString('pem')).toBe(f.ca.keys.intermediate.certificate.toString('pem'));
    const size = f.log.checkpoint().size;
    await CertificateAuthority.open({ registry: f.registry, keys: again });
    expect(f.log.checkpoint().size).toBe(size); // nothing new logged
    for (const role of ['root', 'intermediate'] as const) {
      const h = f.registry.index.head(caKeySubject(spkiSha256(f.ca.keys[role].certificate)))!;
      expect(h.entry.type).toBe('ca.key.added');
      expect(h.entry.body).toMatchObject({ role });
    }
  });

  it('a key file others can read is refused', async () => {
    fs.chmodSync(path.join(f.caDir, 'ca-root.key'), 0o644);
    await expect(loadCaKeys({ dir: f.caDir })).rejects.toThrow(/readable by others/);
  });

  it('openssl verifies the chain: root self-signed, intermediate under it', () => {
    const { root, inter } = chainFiles();
    expect(openssl(['verify', '-CAfile', root, inter])).toContain(': OK');
  });
});

describe('issuance', () => {
  it('logs cert.issued (durable, checkpointed) before returning; the entry verifies offline and holds the exact DER', async () => {
    const { csr } = makeCsr(f.dir, 'bot');
    const c = await f.ca.issue(NAME, await f.ca.prepareCsr(csr));
    expect(f.log.checkpoint().size).toBeGreaterThan(c.write.index);
    const der = u8(c.certificate.rawData);
    const v = verifyCertEntry(await f.registry.bundle(c.write.index), policy(), { der });
    expect(v.entry.type).toBe('cert.issued');
    expect(v.entry.body).toMatchObject({ agent: NAME, uris: [NAME], dnsNames: [HOST] });
    // The profile, read back by openssl.
    const text = openssl(['x509', '-noout', '-text'], c.pem);
    expect(text).toContain(`URI:${NAME}`);
    expect(text).toContain(`DNS:${HOST}`);
    expect(text).toContain('TLS Web Client Authentication');
    expect(text).toMatch(/CA:FALSE/);
    const { root, inter } = chainFiles();
    expect(openssl(['verify', '-CAfile', root, '-untrusted', inter, writeFile(f.dir, 'leaf.pem', c.pem)])).toContain(': OK');
  });

  it('takes an EC P-256 CSR too', async () => {
    const c = await f.ca.issue(NAME, await f.ca.prepareCsr(makeCsr(f.dir, 'p256', 'p256').csr));
    expect(c.certificate.publicKey.algorithm.name).toBe('ECDSA');
  });

  it('refuses, writing nothing: a CSR whose signature does not verify, an RSA key, junk', async () => {
    const size = f.log.checkpoint().size;
    const { csr } = makeCsr(f.dir, 'tamper');
    const der = Buffer.from(csr.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
    der[der.length - 5]! ^= 1; // inside the signature
    const bad = [toPem(new Uint8Array(der), 'CERTIFICATE REQUEST'), 'junk', 42];
    openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', path.join(f.dir, 'rsa.key')]);
    bad.push(openssl(['req', '-new', '-key', path.join(f.dir, 'rsa.key'), '-subj', '/CN=rsa']));
    for (const b of bad) {
      const err = await f.ca.prepareCsr(b).catch((e) => e);
      expect(isTilelogError(err, 'CA_BAD_CSR'), String(err)).toBe(true);
    }
    expect(f.log.checkpoint().size).toBe(size);
  });

  it('refuses a certificate for a revoked agent (the rules), and the certificate never leaves', async () => {
    await f.registry.revoke(NAME, 'cessationOfOperation');
    const size = f.log.checkpoint().size;
    const err = await f.ca.issue(NAME, await f.ca.prepareCsr(makeCsr(f.dir, 'late').csr)).catch((e) => e);
    expect(isTilelogError(err, 'REGISTRY_CONFLICT'), String(err)).toBe(true);
    expect(f.log.checkpoint().size).toBe(size);
  });
});

describe('status: verify, CRL, OCSP agree with the log', () => {
  it('good -> superseded by rotation -> agent revocation revokes the rest; openssl crl and ocsp agree', async () => {
    const first = await f.ca.issue(NAME, await f.ca.prepareCsr(makeCsr(f.dir, 'a').csr));
    const der1 = u8(first.certificate.rawData);
    expect(await verifyCertificate(f.ca, der1)).toMatchObject({ valid: true, reason: null, agentStatus: 'active' });
    const second = await f.ca.issue(NAME, await f.ca.prepareCsr(makeCsr(f.dir, 'b').csr), { supersede: true });
    expect(second.superseded).toEqual([first.serial]);
    const v1 = await verifyCertificate(f.ca, der1);
    expect(v1).toMatchObject({ valid: false, reason: 'revoked' });
    expect(v1.cert!.revoked!.reason).toBe('superseded');
    expect((await verifyCertificate(f.ca, u8(second.certificate.rawData))).valid).toBe(true);

    // HTTP server for openssl ocsp -url.
    const server = serve({ fetch: createCaApp(f.ca).fetch, hostname: '127.0.0.1', port: 0 });
    await new Promise((r) => server.once('listening', r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      const { chain, inter } = chainFiles();
      const ocsp = async (pem: string) => {
        const r = await run(OPENSSL, ['ocsp', '-issuer', inter, '-cert', writeFile(f.dir, 'q.pem', pem), '-url', `${url}/v1/ca/ocsp`, '-CAfile', chain, '-resp_text']);
        return r.stdout + r.stderr;
      };
      expect(await ocsp(second.pem)).toMatch(/q\.pem: good/);
      const out1 = await ocsp(first.pem);
      expect(out1).toMatch(/q\.pem: revoked/);
      expect(out1).toMatch(/Reason: superseded/);
      expect(out1).toMatch(/Response verify OK/);

      // Revoking the agent revokes its current certificate.
      await f.registry.revoke(NAME, 'keyCompromise');
      expect(await f.ca.revokeAgent(NAME, 'keyCompromise')).toEqual([second.serial]);
      expect(await ocsp(second.pem)).toMatch(/q\.pem: revoked[\s\S]*Reason: keyCompromise/);
      const v2 = await verifyCertificate(f.ca, u8(second.certificate.rawData));
      expect(v2).toMatchObject({ valid: false, reason: 'revoked' });

      // The CRL: signed by the intermediate, nextUpdate set, both serials with their reasons.
      const crlFile = writeFile(f.dir, 'crl.der', await (await fetch(`${url}/v1/ca/crl`)).bytes());
      const text = openssl(['crl', '-inform', 'DER', '-in', crlFile, '-CAfile', chain, '-noout', '-text']);
      expect(opensslStatus(['crl', '-inform', 'DER', '-in', crlFile, '-CAfile', chain, '-noout', '-verify']).out).toMatch(/verify OK/);
      expect(text).toMatch(/Next Update: /);
      expect(text.toUpperCase()).toContain(first.serial.toUpperCase());
      expect(text.toUpperCase()).toContain(second.serial.toUpperCase());
      expect(text).toMatch(/Superseded/);
      expect(text).toMatch(/Key Compromise/);
      // openssl verify with the CRL refuses both.
      const crlPem = writeFile(f.dir, 'crl.pem', openssl(['crl', '-inform', 'DER', '-in', crlFile]));
      const { root } = chainFiles();
      const refused = opensslStatus(['verify', '-crl_check', '-CRLfile', crlPem, '-CAfile', root, '-untrusted', inter, writeFile(f.dir, 'l2.pem', second.pem)]);
      expect(refused.status).not.toBe(0);
      expect(refused.out).toMatch(/certificate revoked/);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('names each reason: unknown-issuer, never-logged, expired, agent-revoked', async () => {
    // unknown issuer: a certificate from another CA.
    const other = await loadCaKeys({ dir: path.join(f.dir, 'other-ca') });
    expect((await verifyCertificate(f.ca, u8(other.intermediate.certificate.rawData))).reason).toBe('unknown-issuer');
    // never logged: signed by our intermediate key behind the CA's back.
    const inter = f.ca.keys.intermediate;
    const keys = (await crypto.subtle.generateKey(ECDSA_P256, true, ['sign', 'verify'])) as CryptoKeyPair;
    const rogue = await x509.X509CertificateGenerator.create({
      subject: `CN=${HOST}`, issuer: inter.certificate.subject, notBefore: new Date(), notAfter: new Date(Date.now() + 3600e3),
      signingAlgorithm: ECDSA_P256, publicKey: keys.publicKey, signingKey: inter.signer.privateKey,
    });
    expect((await verifyCertificate(f.ca, u8(rogue.rawData))).reason).toBe('never-logged');
    // expired: the clock moves past notAfter.
    const c = await f.ca.issue(NAME, await f.ca.prepareCsr(makeCsr(f.dir, 'e').csr));
    const der = u8(c.certificate.rawData);
    f.clock.now += f.ca.validitySeconds + 1;
    expect((await verifyCertificate(f.ca, der)).reason).toBe('expired');
    f.clock.now -= f.ca.validitySeconds + 1;
    // agent revoked while the certificate is not (revoked through the registry alone).
    await f.registry.revoke(NAME, 'privilegeWithdrawn');
    expect(await verifyCertificate(f.ca, der)).toMatchObject({ valid: false, reason: 'agent-revoked', agentStatus: 'revoked' });
  });

  it('a second CA over the same log (rebuilt from the log alone) gives the same OCSP statuses and CRL entries', async () => {
    const a = await f.ca.issue(NAME, await f.ca.prepareCsr(makeCsr(f.dir, 'r1').csr));
    const b = await f.ca.issue(NAME, await f.ca.prepareCsr(makeCsr(f.dir, 'r2').csr), { supersede: true });
    const rebuilt = await CertificateAuthority.open({ registry: f.registry, keys: f.ca.keys, nowMs: () => f.clock.now * 1000 });
    const { inter } = chainFiles();
    writeFile(f.dir, 'a.pem', a.pem);
    writeFile(f.dir, 'b.pem', b.pem);
    const reqFile = path.join(f.dir, 'req.der');
    openssl(['ocsp', '-issuer', inter, '-cert', path.join(f.dir, 'a.pem'), '-cert', path.join(f.dir, 'b.pem'), '-reqout', reqFile, '-no_nonce']);
    const req = new Uint8Array(fs.readFileSync(reqFile));
    expect((await answerOcsp(f.ca, req)).statuses).toEqual(['revoked', 'good']);
    expect((await answerOcsp(rebuilt, req)).statuses).toEqual(['revoked', 'good']);
    const entries = async (ca: CertificateAuthority) => new x509.X509Crl(u8(await buildCrl(ca))).entries.map((e) => [e.serialNumber, e.reason, e.revocationDate.getTime()]);
    expect(await entries(rebuilt)).toEqual(await entries(f.ca));
    expect((await entries(f.ca)).map((e) => e[0]!.toString().toLowerCase())).toEqual([a.serial]);
  });
});

describe('HTTP routes in process', () => {
  it('GET /v1/ca/ocsp/<base64> answers like POST; /v1/ca/chain; /v1/ca/certs/<serial>; bad requests', async () => {
    const c = await f.ca.issue(NAME, await f.ca.prepareCsr(makeCsr(f.dir, 'h').csr));
    const app = createCaApp(f.ca);
    const { inter } = chainFiles();
    const reqFile = path.join(f.dir, 'get.der');
    openssl(['ocsp', '-issuer', inter, '-cert', writeFile(f.dir, 'h.pem', c.pem), '-reqout', reqFile, '-no_nonce']);
    const req = new Uint8Array(fs.readFileSync(reqFile));
    const viaGet = await app.request(`/v1/ca/ocsp/${encodeURIComponent(Buffer.from(req).toString('base64'))}`);
    const viaPost = await app.request('/v1/ca/ocsp', { method: 'POST', body: req, headers: { 'Content-Type': 'application/ocsp-request' } });
    for (const res of [viaGet, viaPost]) {
      expect(res.status).toBe(200);
      expect(res.headers.get('Content-Type')).toBe('application/ocsp-response');
      const out = openssl(['ocsp', '-respin', writeFile(f.dir, 'resp.der', new Uint8Array(await res.arrayBuffer())), '-resp_text', '-noverify']);
      expect(out).toMatch(/Cert Status: good/);
    }
    // A request that does not parse: malformedRequest (RFC 6960 §2.3), still HTTP 200.
    const junk = await app.request('/v1/ca/ocsp', { method: 'POST', body: 'junk' });
    expect(new Uint8Array(await junk.arrayBuffer())).toEqual(new Uint8Array([0x30, 0x03, 0x0a, 0x01, 0x01]));
    expect(await (await app.request('/v1/ca/chain')).text()).toBe(f.ca.chainPem());
    const one = await (await app.request(`/v1/ca/certs/${c.serial}`)).json();
    expect(one).toMatchObject({ serial: c.serial, agent: NAME, issuedIndex: c.write.index, revocation: null });
    expect((await app.request('/v1/ca/certs/00')).status).toBe(404);
    expect((await app.request('/v1/verify/cert', { method: 'POST', body: '{"certificate":"nope"}' })).status).toBe(400);
    expect((await app.request('/v1/ca/crl?issuer=x')).status).toBe(400);
    expect((await app.request('/v1/ca/crl', { method: 'POST' })).status).toBe(405);
  });

  it('GET /v1/ca/ocsp/<bad percent-escape> is a 400 naming the escape, not a 500 (the parameter was decoded twice)', async () => {
    const app = createCaApp(f.ca, { logError: () => undefined });
    for (const bad of ['%', '%E0%A4%A', 'MEIw%zz', '%FF%FE']) {
      const res = await app.request(`/v1/ca/ocsp/${bad}`);
      expect(res.status, bad).toBe(400);
      expect((await res.json()).error).toMatchObject({ code: 'CA_BAD_REQUEST', message: expect.stringMatching(/percent-escape/) });
    }
    // A literal '%' sent as %25 is one decode away from the base64 text: not an escape error.
    expect((await app.request('/v1/ca/ocsp/%2525')).status).toBe(200);
  });
});

describe('CaIndex', () => {
  it('concurrent catch-ups fold each leaf once', async () => {
    const c = await f.ca.issue(NAME, await f.ca.prepareCsr(makeCsr(f.dir, 'cc').csr));
    const { CaIndex } = await import('../../src/ca/ca-index.js');
    const idx = new CaIndex(f.registry);
    await Promise.all([idx.catchUp(), idx.catchUp(), idx.catchUp()]);
    expect(idx.agentCerts(NAME).map((x) => x.serial)).toEqual([c.serial]);
    expect(idx.nextIndex).toBe(f.registry.index.nextIndex);
  });
});
