// The overlay (src/registry/overlay.ts) over a real StateIndex (SQLite in
// memory): admission sees admitted-but-unpublished writes, and a foreign
// leaf applied by the fold between ours rebuilds it so the writes it made
// inapplicable stop counting.
import { describe, expect, it } from 'vitest';
import { isTilelogError } from '../../src/errors.js';
import { leafHash } from '../../src/merkle/index.js';
import { decodeEntry, encodeEntry, keySubject, submitterKey, type AgentBody, type UnsignedEntry } from '../../src/registry/entries/index.js';
import { Overlay, PendingWrite } from '../../src/registry/overlay.js';
import { StateIndex } from '../../src/registry/state-index.js';
import { agentKey, ORIGIN, registryKey, T0 } from './helpers.js';

const NAME = 'ans://v1.0.0.bot.acme.example';
const body = (over: Partial<AgentBody> = {}): AgentBody => ({
  owner: 'acme',
  alias: 'bot.acme',
  capabilities: ['a'],
  endpoints: [{ protocol: 'A2A', url: 'https://bot.acme.example/a2a' }],
  publicKey: agentKey(1),
  validation: 'none',
  ...over,
});
const leafOf = (e: Omit<UnsignedEntry, 'v' | 'kid' | 'time'> & { time?: number }) =>
  encodeEntry({ v: 1, kid: registryKey.kid, time: T0, ...e } as UnsignedEntry, registryKey);
const genesis = leafOf({ type: 'key.added', subject: keySubject(registryKey.kid), seq: 0, prev: null, body: { publicKey: registryKey.publicKey, label: 'r' } });

function setup() {
  const index = new StateIndex(':memory:', ORIGIN);
  index.apply(0, genesis, leafHash(genesis));
  return { index, overlay: new Overlay(index) };
}
// A pending write whose add never settles (the overlay does not care how the log answers).
const admit = (o: Overlay, leaf: Uint8Array) => {
  const e = decodeEntry(leaf);
  o.check(e);
  const p = new PendingWrite(e, leafHash(leaf), new Promise(() => undefined));
  o.commit(p);
  return p;
};
const refusal = (fn: () => void): string => {
  try {
    fn();
  } catch (err) {
    if (isTilelogError(err, 'REGISTRY_CONFLICT') || isTilelogError(err, 'REGISTRY_NOT_FOUND')) return err.message;
    throw err;
  }
  return 'admitted';
};

