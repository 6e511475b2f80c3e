// The registry and the CA on a log in PostgreSQL: two real `tilelog serve
// --db --registry --registry-ca` processes on one database and one bucket of
// the S3 test server, A a signer candidate, B a frontend (no log key: it signs
// registry entries with the registry key copied into its state, never a
// checkpoint). Registrations through either resolve through the other once
// published, verified offline with the SDK and pinned keys; a certificate
// issued through A verifies through B, and B's revocation of the agent shows
// through A; `registry reindex --db` rebuilds the same index; a process with
// a registry key of its own is refused with what to copy. The intermediate
// rotated through A: B follows the log and refuses to issue (503, naming the
// files) until A's new ca-intermediate-2 files are copied into its state,
// then issues under the new intermediate without a restart.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { verifyCertEntry } from '../../src/ca/verify-offline.js';
import { toBase64 } from '../../src/merkle/index.js';
import { verifyResolution } from '../../src/registry/verify.js';
import { makeCsr } from '../ca/helpers.js';
import { agentKey } from '../registry/helpers.js';
import { describePg, freshDatabase, sharedCluster } from '../support/postgres.js';
import { startS3TestServer, type S3TestServer } from '../support/s3-server.js';
import { callApi, runCli, startServe, tempDir, type ServeHandle } from './helpers.js';

const BUCKET = 'pgregistry';
const ORIGIN = 'pg-registry.test.example/log';
const CREDS = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' };
const AGENT_A = 'ans://v1.0.0.order-bot.acme.example';
const AGENT_B = 'ans://v1.0.0.stock-bot.acme.example';
/** The files every process of the log shares: registry key, DNS token secret, API keys, CA keys. */
const SHARED = /^(registry\.key|registry\.secret|registry-api-keys|ca-.*\.(key|crt))$/;

let s3: S3TestServer;
let dir: string;
let dbUrl: string;
let keyFile: string;
let vkey: string;
let apiKey: string;
const running: ServeHandle[] = [];
let procA: ServeHandle;
let procB: ServeHandle;
let stateB: string;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function serveArgs(state: string, identity: string[]): string[] {
  return [
    '--db', dbUrl, '--state', state, ...identity, '--tiles', `s3://${BUCKET}/log`, '--s3-endpoint', s3.url, '--s3-force-path-style',
    '--listen', '127.0.0.1:0', '--lease-ttl-ms', '1500', '--lease-renew-ms', '400', '--lease-margin-ms', '300',
    '--registry', '--no-registry-dns-validation', '--registry-ca', '--registry-ca-validity-seconds', '3600',
  ];
}

async function serve(state: string, identity: string[]): Promise<ServeHandle> {
  const h = await startServe(serveArgs(state, identity), { env: CREDS });
  running.push(h);
  return h;
}

/** GET until the answer is 200 (a process that did not take the write learns of its checkpoint within a poll). */
async function getWhenPublished(url: string, p: string): Promise<any> {
  const until = Date.now() + 30_000;
  for (;;) {
    const r = await callApi(url, apiKey, 'GET', p);
    if (r.status === 200) return r.json;
    expect(r.status, JSON.stringify(r.json)).toBe(404);
    if (Date.now() > until) throw new Error(`${url}${p} still 404 after 30 s`);
    await sleep(100);
  }
}

