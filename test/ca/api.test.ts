// The registry routes with the CA hook, in process: which CSRs make which
// entries, and refusals that write nothing.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { agentCertificates } from '../../src/ca/agent-certificates.js';
import { createCaApp } from '../../src/ca/http.js';
import { u8, x509 } from '../../src/ca/x509.js';
import { toBase64 } from '../../src/merkle/index.js';
import { ApiKeys, newApiKey } from '../../src/registry/http/auth.js';
import { createRegistryApp } from '../../src/registry/http/app.js';
import { agentKey } from '../registry/helpers.js';
import { makeCsr, openCaFixture, type CaFixture } from './helpers.js';

const acme = newApiKey('acme');
const NAME = 'ans://v1.0.0.bot.acme.example';
const enc = encodeURIComponent(NAME);
let f: CaFixture;
let app: ReturnType<typeof createRegistryApp>;

beforeEach(async () => {
  f = await openCaFixture();
  app = createRegistryApp(f.registry, { apiKeys: new ApiKeys([acme.line]), dns: null, publicUrl: 'https://registry.example', certificates: agentCertificates(f.ca), logError: () => undefined });
  app.route('/', createCaApp(f.ca));
});
afterEach(async () => f.close());

const post = async (p: string, body: unknown) => {
  const res = await app.request(p, { method: 'POST', headers: { Authorization: `Bearer ${acme.key}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as any };
};
const reg = (extra: Record<string, unknown>) => ({ name: NAME, endpoints: [{ protocol: 'A2A', url: 'https://bot.acme.example/' }], ...extra });

describe('register and rotate with a CSR', () => {
  it('an Ed25519 CSR without publicKey: the CSR key is the agent key; the certificate entry follows the agent entry', async () => {
    const r = await post('/v1/agents', reg({ csr: makeCsr(f.dir, 'e').csr }));
    expect(r.status).toBe(201);
    expect(r.json.certificate.index).toBe(r.json.index + 1);
    expect(r.json.certificate.bundle).toBeUndefined();
    const agent = f.registry.index.agent(NAME)!;
    const cert = new x509.X509Certificate(r.json.certificate.pem);
    expect(toBase64(agent.entry.body.publicKey)).toBe(toBase64(u8(cert.publicKey.rawData).slice(-32)));
  });

  it('a P-256 CSR needs publicKey on register; rotate with a P-256 CSR re-issues only (no agent.renewed), superseding the first', async () => {
    const p256 = makeCsr(f.dir, 'p', 'p256').csr;
    const size = f.log.checkpoint().size;
    expect((await post('/v1/agents', reg({ csr: p256 }))).status).toBe(400);
    expect(f.log.checkpoint().size).toBe(size);
    const r = await post('/v1/agents?wait=checkpoint', reg({ csr: p256, publicKey: toBase64(agentKey(1)) }));
    expect(r.status).toBe(201);
    expect(r.json.certificate.bundle.index).toBe(r.json.certificate.index);
    const seq = f.registry.index.agent(NAME)!.seq;
    const rot = await post(`/v1/agents/${enc}/rotate`, { csr: makeCsr(f.dir, 'p2', 'p256').csr });
    expect(rot.status).toBe(200);
    expect(rot.json).toMatchObject({ name: NAME, certificate: { superseded: [r.json.certificate.serial] } });
    expect(f.registry.index.agent(NAME)!.seq).toBe(seq);
    // publicKey + P-256 CSR: agent.renewed and a certificate.
    const both = await post(`/v1/agents/${enc}/rotate`, { csr: makeCsr(f.dir, 'p3', 'p256').csr, publicKey: toBase64(agentKey(2)) });
    expect(both.json).toMatchObject({ type: 'agent.renewed', certificate: { superseded: [rot.json.certificate.serial] } });
  });

  it('a broken CSR is a 400 naming proof of possession; revoke lists the revoked certificates; a revoked agent gets none', async () => {
    const size = f.log.checkpoint().size;
    const r0 = await post('/v1/agents', reg({ csr: '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----' }));
    expect(r0).toMatchObject({ status: 400, json: { error: { code: 'REGISTRY_BAD_REQUEST' } } });
    expect(f.log.checkpoint().size).toBe(size);
    const r = await post('/v1/agents', reg({ csr: makeCsr(f.dir, 'r').csr }));
    const rv = await post(`/v1/agents/${enc}/revoke`, { reason: 'privilegeWithdrawn' });
    expect(rv.json.certificatesRevoked).toEqual([r.json.certificate.serial]);
    // Idempotent: again, nothing more to revoke.
    expect((await post(`/v1/agents/${enc}/revoke`, { reason: 'privilegeWithdrawn' })).json.certificatesRevoked).toEqual([]);
    const late = await post(`/v1/agents/${enc}/rotate`, { csr: makeCsr(f.dir, 'late', 'p256').csr });
    expect(late.status).toBe(409);
    const v = await (await app.request('/v1/verify/cert', { method: 'POST', body: JSON.stringify({ certificate: r.json.certificate.pem }) })).json();
    expect(v).toMatchObject({ valid: false, reason: 'revoked', revocation: { reason: 'privilegeWithdrawn' } });
  });
});
