// Rotating the intermediate against a real `tilelog serve --registry
// --registry-ca`, driven by `tilelog ca rotate`, checked with openssl:
// certificates issued under intermediate A and, after the rotation, under B
// all verify against the root; one revoked under each appears in its own
// intermediate's CRL only (openssl crl -verify, serials, openssl verify
// -crl_check with both CRLs); OCSP answers good/revoked for both and the
// responses verify with openssl ocsp; /v1/verify/cert and the offline
// verifier accept both issuers. The server is restarted and every check
// runs again. Bad input: rotation without a key (401), with a registry API
// key (403), two at once (one 200, one 409).
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyCertEntry } from '../../src/ca/verify-offline.js';
import { callApi, runCli, startServe, tempDir, type ServeHandle } from '../cli/helpers.js';
import { makeCsr, OPENSSL, writeFile } from './helpers.js';

const run = promisify(execFile);
let dir: string;
let state: string;
let serveArgs: string[];
let serve: ServeHandle;
let apiKey: string;
let adminKey: string;
let policy: { log: { logKey: string; origin: string }; submitterKeys: Record<string, string> };

beforeAll(async () => {
  dir = tempDir('tilelog-ca-rotate-');
  state = path.join(dir, 'state');
  apiKey = (await runCli(['registry', 'apikey', '--state', state, '--owner', 'acme'])).stdout.trim();
  const made = await runCli(['ca', 'adminkey', '--state', state, '--owner', 'ops']);
  expect(made.code, made.stderr).toBe(0);
  adminKey = made.stdout.trim();
  serveArgs = [
    '--state', state, '--tiles', path.join(dir, 'tiles'), '--listen', '127.0.0.1:0', '--origin', 'ca-rotate.test/log',
    '--registry', '--no-registry-dns-validation', '--registry-ca', '--registry-ca-validity-seconds', '3600',
  ];
  serve = await startServe(serveArgs);
  const reg = await (await fetch(`${serve.url}/v1/registry`)).json();
  policy = { log: { logKey: serve.verifierKey, origin: serve.origin }, submitterKeys: Object.fromEntries(reg.submitterKeys.map((k: { kid: string; publicKey: string }) => [k.kid, k.publicKey])) };
});