const der = (pem: string) => new Uint8Array(Buffer.from(pem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64'));

describePg('registry and CA on a PostgreSQL log: two processes, one a frontend', () => {
  beforeAll(async () => {
    s3 = await startS3TestServer({ port: 0, buckets: [BUCKET], publicRead: true });
    dir = tempDir('tilelog-pg-registry-');
    dbUrl = await freshDatabase(await sharedCluster(), 'pgregistry');
    keyFile = path.join(dir, 'log.key');
    const kg = await runCli(['keygen', '--origin', ORIGIN, '--out', keyFile]);
    expect(kg.code, kg.stderr).toBe(0);
    vkey = kg.stdout.trim();
    const made = await runCli(['registry', 'apikey', '--state', path.join(dir, 'a'), '--owner', 'acme']);
    expect(made.code, made.stderr).toBe(0);
    apiKey = made.stdout.trim();
  });

  afterAll(async () => {
    for (const h of running.splice(0)) await h.stop('SIGKILL').catch(() => undefined);
    await s3?.close();
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('register through either, resolve and verify certificates through the other; reindex --db agrees', async () => {
    const a = await serve(path.join(dir, 'a'), ['--key', keyFile]);
    // B: a frontend with A's registry and CA files (copied, as the log key would be to another candidate).
    stateB = path.join(dir, 'b');
    fs.mkdirSync(stateB, { mode: 0o700 });
    const shared = fs.readdirSync(path.join(dir, 'a')).filter((f) => SHARED.test(f));
    expect(shared).toEqual(expect.arrayContaining(['registry.key', 'registry-api-keys', 'ca-root.key', 'ca-intermediate.key']));
    for (const f of shared) fs.copyFileSync(path.join(dir, 'a', f), path.join(stateB, f));
    const b = await serve(stateB, ['--role', 'frontend', '--log-key', vkey]);
    expect(fs.existsSync(path.join(stateB, 'log.key'))).toBe(false);
    [procA, procB] = [a, b];

    const infoA = await getWhenPublished(a.url, '/v1/registry');
    const infoB = await getWhenPublished(b.url, '/v1/registry');
    expect(infoB.submitterKeys).toEqual(infoA.submitterKeys);
    expect(infoA.submitterKeys).toHaveLength(1);
    const policy = {
      log: { origin: ORIGIN, logKey: vkey },
      submitterKeys: Object.fromEntries(infoA.submitterKeys.map((k: { kid: string; publicKey: string }) => [k.kid, k.publicKey])),
    };

    // Register through A with a CSR: the certificate is logged before it is returned.
    const csr = makeCsr(dir, 'order-bot').csr;
    const regA = await callApi(a.url, apiKey, 'POST', '/v1/agents?wait=checkpoint', {
      name: AGENT_A,
      endpoints: [{ protocol: 'A2A', url: 'https://order-bot.acme.example/a2a' }],
      csr,
    });
    expect(regA.status, JSON.stringify(regA.json)).toBe(201);
    const pem: string = regA.json.certificate.pem;

    // Resolve through B (which sequenced nothing of it), verified offline.
    const resolvedB = await getWhenPublished(b.url, `/v1/resolve/${encodeURIComponent(AGENT_A)}`);
    const vB = verifyResolution(resolvedB, AGENT_A, policy);
    expect(vB.record).toMatchObject({ name: AGENT_A, status: 'active', owner: 'acme' });
    expect(vB.bundle.index).toBe(regA.json.index);

    // The certificate verifies through B: issued by the same CA, logged, current.
    const checkB = await callApi(b.url, apiKey, 'POST', '/v1/verify/cert', { certificate: pem });
    expect(checkB.status).toBe(200);
    expect(checkB.json).toMatchObject({ valid: true, reason: null });
    expect(verifyCertEntry(checkB.json.bundle, policy, { der: der(pem) }).entry.type).toBe('cert.issued');

    // Register through B, the frontend: it signs the registry entry, the leader the checkpoint.
    const regB = await callApi(b.url, apiKey, 'POST', '/v1/agents?wait=checkpoint', {
      name: AGENT_B,
      endpoints: [{ protocol: 'A2A', url: 'https://stock-bot.acme.example/a2a' }],
      publicKey: toBase64(agentKey(7)),
    });
    expect(regB.status, JSON.stringify(regB.json)).toBe(201);
    const vA = verifyResolution(await getWhenPublished(a.url, `/v1/resolve/${encodeURIComponent(AGENT_B)}`), AGENT_B, policy);
    expect(vA.record).toMatchObject({ name: AGENT_B, status: 'active', publicKey: toBase64(agentKey(7)) });

    // Revoke agent A through B: its certificate is revoked with it, and A says so.
    const revoked = await callApi(b.url, apiKey, 'POST', `/v1/agents/${encodeURIComponent(AGENT_A)}/revoke?wait=checkpoint`, { reason: 'keyCompromise' });
    expect(revoked.status, JSON.stringify(revoked.json)).toBe(200);
    expect(revoked.json.certificatesRevoked).toHaveLength(1);
    const until = Date.now() + 30_000;
    let checkA = await callApi(a.url, apiKey, 'POST', '/v1/verify/cert', { certificate: pem });
    while (checkA.json.valid === true && Date.now() < until) {
      await sleep(100);
      checkA = await callApi(a.url, apiKey, 'POST', '/v1/verify/cert', { certificate: pem });
    }
    expect(checkA.json).toMatchObject({ valid: false, reason: 'revoked' });
    expect(verifyResolution(await getWhenPublished(a.url, `/v1/resolve/${encodeURIComponent(AGENT_A)}`), AGENT_A, policy).record.status).toBe('revoked');

    // reindex --db from the published entries: the same agents and key as the servers' indexes.
    const re = await runCli(['registry', 'reindex', '--state', path.join(dir, 'reindexed'), '--db', dbUrl, '--origin', ORIGIN, '--json']);
    expect(re.code, re.stderr).toBe(0);
    const listed = (await callApi(a.url, apiKey, 'GET', '/v1/agents')).json;
    expect(JSON.parse(re.stdout)).toMatchObject({ origin: ORIGIN, agents: 2, keys: 1, skipped: 0 });
    expect(listed.agents.map((x: { name: string }) => x.name).sort()).toEqual([AGENT_A, AGENT_B].sort());
  }, 120_000);

  test('a process with a registry key of its own is refused, and told what to copy', async () => {
    const stateC = path.join(dir, 'c');
    const r = await runCli(['serve', '--json', ...serveArgs(stateC, ['--role', 'frontend', '--log-key', vkey])], { env: CREDS, timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/submitter key \S+ is not in the log.*copy registry\.key \(and registry\.secret\) from the state dir of a process whose registry runs into/);
  }, 90_000);

  test('rotating the intermediate through A: B refuses to issue until the new files are copied, then issues under the new intermediate', async () => {
    const made = await runCli(['ca', 'adminkey', '--state', path.join(dir, 'a'), '--owner', 'ops']);
    expect(made.code, made.stderr).toBe(0);
    const admin = made.stdout.trim();
    // A re-reads its admin keys within about a second.
    let rot = await callApi(procA.url, admin, 'POST', '/v1/ca/rotate');
    for (const until = Date.now() + 10_000; rot.status === 401 && Date.now() < until; ) {
      await sleep(200);
      rot = await callApi(procA.url, admin, 'POST', '/v1/ca/rotate');
    }
    expect(rot.status, JSON.stringify(rot.json)).toBe(200);
    const added: string = rot.json.added.keyHash;

    const register = (label: string) =>
      callApi(procB.url, apiKey, 'POST', '/v1/agents', { name: `ans://v1.0.0.${label}.acme.example`, endpoints: [{ protocol: 'A2A', url: `https://${label}.acme.example/` }], csr: makeCsr(dir, label).csr });
    // B learns of the rotation from the log (within a poll), and refuses before writing anything.
    let r = await register('early-bot');
    for (const until = Date.now() + 30_000; r.status === 201 && Date.now() < until; r = await register(`early-bot-${Date.now()}`)) await sleep(200);
    expect(r.status, JSON.stringify(r.json)).toBe(503);
    expect(r.json.error).toMatchObject({ code: 'CA_KEY_UNAVAILABLE', message: expect.stringMatching(/copy its ca-intermediate-<n>\.key and \.crt/) });

    for (const ext of ['key', 'crt']) fs.copyFileSync(path.join(dir, 'a', `ca-intermediate-2.${ext}`), path.join(stateB, `ca-intermediate-2.${ext}`));
    const ok = await register('late-bot');
    expect(ok.status, JSON.stringify(ok.json)).toBe(201);
    const chain: string = ok.json.certificate.chain;
    expect(chain.startsWith(rot.json.added.pem.trim())).toBe(true);
    const checkA = await getWhenVerified(procA.url, ok.json.certificate.pem);
    expect(checkA).toMatchObject({ valid: true });
    const list = (await callApi(procB.url, apiKey, 'GET', '/v1/ca/intermediates')).json.intermediates;
    expect(list.map((i: { keyHash: string; status: string; keyHere: boolean }) => [i.status, i.keyHere])).toEqual([['retired', true], ['issuing', true]]);
    expect(list[1].keyHash).toBe(added);
  }, 120_000);
});

/** POST /v1/verify/cert until the issuance is published there (never-logged before). */
async function getWhenVerified(url: string, pem: string): Promise<any> {
  const until = Date.now() + 30_000;
  for (;;) {
    const r = await callApi(url, apiKey, 'POST', '/v1/verify/cert', { certificate: pem });
    if (r.json.reason !== 'never-logged' || Date.now() > until) return r.json;
    await sleep(100);
  }
}
