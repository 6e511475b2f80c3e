// Registry submitter key rotation with both keys in a real SoftHSM2 token:
// `serve --registry-key <old URI> --registry-next-key <new URI>` rotates at
// start; started again with the same flags it finds the rotation done, with
// the new URI alone it carries on, and with the old URI alone it refuses to
// start (the key is revoked). A verifier that pinned the old key follows.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { importPkcs11Key } from '../../src/hsm/pkcs11-keygen.js';
import { Pkcs11Module } from '../../src/hsm/pkcs11-module.js';
import { toBase64 } from '../../src/merkle/index.js';
import { submitterKey } from '../../src/registry/index.js';
import { verifyKeyChain, verifyResolution } from '../../src/registry/verify.js';
import { callApi, runCli, startServe, tempDir, type ServeHandle } from '../cli/helpers.js';
import { agentKey } from '../registry/helpers.js';
import { describeHsm, makeSoftHsm, type SoftHsm } from '../support/softhsm.js';

const ORIGIN = 'hsm.example/rotation';

describeHsm('registry key rotation with keys in SoftHSM2', () => {
  let hsm: SoftHsm;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const oldSeed = new Uint8Array(32).fill(0x31);
  const newSeed = new Uint8Array(32).fill(0x32);
  beforeAll(async () => {
    hsm = makeSoftHsm(['tilelog']);
    dir = tempDir('tilelog-hsm-rotate-');
    env = { SOFTHSM2_CONF: hsm.conf };
    (await importPkcs11Key(hsm.uri('reg-old'), oldSeed)).close();
    (await importPkcs11Key(hsm.uri('reg-new'), newSeed)).close();
  });
  afterAll(() => {
    Pkcs11Module.finalizeAll();
    hsm.remove();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const args = (...keys: string[]) => [
    '--state', path.join(dir, 'state'), '--tiles', path.join(dir, 'tiles'), '--listen', '127.0.0.1:0', '--origin', ORIGIN,
    '--registry', '--no-registry-dns-validation', ...keys,
  ];
  const withServer = async <T>(keys: string[], f: (s: ServeHandle, apiKey: string) => Promise<T>): Promise<T> => {
    const s = await startServe(args(...keys), { env });
    try {
      return await f(s, fs.readFileSync(path.join(dir, 'apikey'), 'utf8').trim());
    } finally {
      await s.stop();
    }
  };
  const register = (s: ServeHandle, apiKey: string, host: string, n: number) =>
    callApi(s.url, apiKey, 'POST', '/v1/agents?wait=checkpoint', { name: `ans://v1.0.0.${host}`, endpoints: [{ protocol: 'MCP', url: `https://${host}/mcp` }], publicKey: toBase64(agentKey(n)) });

  it('rotates at start, keeps the new key across restarts, refuses the retired one', { timeout: 180_000 }, async () => {
    const [oldKid, newKid] = [submitterKey(oldSeed).kid, submitterKey(newSeed).kid];
    const made = await runCli(['registry', 'apikey', '--state', path.join(dir, 'state'), '--owner', 'acme']);
    fs.writeFileSync(path.join(dir, 'apikey'), made.stdout);
    const [oldUri, newUri] = [hsm.uri('reg-old'), hsm.uri('reg-new')];

    await withServer(['--registry-key', oldUri], async (s, k) => {
      expect((await register(s, k, 'one.acme.example', 1)).status).toBe(201);
    });
    const answers = await withServer(['--registry-key', oldUri, '--registry-next-key', newUri], async (s, k) => {
      expect(s.stderr()).toMatch(new RegExp(`rotated from ${oldKid} to ${newKid}.*--registry-key`));
      expect(s.stderr()).not.toContain('pin');
      expect((await callApi(s.url, k, 'GET', '/v1/registry')).json.registryKey).toBe(newKid);
      expect((await register(s, k, 'two.acme.example', 2)).status).toBe(201);
      return { log: { origin: ORIGIN, logKey: s.verifierKey }, url: s.url };
    });
    // The same flags again: the rotation is found done, nothing new is logged.
    await withServer(['--registry-key', oldUri, '--registry-next-key', newUri], async (s, k) => {
      expect(s.stderr()).not.toMatch(/rotated from/);
      expect(s.stderr()).toMatch(new RegExp(`the log already has the rotation from ${oldKid} to ${newKid}`));
      expect((await callApi(s.url, k, 'GET', '/v1/registry/keys')).json.entries).toHaveLength(3);
    });
    await withServer(['--registry-key', newUri], async (s, k) => {
      expect((await callApi(s.url, k, 'GET', '/v1/registry')).json.registryKey).toBe(newKid);
      expect((await register(s, k, 'three.acme.example', 3)).status).toBe(201);
      const history = verifyKeyChain((await callApi(s.url, k, 'GET', '/v1/registry/keys')).json, [submitterKey(oldSeed).publicKey], answers.log);
      for (const [host, kid] of [['one', oldKid], ['two', newKid], ['three', newKid]] as const) {
        const name = `ans://v1.0.0.${host}.acme.example`;
        const answer = (await callApi(s.url, k, 'GET', `/v1/resolve/${encodeURIComponent(name)}`)).json;
        expect(verifyResolution(answer, name, { log: answers.log, keyHistory: history }).entry.kid).toBe(kid);
      }
    });
    const refused = await runCli(['serve', ...args('--registry-key', oldUri)], { env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(new RegExp(`submitter key ${oldKid} is revoked`));
  });
});