afterAll(async () => {
  await serve?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const call = (method: string, p: string, body?: unknown, key = apiKey) => callApi(serve.url, key, method, p, body);
const der = (pem: string) => new Uint8Array(Buffer.from(pem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64'));
const pems = (text: string) => text.split(/(?<=-----END CERTIFICATE-----\n)/).map((s) => s.trim() + '\n').filter((s) => s.includes('BEGIN'));

interface Issued {
  name: string;
  pem: string;
  serial: string;
  /** The intermediate (PEM) from the issuance answer's chain. */
  inter: string;
}

async function register(label: string): Promise<Issued> {
  const name = `ans://v1.0.0.${label}.acme.example`;
  const r = await call('POST', '/v1/agents', { name, endpoints: [{ protocol: 'A2A', url: `https://${label}.acme.example/` }], csr: makeCsr(dir, label).csr });
  expect(r.status, JSON.stringify(r.json)).toBe(201);
  return { name, pem: r.json.certificate.pem, serial: r.json.certificate.serial, inter: pems(r.json.certificate.chain)[0]! };
}

async function intermediates(): Promise<{ keyHash: string; status: string; pem: string; certificatesIssued: number }[]> {
  return (await (await fetch(`${serve.url}/v1/ca/intermediates`)).json()).intermediates;
}

const rootPem = async () => pems(await (await fetch(`${serve.url}/v1/ca/chain`)).text()).at(-1)!;

/** Fetches an intermediate's CRL, checks its signature with openssl, returns its text (upper case) and file. */
async function crl(keyHash: string, interPem: string): Promise<{ text: string; file: string }> {
  const res = await fetch(`${serve.url}/v1/ca/crl?issuer=${keyHash}&format=pem`);
  expect(res.status).toBe(200);
  const file = writeFile(dir, `crl-${keyHash.slice(0, 8)}.pem`, await res.text());
  const ca = writeFile(dir, `crl-ca-${keyHash.slice(0, 8)}.pem`, interPem + (await rootPem()));
  const r = await run(OPENSSL, ['crl', '-in', file, '-CAfile', ca, '-noout', '-text', '-verify']);
  expect(r.stderr + r.stdout).toMatch(/verify OK/);
  return { text: r.stdout.toUpperCase(), file };
}

async function ocsp(c: Issued): Promise<string> {
  const ca = writeFile(dir, 'ocsp-ca.pem', c.inter + (await rootPem()));
  const r = await run(OPENSSL, ['ocsp', '-issuer', writeFile(dir, 'ocsp-issuer.pem', c.inter), '-cert', writeFile(dir, 'ocsp-q.pem', c.pem), '-url', `${serve.url}/v1/ca/ocsp`, '-CAfile', ca]);
  expect(r.stderr).toMatch(/Response verify OK/);
  return r.stdout;
}

/** openssl verify of a leaf against the root, with both intermediates offered and the given CRLs checked. */
async function opensslVerify(c: Issued, crls: string[]): Promise<string> {
  const untrusted = writeFile(dir, 'untrusted.pem', (await intermediates()).map((i) => i.pem).join(''));
  const args = ['verify', '-CAfile', writeFile(dir, 'root.pem', await rootPem()), '-untrusted', untrusted];
  if (crls.length > 0) args.push('-crl_check', ...crls.flatMap((f) => ['-CRLfile', f]));
  const r = await run(OPENSSL, [...args, writeFile(dir, 'leaf.pem', c.pem)]).catch((e: { stdout: string; stderr: string }) => e);
  return `${r.stdout}${r.stderr}`;
}

async function verifyCert(c: Issued) {
  const r = await call('POST', '/v1/verify/cert', { certificate: c.pem });
  expect(r.status).toBe(200);
  if (r.json.bundle === undefined) return r.json;
  // The offline verifier follows the rotation: the issuance entry verifies with pinned keys, for either issuer.
  const v = verifyCertEntry(r.json.bundle, policy, { der: der(c.pem) });
  return { ...r.json, issuerKeyHash: Buffer.from((v.entry.body as { issuerKeyHash: Uint8Array }).issuerKeyHash).toString('hex') };
}

describe('rotating the intermediate with tilelog ca rotate', () => {
  it('old and new intermediates: certificates under each verify, are revoked, listed in the right CRL and answered by OCSP, before and after a restart', async () => {
    // Under A.
    const goodA = await register('good-a');
    const revA = await register('rev-a');
    const [a] = await intermediates();
    expect(a).toMatchObject({ status: 'issuing', certificatesIssued: 2 });

    // Rotate through the CLI.
    const rotated = await runCli(['ca', 'rotate', '--url', serve.url, '--json'], { env: { TILELOG_CA_ADMIN_KEY: adminKey } });
    expect(rotated.code, rotated.stderr).toBe(0);
    const answer = JSON.parse(rotated.stdout);
    expect(answer.retired).toMatchObject({ keyHash: a!.keyHash, status: 'retired' });
    expect(answer.added).toMatchObject({ status: 'issuing' });
    expect(answer.retiredIndex).toBeGreaterThan(answer.addedIndex);
    const b = answer.added as { keyHash: string; pem: string; subject: string };
    expect(b.subject).not.toBe(answer.retired.subject);
    expect(fs.existsSync(path.join(state, 'ca-intermediate-2.key'))).toBe(true);
    expect(fs.statSync(path.join(state, 'ca-intermediate-2.key')).mode & 0o777).toBe(0o600);

    // Under B; the chain served by default is B's now.
    const goodB = await register('good-b');
    const revB = await register('rev-b');
    expect(goodB.inter).toBe(b.pem);
    expect(goodA.inter).toBe(a!.pem);
    expect(pems(await (await fetch(`${serve.url}/v1/ca/chain`)).text())[0]).toBe(b.pem);

    // Revoke one under each (revoking the agent revokes its certificate).
    for (const c of [revA, revB]) {
      const r = await call('POST', `/v1/agents/${encodeURIComponent(c.name)}/revoke`, { reason: 'keyCompromise' });
      expect(r.status).toBe(200);
      expect(r.json.certificatesRevoked).toEqual([c.serial]);
    }

    const checkAll = async () => {
      const list = await intermediates();
      expect(list.map((i) => [i.keyHash, i.status])).toEqual([[a!.keyHash, 'retired'], [b.keyHash, 'issuing']]);
      // Each CRL is signed by its intermediate and lists only what that intermediate issued.
      const crlA = await crl(a!.keyHash, a!.pem);
      const crlB = await crl(b.keyHash, b.pem);
      expect(crlA.text).toContain(revA.serial.toUpperCase());
      expect(crlA.text).not.toContain(revB.serial.toUpperCase());
      expect(crlB.text).toContain(revB.serial.toUpperCase());
      expect(crlB.text).not.toContain(revA.serial.toUpperCase());
      // The default CRL is the issuing intermediate's.
      const dflt = writeFile(dir, 'crl-default.der', await (await fetch(`${serve.url}/v1/ca/crl`)).bytes());
      expect((await run(OPENSSL, ['crl', '-inform', 'DER', '-in', dflt, '-noout', '-text'])).stdout.toUpperCase()).toContain(revB.serial.toUpperCase());
      // openssl: every certificate chains to the root; with both CRLs, the revoked ones are refused.
      for (const c of [goodA, revA, goodB, revB]) expect(await opensslVerify(c, [])).toContain(': OK');
      for (const c of [goodA, goodB]) expect(await opensslVerify(c, [crlA.file, crlB.file])).toContain(': OK');
      for (const c of [revA, revB]) expect(await opensslVerify(c, [crlA.file, crlB.file])).toMatch(/certificate revoked/);
      // OCSP, each response signed by the certificate's own intermediate.
      expect(await ocsp(goodA)).toMatch(/: good/);
      expect(await ocsp(goodB)).toMatch(/: good/);
      expect(await ocsp(revA)).toMatch(/: revoked[\s\S]*Reason: keyCompromise/);
      expect(await ocsp(revB)).toMatch(/: revoked[\s\S]*Reason: keyCompromise/);
      // /v1/verify/cert and the offline verifier.
      expect(await verifyCert(goodA)).toMatchObject({ valid: true, issuerKeyHash: a!.keyHash });
      expect(await verifyCert(goodB)).toMatchObject({ valid: true, issuerKeyHash: b.keyHash });
      expect(await verifyCert(revA)).toMatchObject({ valid: false, reason: 'revoked', issuerKeyHash: a!.keyHash });
      expect(await verifyCert(revB)).toMatchObject({ valid: false, reason: 'revoked', issuerKeyHash: b.keyHash });
    };
    await checkAll();

    // Restart: the CA is rebuilt from the log and the files, and answers the same; it still issues under B.
    const stopped = await serve.stop();
    expect(stopped.code).toBe(0);
    serve = await startServe(serveArgs);
    await checkAll();
    const after = await register('after-restart');
    expect(after.inter).toBe(b.pem);
    expect(await verifyCert(after)).toMatchObject({ valid: true, issuerKeyHash: b.keyHash });
  });

  it('refuses a rotation without an admin key (401) or with a registry API key (403); two at once: one rotates, the other gets 409', async () => {
    const before = (await intermediates()).length;
    const rotate = (key: string | null) =>
      fetch(`${serve.url}/v1/ca/rotate`, { method: 'POST', headers: key === null ? {} : { Authorization: `Bearer ${key}` } }).then(async (r) => ({ status: r.status, json: await r.json() }));
    expect(await rotate(null)).toMatchObject({ status: 401, json: { error: { code: 'CA_UNAUTHORIZED' } } });
    expect(await rotate('tlk_not-a-key')).toMatchObject({ status: 401, json: { error: { code: 'CA_UNAUTHORIZED' } } });
    expect(await rotate(apiKey)).toMatchObject({ status: 403, json: { error: { code: 'CA_FORBIDDEN' } } });
    const cli = await runCli(['ca', 'rotate', '--url', serve.url], { env: { TILELOG_CA_ADMIN_KEY: apiKey } });
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/refused the rotation \(403\).*CA admin key/);
    const noKey = await runCli(['ca', 'rotate', '--url', serve.url], { env: { TILELOG_CA_ADMIN_KEY: '' } });
    expect(noKey.code).toBe(2);
    expect((await intermediates()).length).toBe(before);

    const both = await Promise.all([rotate(adminKey), rotate(adminKey)]);
    expect(both.map((r) => r.status).sort()).toEqual([200, 409]);
    expect(both.find((r) => r.status === 409)!.json.error).toMatchObject({ code: 'CA_ROTATION_CONFLICT', message: expect.stringMatching(/already running/) });
    const list = await intermediates();
    expect(list).toHaveLength(before + 1);
    expect(list.filter((i) => i.status === 'issuing')).toHaveLength(1);
    expect(list.at(-1)!.status).toBe('issuing');
  });
});
