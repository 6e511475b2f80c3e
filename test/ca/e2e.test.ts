// The CA walk-through (README 'Agent certificates') as a test against a
// real `tilelog serve --registry --registry-ca`: register with a CSR ->
// verify the certificate -> rotate -> verify the new one and the old one
// (superseded) -> revoke -> verify fails "revoked"; openssl verify, openssl
// ocsp against the running responder and the CRL agree at each step; a
// mutual-TLS handshake between two Node processes with issued certificates
// is accepted before revocation and refused after with OpenSSL's
// CERT_REVOKED (the server fetches the CRLs on every connection); every log entry verifies offline (verifyBundle,
// pinned log and submitter keys).
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyCertEntry } from '../../src/ca/verify-offline.js';
import { verifyBundle } from '../../src/client/index.js';
import { callApi, runCli, startServe, tempDir, type ServeHandle } from '../cli/helpers.js';
import { makeCsr, OPENSSL, writeFile } from './helpers.js';

const run = promisify(execFile);
const A = 'ans://v1.0.0.order-bot.acme.example';
const B = 'ans://v1.0.0.stock-bot.acme.example';
const FIXTURES = path.join(import.meta.dirname, 'fixtures');

let serve: ServeHandle;
let dir: string;
let apiKey: string;
let policy: { log: { logKey: string; origin: string }; submitterKeys: Record<string, string> };

beforeAll(async () => {
  dir = tempDir('tilelog-ca-e2e-');
  const state = path.join(dir, 'state');
  apiKey = (await runCli(['registry', 'apikey', '--state', state, '--owner', 'acme'])).stdout.trim();
  serve = await startServe([
    '--state', state, '--tiles', path.join(dir, 'tiles'), '--listen', '127.0.0.1:0', '--origin', 'ca.test/log',
    '--registry', '--no-registry-dns-validation', '--registry-ca', '--registry-ca-validity-seconds', '3600',
  ]);
  const reg = await (await fetch(`${serve.url}/v1/registry`)).json();
  policy = { log: { logKey: serve.verifierKey, origin: serve.origin }, submitterKeys: Object.fromEntries(reg.submitterKeys.map((k: { kid: string; publicKey: string }) => [k.kid, k.publicKey])) };
});

