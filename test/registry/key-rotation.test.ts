// Registry submitter key rotation end to end, against a real `tilelog serve
// --registry`: register under the first key; `tilelog registry rotate-key`
// and a restart rotate (key.added by the old key, key.revoked of it by the
// new one); register and renew under the new key. Then:
//   - an offline verifier that pinned only the first key follows the key
//     chain (GET /v1/registry/keys) and verifies answers signed by both keys;
//   - an entry forged with the retired key, sent through the raw POST /add,
//     is ignored by the index, refused by the verifier and reported by a
//     monitor that followed the rotation without any other finding or alert;
//   - reindex rebuilds the same index, and a restart keeps the new key.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromBase64Strict, toBase64 } from '../../src/merkle/index.js';
import { Monitor } from '../../src/monitor/index.js';
import { encodeEntry, submitterKey } from '../../src/registry/entries/index.js';
import { verifyKeyChain, verifyResolution } from '../../src/registry/verify.js';
import { callApi, runCli, startServe, tempDir, type ServeHandle } from '../cli/helpers.js';
import { agentKey, dumpIndex } from './helpers.js';

const ORIGIN = 'rotation.test/log';
const A = 'ans://v1.0.0.alpha.acme.example';
const B = 'ans://v1.0.0.beta.acme.example';
const FORGED = 'ans://v1.0.0.forged.acme.example';

let dir: string;
let state: string;
let apiKey: string;
let serve: ServeHandle | null = null;

const serveArgs = () => ['--state', state, '--tiles', path.join(dir, 'tiles'), '--listen', '127.0.0.1:0', '--origin', ORIGIN, '--registry', '--no-registry-dns-validation'];
const call = (method: string, p: string, body?: unknown) => callApi(serve!.url, apiKey, method, p, body);
const register = (name: string, n: number) =>
  call('POST', '/v1/agents?wait=checkpoint', { name, endpoints: [{ protocol: 'MCP', url: `https://${name.split('.').slice(3).join('.')}/mcp` }], publicKey: toBase64(agentKey(n)) });
const resolve = async (name: string) => (await call('GET', `/v1/resolve/${encodeURIComponent(name)}`)).json;
const dump = () => dumpIndex(state, ORIGIN);