describe('Overlay', () => {
  it('admission sees pending writes: name and alias taken, the chain follows the pending head', () => {
    const { index, overlay } = setup();
    const reg = leafOf({ type: 'agent.registered', subject: NAME, seq: 0, prev: null, body: body() });
    const p1 = admit(overlay, reg);
    expect(index.head(NAME)).toBeNull();
    expect(overlay.pendingHead(NAME)).toBe(p1);
    expect(refusal(() => overlay.check(decodeEntry(leafOf({ type: 'agent.registered', subject: NAME, seq: 0, prev: null, time: T0 + 1, body: body() }))))).toMatch(/already registered/);
    expect(refusal(() => overlay.check(decodeEntry(leafOf({ type: 'agent.registered', subject: 'ans://v2.0.0.bot.acme.example', seq: 0, prev: null, body: body() }))))).toMatch(/alias bot.acme is taken/);
    const renew = leafOf({ type: 'agent.renewed', subject: NAME, seq: 1, prev: leafHash(reg), body: body({ publicKey: agentKey(2) }) });
    admit(overlay, renew);
    const revoke = leafOf({ type: 'agent.revoked', subject: NAME, seq: 2, prev: leafHash(renew), body: body({ publicKey: agentKey(2), reason: 'keyCompromise' }) });
    admit(overlay, revoke);
    expect(overlay.head(NAME)).toMatchObject({ seq: 2 });
    // A stale successor (prev = the registration) is refused against the overlay, though the index alone does not know the agent.
    expect(refusal(() => overlay.check(decodeEntry(leafOf({ type: 'agent.updated', subject: NAME, seq: 1, prev: leafHash(reg), body: body({ capabilities: ['b'] }) }))))).toMatch(/has moved on/);
  });

  it('a pending key.added makes its key usable; a pending key.revoked makes it unusable', () => {
    const { overlay } = setup();
    const k2 = submitterKey(new Uint8Array(32).fill(21));
    admit(overlay, leafOf({ type: 'key.added', subject: keySubject(k2.kid), seq: 0, prev: null, body: { publicKey: k2.publicKey, label: 'k2' } }));
    expect(overlay.keyCount()).toBe(2);
    expect(overlay.activeKeyCount()).toBe(2);
    const byK2 = encodeEntry({ v: 1, kid: k2.kid, time: T0, type: 'agent.registered', subject: NAME, seq: 0, prev: null, body: body() }, k2);
    expect(refusal(() => overlay.check(decodeEntry(byK2)))).toBe('admitted');
    const head = overlay.head(keySubject(k2.kid))!;
    admit(overlay, leafOf({ type: 'key.revoked', subject: keySubject(k2.kid), seq: 1, prev: head.leafHash, body: { reason: 'superseded' } }));
    expect(overlay.activeKeyCount()).toBe(1);
    expect(() => overlay.check(decodeEntry(byK2))).toThrow(/revoked/);
  });

  it('a foreign leaf folded between ours: rebuild dooms the writes it made inapplicable, and admission follows the foreign head', () => {
    const { index, overlay } = setup();
    const reg = leafOf({ type: 'agent.registered', subject: NAME, seq: 0, prev: null, body: body() });
    index.apply(1, reg, leafHash(reg));
    // Ours: a renewal then an update, both pending.
    const renew = leafOf({ type: 'agent.renewed', subject: NAME, seq: 1, prev: leafHash(reg), body: body({ publicKey: agentKey(2) }) });
    const pRenew = admit(overlay, renew);
    const update = leafOf({ type: 'agent.updated', subject: NAME, seq: 2, prev: leafHash(renew), body: body({ publicKey: agentKey(2), capabilities: ['b'] }) });
    const pUpdate = admit(overlay, update);
    // A foreign update (raw POST /add) reaches the log first and is folded.
    const foreign = leafOf({ type: 'agent.updated', subject: NAME, seq: 1, prev: leafHash(reg), time: T0 + 5, body: body({ capabilities: ['x'] }) });
    expect(index.apply(2, foreign, leafHash(foreign)).applied).toBe(true);
    // Before the rebuild the overlay still predicts ours; after it, ours are doomed.
    expect(overlay.head(NAME)!.seq).toBe(2);
    overlay.rebuild();
    expect([pRenew.doomed, pUpdate.doomed]).toEqual([true, true]);
    expect(overlay.pendingHead(NAME)).toBeNull();
    expect(overlay.head(NAME)).toMatchObject({ seq: 1, leafHash: leafHash(foreign) });
    // The fold agrees: both skipped.
    expect(index.apply(3, renew, leafHash(renew)).applied).toBe(false);
    expect(index.apply(4, update, leafHash(update)).applied).toBe(false);
    // Once settled they leave the overlay.
    pRenew.settle();
    pUpdate.settle();
    overlay.rebuild();
    expect(overlay.pending).toHaveLength(0);
  });

  it('rebuild keeps writes that still apply and drops settled ones', () => {
    const { index, overlay } = setup();
    const a = leafOf({ type: 'agent.registered', subject: NAME, seq: 0, prev: null, body: body() });
    const b = leafOf({ type: 'agent.registered', subject: 'ans://v1.0.0.other.acme.example', seq: 0, prev: null, body: body({ alias: 'other.acme' }) });
    const pa = admit(overlay, a);
    const pb = admit(overlay, b);
    index.apply(1, a, leafHash(a));
    pa.settle();
    overlay.rebuild();
    expect(overlay.pending).toEqual([pb]);
    expect(pb.doomed).toBe(false);
    expect(overlay.pendingHead('ans://v1.0.0.other.acme.example')).toBe(pb);
    expect(overlay.pendingHead(NAME)).toBeNull();
    expect(overlay.head(NAME)).toMatchObject({ seq: 0 });
  });
});
