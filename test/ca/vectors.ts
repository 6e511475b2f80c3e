// The golden certificate entries of spec/vectors/entries/ (09..15): they
// follow the registry's golden chain (01..08, test/registry/vectors.ts) on
// the same index. The DER they carry is in spec/vectors/entries/*.der
// (made once by a real CA run and openssl; UPDATE_VECTORS=1 remakes them),
// so the entry bytes depend only on fixed keys, times and those files.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { leafHash } from '../../src/merkle/index.js';
import { caKeySubject, certSubject, encodeEntry, observedSubject, type AgentBody, type UnsignedEntry } from '../../src/registry/entries/index.js';
import { derSha256, serialBytes, spkiSha256, u8, x509 } from '../../src/ca/x509.js';
import { agentKey, registryKey, T0 } from '../registry/helpers.js';
import { goldenChain, type Vector } from '../registry/vectors.js';

export const DIR = path.resolve(import.meta.dirname, '../../spec/vectors/entries');
export const CERT_AGENT = 'ans://v1.0.0.payments.acme.example';
export const CERT_HOST = 'payments.acme.example';
export const DER_FILES = ['ca-root.der', 'ca-intermediate.der', 'agent-cert.der', 'observed-cert.der'] as const;

const cert = (file: string) => new x509.X509Certificate(u8(fs.readFileSync(path.join(DIR, file))));
const secs = (d: Date) => Math.floor(d.getTime() / 1000);

/** The registry chain 01..08, then the certificate entries 09..15. */
export function certChain(): { all: Vector[]; cert: Vector[] } {
  const all = goldenChain();
  const heads = new Map<string, { seq: number; hash: Uint8Array }>();
  const out: Vector[] = [];
  const kid = registryKey.kid;
  const push = (file: string, e: Omit<UnsignedEntry, 'v' | 'seq' | 'prev' | 'kid'>) => {
    const h = heads.get(e.subject);
    const entry = { v: 1, seq: h === undefined ? 0 : h.seq + 1, prev: h?.hash ?? null, kid, ...e } as UnsignedEntry;
    const bytes = encodeEntry(entry, registryKey);
    heads.set(e.subject, { seq: entry.seq, hash: leafHash(bytes) });
    out.push({ file, entry, signer: registryKey, bytes });
  };
  const [root, inter, leaf, observed] = DER_FILES.map(cert) as [x509.X509Certificate, x509.X509Certificate, x509.X509Certificate, x509.X509Certificate];
  const t = T0 + 1000;
  push('09-ca.key.added.cbor', { type: 'ca.key.added', subject: caKeySubject(spkiSha256(root)), time: t, body: { role: 'root', spkiSha256: spkiSha256(root), der: u8(root.rawData) } });
  push('10-ca.key.added.cbor', { type: 'ca.key.added', subject: caKeySubject(spkiSha256(inter)), time: t, body: { role: 'intermediate', spkiSha256: spkiSha256(inter), der: u8(inter.rawData) } });
  const agent: AgentBody = { owner: 'acme', capabilities: ['payments.send'], endpoints: [{ protocol: 'MCP', url: `https://${CERT_HOST}/mcp` }], publicKey: agentKey(3), validation: 'dns-txt' };
  push('11-agent.registered.cbor', { type: 'agent.registered', subject: CERT_AGENT, time: t + 60, body: agent });
  const serial = serialBytes(leaf);
  push('12-cert.issued.cbor', {
    type: 'cert.issued',
    subject: certSubject(serial),
    time: t + 61,
    body: {
      agent: CERT_AGENT, issuerKeyHash: spkiSha256(inter), serial, sha256: derSha256(leaf), spkiSha256: spkiSha256(leaf),
      uris: [CERT_AGENT], dnsNames: [CERT_HOST], notBefore: secs(leaf.notBefore), notAfter: secs(leaf.notAfter), der: u8(leaf.rawData),
    },
  });
  push('13-cert.revoked.cbor', { type: 'cert.revoked', subject: certSubject(serial), time: t + 120, body: { serial, reason: 'keyCompromise' } });
  push('14-ca.key.retired.cbor', { type: 'ca.key.retired', subject: caKeySubject(spkiSha256(inter)), time: t + 180, body: { reason: 'superseded' } });
  push('15-cert.observed.cbor', {
    type: 'cert.observed',
    subject: observedSubject(derSha256(observed)),
    time: t + 240,
    body: { sha256: derSha256(observed), spkiSha256: spkiSha256(observed), dnsNames: [CERT_HOST], notBefore: secs(observed.notBefore), notAfter: secs(observed.notAfter), der: u8(observed.rawData) },
  });
  return { all: [...all, ...out], cert: out };
}