beforeAll(() => {
  dir = tempDir();
  state = path.join(dir, 'state');
});
afterAll(async () => {
  await serve?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('registry submitter key rotation', () => {
  it('a monitor and an offline verifier follow a registry key rotation; a retired key signs nothing that counts', { timeout: 120_000 }, async () => {
    apiKey = (await runCli(['registry', 'apikey', '--state', state, '--owner', 'acme'])).stdout.trim();
    serve = await startServe(serveArgs());
    const log = { origin: ORIGIN, logKey: serve.verifierKey };
    expect((await register(A, 1)).status).toBe(201);
    const answerA1 = await resolve(A);
    const info1 = (await call('GET', '/v1/registry')).json;
    const oldPub: string = info1.submitterKeys[0].publicKey;
    const oldKey = submitterKey(fromBase64Strict(fs.readFileSync(path.join(state, 'registry.key'), 'utf8').trim(), 32));
    expect(info1.registryKey).toBe(oldKey.kid);

    // A monitor that pinned the first key, before the rotation.
    const monitorDir = tempDir();
    const openMonitor = () => Monitor.open({ url: serve!.url, logKey: serve!.verifierKey, stateDir: monitorDir, registry: { pinnedKeys: [oldPub] } });
    let monitor = openMonitor();
    let poll = await monitor.poll();
    expect(poll).toMatchObject({ status: 'ok', findings: [] });
    monitor.close();

    // Rotate: a next key, then a restart.
    const made = await runCli(['registry', 'rotate-key', '--state', state]);
    expect(made.code, made.stderr).toBe(0);
    const newKid = made.stdout.trim();
    expect((await runCli(['registry', 'rotate-key', '--state', state])).stderr).toMatch(/a rotation is pending/);
    await serve.stop();
    serve = await startServe(serveArgs());
    expect(serve.stderr()).toMatch(new RegExp(`submitter key rotated from ${oldKey.kid} to ${newKid}`));
    expect(fs.existsSync(path.join(state, 'registry.key.next'))).toBe(false);
    const info2 = (await call('GET', '/v1/registry')).json;
    expect(info2.registryKey).toBe(newKid);
    expect(info2.submitterKeys.map((k: { kid: string; status: string }) => [k.kid, k.status])).toEqual([[oldKey.kid, 'revoked'], [newKid, 'active']]);

    // Writes under the new key.
    expect((await register(B, 2)).status).toBe(201);
    const renew = await call('POST', `/v1/agents/${encodeURIComponent(A)}/rotate?wait=checkpoint`, { publicKey: toBase64(agentKey(3)) });
    expect(renew.status).toBe(200);
    const [answerA2, answerB] = [await resolve(A), await resolve(B)];
    expect(answerB.record.submitterKey).toBe(newKid);

    // A forged registration signed with the retired key, through the raw /add.
    const forged = encodeEntry(
      {
        v: 1, type: 'agent.registered', subject: FORGED, seq: 0, prev: null, time: Math.floor(Date.now() / 1000), kid: oldKey.kid,
        body: { owner: 'mallory', capabilities: [], endpoints: [{ protocol: 'MCP', url: 'https://forged.acme.example/mcp' }], publicKey: agentKey(9), validation: 'none' },
      },
      oldKey,
    );
    const added = await fetch(`${serve.url}/add?wait=checkpoint`, { method: "POST", body: Buffer.from(forged) });
    expect(added.status).toBe(200);
    const forgedBundle = (await added.json()) as { index: number };
    expect((await call('GET', `/v1/agents/${encodeURIComponent(FORGED)}`)).status).toBe(404);
    const viaRegistry = await fetch(`${serve.url}/v1/entries`, { method: 'POST', headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/cbor' }, body: Buffer.from(forged) });
    expect(viaRegistry.status).toBe(403);

    // Offline: only the first key pinned, the chain fetched once.
    const chain = (await call('GET', '/v1/registry/keys')).json;
    expect(chain.entries).toHaveLength(3); // key.added (genesis), key.added (new), key.revoked (old)
    const keyHistory = verifyKeyChain(chain, [oldPub], log);
    const policy = { log, keyHistory };
    expect(verifyResolution(answerA1, A, policy).entry.kid).toBe(oldKey.kid);
    expect(verifyResolution(answerA2, A, policy).record).toMatchObject({ publicKey: toBase64(agentKey(3)), submitterKey: newKid });
    expect(verifyResolution(answerB, B, policy).entry.kid).toBe(newKid);
    expect(() => verifyResolution({ bundle: forgedBundle }, FORGED, policy)).toThrow(/retired by key\.revoked at entry/);
    // Pinning the first key alone, without its chain, is not enough for the new one.
    expect(() => verifyResolution(answerB, B, { log, submitterKeys: { [oldKey.kid]: oldPub } })).toThrow(/not a pinned submitter key/);
    // A chain pinned at another key does not lead anywhere.
    expect(() => verifyKeyChain(chain, [toBase64(agentKey(7))], log)).toThrow(/which no key entry before it added/);

    // The monitor follows the rotation and reports the forged entry, once.
    monitor = openMonitor();
    try {
      poll = await monitor.poll();
      expect(poll.status).toBe('ok');
      expect(poll.alert).toBeNull();
      expect(poll.findings.map((f) => [f.code, f.index, f.kid])).toEqual([['MONITOR_REGISTRY_SIGNER', forgedBundle.index, oldKey.kid]]);
      const evidence = fs.readdirSync(path.join(monitorDir, 'evidence'));
      expect(evidence).toEqual([expect.stringMatching(/-MONITOR_REGISTRY_SIGNER$/)]);
      expect((await register('ans://v1.0.0.gamma.acme.example', 4)).status).toBe(201);
      poll = await monitor.poll();
      expect(poll).toMatchObject({ status: 'ok', findings: [] });
      expect(poll.auditedNow).toBeGreaterThan(0);
    } finally {
      monitor.close();
    }

    // The same through the CLI, from a fresh state: a FINDING line, exit 0 (not an alert).
    const cli = await runCli(['monitor', '--once', '--url', serve.url, '--log-key', serve.verifierKey, '--state', tempDir(), '--registry', '--registry-key', oldPub]);
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toMatch(new RegExp(`FINDING MONITOR_REGISTRY_SIGNER entry ${forgedBundle.index} \\(agent.registered ${FORGED}\\): .*retired by key.revoked`));
    expect(cli.stdout.match(/FINDING/g)).toHaveLength(1);

    // Reindex rebuilds the same index; a restart keeps signing with the new key.
    await serve.stop();
    serve = null;
    const live = dump();
    const r = await runCli(['registry', 'reindex', '--state', state, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ agents: 3, keys: 2 });
    expect(dump()).toEqual(live);
    serve = await startServe(serveArgs());
    expect((await call('GET', '/v1/registry')).json.registryKey).toBe(newKid);
    expect(submitterKey(fromBase64Strict(fs.readFileSync(path.join(state, 'registry.key'), 'utf8').trim(), 32)).kid).toBe(newKid);
    const d = await call('POST', `/v1/agents/${encodeURIComponent(B)}/deprecate?wait=checkpoint`, {});
    expect(d.status).toBe(200);
    expect(verifyResolution(await resolve(B), B, { log, keyHistory: verifyKeyChain((await call('GET', '/v1/registry/keys')).json, [oldPub], log) }).record.status).toBe('deprecated');
  });
});
