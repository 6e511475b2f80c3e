// Golden certificate entries (spec/vectors/entries/09..15) byte for byte,
// their application after the registry chain, and the schema's refusals.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isTilelogError } from '../../src/errors.js';
import { leafHash } from '../../src/merkle/index.js';
import { decodeCanonical, decodeEntry, encodeCanonical, verifyEntrySignature, type CborMap } from '../../src/registry/entries/index.js';
import { StateIndex } from '../../src/registry/state-index.js';
import { ORIGIN } from '../registry/helpers.js';
import { makeCsr, openCaFixture, openssl } from './helpers.js';
import { CERT_AGENT, CERT_HOST, certChain, DIR, DER_FILES } from './vectors.js';

async function remakeDer(): Promise<void> {
  const f = await openCaFixture({ validitySeconds: 10 * 365 * 86400 });
  try {
    await f.registry.register(CERT_AGENT, { owner: 'acme', capabilities: [], endpoints: [{ protocol: 'MCP', url: `https://${CERT_HOST}/mcp` }], publicKey: new Uint8Array(32).fill(7), validation: 'none' });
    const c = await f.ca.issue(CERT_AGENT, await f.ca.prepareCsr(makeCsr(f.dir, 'vec').csr));
    const obs = path.join(f.dir, 'obs.pem');
    openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(f.dir, 'obs.key'), '-subj', `/CN=${CERT_HOST}`, '-addext', `subjectAltName=DNS:${CERT_HOST}`, '-days', '3650', '-out', obs]);
    const ders = [f.ca.keys.root.certificate.rawData, f.ca.keys.intermediate.certificate.rawData, c.certificate.rawData].map((d) => new Uint8Array(d));
    DER_FILES.forEach((file, i) => fs.writeFileSync(path.join(DIR, file), i === 3 ? pemToDer(obs) : ders[i]!));
  } finally {
    await f.close();
  }
}
const pemToDer = (pem: string) => new Uint8Array(Buffer.from(fs.readFileSync(pem, 'utf8').replace(/-----[A-Z ]+-----|\s/g, ''), 'base64'));

describe('golden certificate entries (spec/vectors/entries 09..15)', async () => {
  if (process.env.UPDATE_VECTORS === '1') {
    await remakeDer();
    for (const v of certChain().cert) fs.writeFileSync(path.join(DIR, v.file), v.bytes);
  }
  const { all, cert } = certChain();

  it.each(cert.map((v) => [v.file, v] as const))('%s is byte for byte what the encoder makes', (file, v) => {
    const golden = new Uint8Array(fs.readFileSync(path.join(DIR, file)));
    expect(Buffer.from(v.bytes).toString('hex')).toBe(Buffer.from(golden).toString('hex'));
    const e = decodeEntry(golden);
    expect(e.type).toBe(v.entry.type);
    expect(verifyEntrySignature(e, v.signer.publicKey)).toBe(true);
  });

  it('covers every certificate entry type', () => {
    expect(new Set(cert.map((v) => v.entry.type).filter((t) => !t.startsWith('agent.')))).toEqual(new Set(['cert.issued', 'cert.revoked', 'ca.key.added', 'ca.key.retired', 'cert.observed']));
  });

  it('01..15 apply in order to an empty index', () => {
    const index = new StateIndex(':memory:', ORIGIN);
    all.forEach((v, i) => expect(index.apply(i, v.bytes, leafHash(v.bytes)).reason).toBe(null));
    expect(index.head(cert[3]!.entry.subject)!.entry.type).toBe('cert.revoked');
    index.close();
  });

  it('the rules refuse: a second revocation, a second issuance of a serial, issuance by an unknown CA key', () => {
    const index = new StateIndex(':memory:', ORIGIN);
    all.forEach((v, i) => index.apply(i, v.bytes, leafHash(v.bytes)));
    // 13 again (the certificate's chain has moved on) and 12 again (the serial exists).
    const n = all.length;
    expect(index.apply(n, cert[4]!.bytes, leafHash(cert[4]!.bytes)).reason).toMatch(/REGISTRY_CONFLICT/);
    expect(index.apply(n + 1, cert[3]!.bytes, leafHash(cert[3]!.bytes)).reason).toMatch(/REGISTRY_CONFLICT/);
    index.close();
    // 12 on an index that has no CA key (01..08 only).
    const bare = new StateIndex(':memory:', ORIGIN);
    all.slice(0, 8).forEach((v, i) => bare.apply(i, v.bytes, leafHash(v.bytes)));
    const o = bare.apply(8, cert[3]!.bytes, leafHash(cert[3]!.bytes));
    expect(o.reason).toMatch(/REGISTRY_NOT_FOUND: registry: no CA key/);
    bare.close();
  });
});

describe('certificate entry schema refuses', () => {
  const good = () => decodeCanonical(certChain().cert[3]!.bytes) as CborMap;
  const refuses = (m: CborMap, re: RegExp) => {
    let err: unknown;
    try {
      decodeEntry(encodeCanonical(m));
    } catch (e) {
      err = e;
    }
    expect(isTilelogError(err, 'REGISTRY_BAD_ENTRY'), String(err)).toBe(true);
    expect((err as Error).message).toMatch(re);
  };
  const edit = (fn: (b: CborMap, m: CborMap) => void) => {
    const m = good();
    fn(m.body as CborMap, m);
    return m;
  };
  it('a DER whose SHA-256 is not body.sha256', () => refuses(edit((b) => ((b.der as Uint8Array)[10]! ^= 1)), /SHA-256 of body.der/));
  it('URIs without the agent name', () => refuses(edit((b) => (b.uris = ['ans://v2.0.0.other.example'])), /must include the agent/));
  it('a subject that is not cert:<serial>', () => refuses(edit((_b, m) => (m.subject = 'cert:00')), /subject must be cert/));
  it('a negative serial', () => refuses(edit((b) => (b.serial = new Uint8Array([0x80, 1]))), /positive/));
  it('notAfter before notBefore', () => refuses(edit((b) => (b.notAfter = 1)), /notAfter must be after/));
  it('an unknown member', () => refuses(edit((b) => (b.color = 'red')), /unknown member/));
  it('cert.issued with seq 1', () => refuses(edit((_b, m) => ((m.seq = 1), (m.prev = new Uint8Array(32)))), /must have seq 0/));
});