afterAll(async () => {
  await serve?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const call = (method: string, p: string, body?: unknown) => callApi(serve.url, apiKey, method, p, body);

const der = (pem: string) => new Uint8Array(Buffer.from(pem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64'));
const verify = async (pem: string) => {
  const r = await call('POST', '/v1/verify/cert', { certificate: pem });
  expect(r.status).toBe(200);
  // The issuance entry (and the revocation, if any) verify offline.
  if (r.json.bundle !== undefined) verifyCertEntry(r.json.bundle, policy, { der: der(pem) });
  if (r.json.revocationBundle !== undefined) expect(verifyCertEntry(r.json.revocationBundle, policy).entry.type).toBe('cert.revoked');
  return r.json;
};

async function ocsp(certPem: string): Promise<string> {
  const chain = writeFile(dir, 'chain.pem', await (await fetch(`${serve.url}/v1/ca/chain`)).text());
  const inter = writeFile(dir, 'inter.pem', (await (await fetch(`${serve.url}/v1/ca/chain`)).text()).split(/(?<=-----END CERTIFICATE-----\n)/)[0]!);
  const r = await run(OPENSSL, ['ocsp', '-issuer', inter, '-cert', writeFile(dir, 'ocsp-q.pem', certPem), '-url', `${serve.url}/v1/ca/ocsp`, '-CAfile', chain]);
  expect(r.stderr).toMatch(/Response verify OK/);
  return r.stdout;
}

async function crlText(): Promise<string> {
  const f = writeFile(dir, 'crl.der', await (await fetch(`${serve.url}/v1/ca/crl`)).bytes());
  const chain = writeFile(dir, 'chain.pem', await (await fetch(`${serve.url}/v1/ca/chain`)).text());
  const r = await run(OPENSSL, ['crl', '-inform', 'DER', '-in', f, '-CAfile', chain, '-noout', '-text', '-verify']);
  expect(r.stderr + r.stdout).toMatch(/verify OK/);
  return r.stdout.toUpperCase();
}

/** Files for one agent's TLS identity: key, leaf + intermediate, root. */
function identity(name: string, keyFile: string, answer: { pem: string; chain: string }) {
  const [inter, root] = answer.chain.split(/(?<=-----END CERTIFICATE-----\n)/).map((s) => s.trim() + '\n');
  return { key: keyFile, cert: writeFile(dir, `${name}.chain.pem`, answer.pem + inter), root: writeFile(dir, 'root.pem', root!) };
}

function startTlsServer(id: { key: string; cert: string; root: string }): Promise<{ port: number; refusals: () => string[]; stop(): void }> {
  const child = spawn(process.execPath, [path.join(FIXTURES, 'mtls-server.mjs'), id.key, id.cert, id.root, serve.url], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const refusals = () => out.split('\n').filter((l) => l.includes('refused')).map((l) => JSON.parse(l).refused as string);
  return new Promise((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      const first = out === '';
      out += d;
      if (first) resolve({ port: JSON.parse(out.split('\n')[0]!).port, refusals, stop: () => child.kill() });
    });
    child.once('exit', (code) => reject(new Error(`mtls server exited ${code}`)));
  });
}

async function tlsClient(id: { key: string; cert: string; root: string }, port: number, host: string): Promise<{ ok: boolean; line?: string; error?: string }> {
  const r = await run(process.execPath, [path.join(FIXTURES, 'mtls-client.mjs'), id.key, id.cert, id.root, String(port), host]).catch((e) => e);
  return JSON.parse(String(r.stdout).trim());
}

describe('CA walk-through against tilelog serve --registry --registry-ca', () => {
  it('register -> verify -> rotate -> verify new and old -> revoke -> verify revoked; OCSP, CRL, openssl and mutual TLS agree', async () => {
    // Register A and B, each with a CSR (Ed25519: the CSR key is the agent key).
    const csrA1 = makeCsr(dir, 'a1');
    let r = await call('POST', '/v1/agents?wait=checkpoint', { name: A, endpoints: [{ protocol: 'A2A', url: 'https://order-bot.acme.example/a2a' }], csr: csrA1.csr });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ type: 'agent.registered', certificate: { serial: expect.any(String), index: r.json.index + 1 } });
    expect(verifyBundle(JSON.stringify(r.json.bundle), policy.log).index).toBe(r.json.index);
    const a1 = r.json.certificate;
    expect(verifyCertEntry(a1.bundle, policy, { der: der(a1.pem) }).entry.type).toBe('cert.issued');
    const b = makeCsr(dir, 'b');
    const rb = await call('POST', '/v1/agents', { name: B, endpoints: [{ protocol: 'A2A', url: 'https://stock-bot.acme.example/a2a' }], csr: b.csr });
    expect(rb.status).toBe(201);

    // Verify A's certificate: accepted, logged; openssl agrees; OCSP good.
    expect(await verify(a1.pem)).toMatchObject({ valid: true, reason: null, agent: A, issuedIndex: a1.index, revocation: null });
    const idA1 = identity('a1', csrA1.keyFile, a1);
    expect((await run(OPENSSL, ['verify', '-CAfile', idA1.root, '-untrusted', writeFile(dir, 'i.pem', a1.chain), writeFile(dir, 'a1.pem', a1.pem)])).stdout).toContain(': OK');
    expect(await ocsp(a1.pem)).toMatch(/: good/);

    // Mutual TLS: B serves, A connects with its certificate: accepted.
    const server = await startTlsServer(identity('b', b.keyFile, rb.json.certificate));
    try {
      const ok = await tlsClient(idA1, server.port, 'stock-bot.acme.example');
      expect(ok).toMatchObject({ ok: true, line: `hello URI:${A}, DNS:order-bot.acme.example` });

      // Rotate A with a new CSR: agent.renewed + a new certificate; the old one is superseded.
      const csrA2 = makeCsr(dir, 'a2');
      r = await call('POST', `/v1/agents/${encodeURIComponent(A)}/rotate?wait=checkpoint`, { csr: csrA2.csr });
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({ type: 'agent.renewed', certificate: { superseded: [a1.serial] } });
      verifyBundle(JSON.stringify(r.json.bundle), policy.log);
      const a2 = r.json.certificate;
      expect(await verify(a2.pem)).toMatchObject({ valid: true });
      const old = await verify(a1.pem);
      expect(old).toMatchObject({ valid: false, reason: 'revoked', revocation: { reason: 'superseded' } });
      expect(await ocsp(a1.pem)).toMatch(/: revoked[\s\S]*Reason: superseded/);
      expect(await ocsp(a2.pem)).toMatch(/: good/);
      expect(await crlText()).toContain(a1.serial.toUpperCase());

      const idA2 = identity('a2', csrA2.keyFile, a2);
      expect((await tlsClient(idA2, server.port, 'stock-bot.acme.example')).ok).toBe(true);
      const refusedOld = await tlsClient(idA1, server.port, 'stock-bot.acme.example');
      expect(refusedOld).toEqual({ ok: false, error: 'refused CERT_REVOKED' });
      await expect.poll(() => server.refusals()).toEqual(['CERT_REVOKED']);

      // Revoke A: its current certificate is revoked too.
      r = await call('POST', `/v1/agents/${encodeURIComponent(A)}/revoke?wait=checkpoint`, { reason: 'keyCompromise' });
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({ type: 'agent.revoked', certificatesRevoked: [a2.serial] });
      verifyBundle(JSON.stringify(r.json.bundle), policy.log);
      const revoked = await verify(a2.pem);
      expect(revoked).toMatchObject({ valid: false, reason: 'revoked', revocation: { reason: 'keyCompromise' } });
      expect(await ocsp(a2.pem)).toMatch(/: revoked[\s\S]*Reason: keyCompromise/);
      const crl = await crlText();
      expect(crl).toContain(a1.serial.toUpperCase());
      expect(crl).toContain(a2.serial.toUpperCase());
      expect(crl).toMatch(/KEY COMPROMISE/);
      const refused = await tlsClient(idA2, server.port, 'stock-bot.acme.example');
      expect(refused).toEqual({ ok: false, error: 'refused CERT_REVOKED' });
      await expect.poll(() => server.refusals()).toEqual(['CERT_REVOKED', 'CERT_REVOKED']);
      // B is untouched.
      expect(await verify(rb.json.certificate.pem)).toMatchObject({ valid: true });
    } finally {
      server.stop();
    }
  });

  it('refuses a CSR whose signature does not verify (400) and writes nothing; a certificate from elsewhere is an unknown issuer', async () => {
    const before = (await (await fetch(`${serve.url}/checkpoint`)).text()).split('\n')[1];
    const { csr } = makeCsr(dir, 'bad');
    const bytes = der(csr);
    bytes[bytes.length - 3]! ^= 1;
    const pem = `-----BEGIN CERTIFICATE REQUEST-----\n${Buffer.from(bytes).toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    const r = await call('POST', '/v1/agents', { name: 'ans://v1.0.0.bad.acme.example', endpoints: [{ protocol: 'A2A', url: 'https://bad.acme.example/' }], csr: pem });
    expect(r.status).toBe(400);
    expect(r.json.error.message).toMatch(/proof of possession/);
    expect((await (await fetch(`${serve.url}/checkpoint`)).text()).split('\n')[1]).toBe(before);
    const self = (await run(OPENSSL, ['req', '-x509', '-newkey', 'ed25519', '-nodes', '-keyout', path.join(dir, 'x.key'), '-subj', '/CN=x', '-days', '1'])).stdout;
    expect(await verify(self)).toMatchObject({ valid: false, reason: 'unknown-issuer' });
  });
});
