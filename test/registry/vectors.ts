// The golden entry chain of spec/vectors/entries/: one entry per type, each
// following the previous one of its subject, signed by fixed keys at fixed
// times. Applied in order to an empty index, every entry is admitted.
import { leafHash } from '../../src/merkle/index.js';
import { encodeEntry, keySubject, submitterKey, type UnsignedEntry } from '../../src/registry/entries/index.js';
import type { AgentBody } from '../../src/registry/entries/index.js';
import { agentKey, registryKey, T0 } from './helpers.js';

export const secondKey = submitterKey(new Uint8Array(32).fill(12));
export const AGENT = 'ans://v1.0.0.order-bot.acme.example';

export interface Vector {
  file: string;
  entry: UnsignedEntry;
  signer: typeof registryKey;
  bytes: Uint8Array;
}

export function goldenChain(): Vector[] {
  const out: Vector[] = [];
  const heads = new Map<string, { seq: number; hash: Uint8Array }>();
  const push = (file: string, e: Omit<UnsignedEntry, 'v' | 'seq' | 'prev'>, signer = registryKey) => {
    const h = heads.get(e.subject);
    const entry = { v: 1, seq: h === undefined ? 0 : h.seq + 1, prev: h?.hash ?? null, ...e } as UnsignedEntry;
    const bytes = encodeEntry(entry, signer);
    heads.set(e.subject, { seq: entry.seq, hash: leafHash(bytes) });
    out.push({ file, entry, signer, bytes });
  };
  const base: AgentBody = {
    owner: 'acme',
    alias: 'order-bot.acme',
    capabilities: ['orders.read', 'orders.write'],
    endpoints: [
      { protocol: 'A2A', url: 'https://order-bot.acme.example/a2a', metadataUrl: 'https://order-bot.acme.example/.well-known/agent.json', metadataSha256: new Uint8Array(32).fill(0xab) },
      { protocol: 'MCP', url: 'https://order-bot.acme.example/mcp' },
    ],
    publicKey: agentKey(1),
    validation: 'dns-txt',
  };
  const kid = registryKey.kid;
  push('01-key.added.cbor', { type: 'key.added', subject: keySubject(kid), time: T0, kid, body: { publicKey: registryKey.publicKey, label: 'tilelog registry' } });
  push('02-agent.registered.cbor', { type: 'agent.registered', subject: AGENT, time: T0 + 60, kid, body: base });
  const updated = { ...base, capabilities: ['orders.read', 'orders.refund', 'orders.write'] };
  push('03-agent.updated.cbor', { type: 'agent.updated', subject: AGENT, time: T0 + 120, kid, body: updated });
  const renewed = { ...updated, publicKey: agentKey(2) };
  push('04-agent.renewed.cbor', { type: 'agent.renewed', subject: AGENT, time: T0 + 180, kid, body: renewed });
  push('05-agent.deprecated.cbor', { type: 'agent.deprecated', subject: AGENT, time: T0 + 240, kid, body: { ...renewed, reason: 'replaced by v2.0.0' } });
  push('06-agent.revoked.cbor', { type: 'agent.revoked', subject: AGENT, time: T0 + 300, kid, body: { ...renewed, reason: 'cessationOfOperation' } });
  push('07-key.added.cbor', { type: 'key.added', subject: keySubject(secondKey.kid), time: T0 + 360, kid, body: { publicKey: secondKey.publicKey, label: 'second submitter' } });
  push('08-key.revoked.cbor', { type: 'key.revoked', subject: keySubject(secondKey.kid), time: T0 + 420, kid: secondKey.kid, body: { reason: 'superseded' } }, secondKey);
  return out;
}
