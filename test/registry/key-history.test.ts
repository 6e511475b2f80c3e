// KeyHistory: the submitter keys a verifier or monitor folds from key entries
// (src/registry/key-history.ts), checked rule by rule on hand-built entries.
import { describe, expect, it } from 'vitest';
import { TilelogError } from '../../src/errors.js';
import { leafHash, toBase64 } from '../../src/merkle/index.js';
import { decodeEntry, encodeEntry, keySubject, submitterKey, type Entry, type SubmitterKey, type UnsignedEntry } from '../../src/registry/entries/index.js';
import { KeyHistory } from '../../src/registry/key-history.js';
import { agentKey, T0 } from './helpers.js';

const k1 = submitterKey(new Uint8Array(32).fill(1));
const k2 = submitterKey(new Uint8Array(32).fill(2));
const k3 = submitterKey(new Uint8Array(32).fill(3));

type Signed = { entry: Entry; leaf: Uint8Array; leafHash: Uint8Array };
const sign = (e: UnsignedEntry, key: SubmitterKey): Signed => {
  const leaf = encodeEntry(e, key);
  return { entry: decodeEntry(leaf), leaf, leafHash: leafHash(leaf) };
};
const added = (key: SubmitterKey, by: SubmitterKey): Signed =>
  sign({ v: 1, type: 'key.added', subject: keySubject(key.kid), seq: 0, prev: null, time: T0, kid: by.kid, body: { publicKey: key.publicKey, label: 'k' } }, by);
const revoked = (key: SubmitterKey, addedHash: Uint8Array, by: SubmitterKey, seq = 1): Signed =>
  sign({ v: 1, type: 'key.revoked', subject: keySubject(key.kid), seq, prev: addedHash, time: T0, kid: by.kid, body: { reason: 'superseded' } }, by);
const agent = (name: string, by: SubmitterKey): Signed =>
  sign(
    {
      v: 1, type: 'agent.registered', subject: name, seq: 0, prev: null, time: T0, kid: by.kid,
      body: { owner: 'acme', capabilities: [], endpoints: [{ protocol: 'MCP', url: 'https://a.example/mcp' }], publicKey: agentKey(1), validation: 'none' },
    },
    by,
  );
const code = (f: () => void): string => {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(TilelogError);
    return (err as TilelogError).code;
  }
  throw new Error('expected a TilelogError');
};

// The rotation k1 -> k2 at indexes: 0 genesis k1, 2 k2 added, 4 k1 revoked.
function rotated(pins: SubmitterKey[] = []): { h: KeyHistory; g: Signed } {
  const h = new KeyHistory(pins.map((k) => k.publicKey));
  const g = added(k1, k1);
  h.apply(0, g.entry, g.leafHash);
  const a = added(k2, k1);
  h.apply(2, a.entry, a.leafHash);
  const r = revoked(k1, g.leafHash, k2);
  h.apply(4, r.entry, r.leafHash);
  return { h, g };
}

describe('KeyHistory', () => {
  it('follows a rotation: the old key signs before its key.revoked only, the new one after its key.added only', () => {
    const { h } = rotated([k1]);
    const old = agent('ans://v1.0.0.a.acme.example', k1);
    const neu = agent('ans://v1.0.0.b.acme.example', k2);
    h.checkSigner(3, old.entry);
    expect(code(() => h.checkSigner(5, old.entry))).toBe('REGISTRY_SIGNATURE');
    expect(() => h.checkSigner(5, old.entry)).toThrow(/retired by key\.revoked at entry 4/);
    h.checkSigner(3, neu.entry);
    expect(() => h.checkSigner(1, neu.entry)).toThrow(/before its key\.added \(entry 2\)/);
    expect(h.keys().map((k) => [k.kid, k.addedIndex, k.revokedIndex])).toEqual([[k1.kid, 0, 4], [k2.kid, 2, null]]);
  });

  it('trusts the first self-signed key.added without pins, and only a pinned key with them', () => {
    rotated(); // no pins: the genesis is trusted on first use
    const pinnedElsewhere = new KeyHistory([k3.publicKey]);
    const g = added(k1, k1);
    expect(code(() => pinnedElsewhere.apply(0, g.entry, g.leafHash))).toBe('REGISTRY_SIGNATURE');
    const fresh = new KeyHistory();
    const a = agent('ans://v1.0.0.a.acme.example', k1);
    expect(code(() => fresh.apply(0, a.entry, a.leafHash))).toBe('REGISTRY_SIGNATURE');
    const other = added(k2, k1); // not self-signed
    expect(code(() => fresh.apply(0, other.entry, other.leafHash))).toBe('REGISTRY_SIGNATURE');
  });

  it('refuses a bad signature, an unknown signer, a second key.added, a key.revoked off its chain, and indexes that go back', () => {
    const { h, g } = rotated();
    const forged = agent('ans://v1.0.0.a.acme.example', k2);
    const tampered = { ...forged.entry, sig: forged.entry.sig.slice() };
    tampered.sig[0]! ^= 1;
    expect(() => h.checkSigner(9, tampered)).toThrow(/does not verify/);
    expect(code(() => h.checkSigner(9, agent('ans://v1.0.0.a.acme.example', k3).entry))).toBe('REGISTRY_SIGNATURE');
    const again = added(k2, k2);
    expect(code(() => h.apply(6, again.entry, again.leafHash))).toBe('REGISTRY_CONFLICT');
    const a3 = added(k3, k2);
    h.apply(7, a3.entry, a3.leafHash);
    const offChain = revoked(k3, g.leafHash, k2); // prev is another key's key.added
    expect(code(() => h.apply(8, offChain.entry, offChain.leafHash))).toBe('REGISTRY_CONFLICT');
    expect(h.key(k3.kid)?.revokedIndex).toBeNull();
    expect(() => h.apply(7, a3.entry, a3.leafHash)).toThrow(RangeError);
  });

  it('round-trips through JSON with the same verdicts, and refuses a kid that is not its key', () => {
    const { h } = rotated([k1]);
    const back = KeyHistory.fromJSON(JSON.parse(JSON.stringify(h.toJSON())));
    expect(back.toJSON()).toEqual(h.toJSON());
    const old = agent('ans://v1.0.0.a.acme.example', k1);
    back.checkSigner(3, old.entry);
    expect(code(() => back.checkSigner(5, old.entry))).toBe('REGISTRY_SIGNATURE');
    const j = h.toJSON();
    j.keys[0]!.publicKey = toBase64(k3.publicKey);
    expect(() => KeyHistory.fromJSON(j)).toThrow(/is not the kid of its public key/);
  });
});
