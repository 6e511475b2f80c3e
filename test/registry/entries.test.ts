import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isTilelogError } from '../../src/errors.js';
import { leafHash } from '../../src/merkle/index.js';
import { decodeEntry, encodeCanonical, decodeCanonical, verifyEntrySignature, keyIdOf, type CborMap } from '../../src/registry/entries/index.js';
import { StateIndex } from '../../src/registry/state-index.js';
import { ORIGIN, registryKey } from './helpers.js';
import { goldenChain } from './vectors.js';

const DIR = path.resolve(import.meta.dirname, '../../spec/vectors/entries');

describe('golden entries (spec/vectors/entries)', () => {
  const chain = goldenChain();
  if (process.env.UPDATE_VECTORS === '1') {
    fs.mkdirSync(DIR, { recursive: true });
    for (const v of chain) fs.writeFileSync(path.join(DIR, v.file), v.bytes);
  }

  it.each(chain.map((v) => [v.file, v] as const))('%s is byte for byte what the encoder makes', (file, v) => {
    const golden = new Uint8Array(fs.readFileSync(path.join(DIR, file)));
    expect(Buffer.from(v.bytes).toString('hex')).toBe(Buffer.from(golden).toString('hex'));
    const e = decodeEntry(golden);
    expect(e.type).toBe(v.entry.type);
    expect(e.subject).toBe(v.entry.subject);
    expect(verifyEntrySignature(e, v.signer.publicKey)).toBe(true);
  });

  it('covers every entry type', () => {
    expect(new Set(chain.map((v) => v.entry.type))).toEqual(
      new Set(['key.added', 'key.revoked', 'agent.registered', 'agent.updated', 'agent.renewed', 'agent.deprecated', 'agent.revoked']),
    );
  });

  it('the chain applies in order to an empty index', () => {
    const index = new StateIndex(':memory:', ORIGIN);
    chain.forEach((v, i) => {
      const o = index.apply(i, v.bytes, leafHash(v.bytes));
      expect(o.reason).toBe(null);
    });
    expect(index.agent(chain[1]!.entry.subject)?.status).toBe('revoked');
    expect(index.keys().map((k) => k.status)).toEqual(['active', 'revoked']);
    index.close();
  });
});

describe('decodeEntry refuses', () => {
  const good = goldenChain()[1]!.bytes;
  const map = decodeCanonical(good) as CborMap;
  const reencode = (edit: (m: CborMap) => void) => {
    const m = structuredClone(map);
    edit(m);
    return encodeCanonical(m);
  };
  const refuses = (bytes: Uint8Array, message: RegExp) => {
    let err: unknown;
    try {
      decodeEntry(bytes);
    } catch (e) {
      err = e;
    }
    expect(isTilelogError(err, 'REGISTRY_BAD_ENTRY'), String(err)).toBe(true);
    expect((err as Error).message).toMatch(message);
  };

  it('a non-canonical encoding of a valid entry (long head for seq)', () => {
    // seq 0 is 0x00 after the key "seq" (63 73 65 71); write it as 0x18 0x00.
    const hex = Buffer.from(good).toString('hex').replace('63736571' + '00', '63736571' + '1800');
    refuses(new Uint8Array(Buffer.from(hex, 'hex')), /canonical/);
  });
  it('trailing bytes', () => refuses(new Uint8Array([...good, 0]), /trailing/));
  it('an unknown version', () => refuses(reencode((m) => (m.v = 2)), /unknown version/));
  it('an unknown type', () => refuses(reencode((m) => (m.type = 'agent.renamed')), /unknown type/));
  it('an unknown envelope member', () => refuses(reencode((m) => (m.extra = 1)), /unknown member/));
  it('a body member outside the schema', () => refuses(reencode((m) => ((m.body as CborMap).color = 'red')), /unknown member/));
  it('a bad endpoint protocol', () =>
    refuses(reencode((m) => (((m.body as CborMap).endpoints as CborMap[])[0]!.protocol = 'SMTP')), /protocol must be one of/));
  it('a non-canonical URL', () => refuses(reencode((m) => (((m.body as CborMap).endpoints as CborMap[])[1]!.url = 'https://A.example')), /canonical form/));
  it('unsorted capabilities', () => refuses(reencode((m) => ((m.body as CborMap).capabilities = ['b', 'a'])), /sorted/));
  it('a non-canonical subject', () => refuses(reencode((m) => (m.subject = 'ans://V1.0.0.order-bot.acme.example')), /canonical ANS name/));
  it('prev on a first entry', () => refuses(reencode((m) => (m.prev = new Uint8Array(32))), /prev must be null/));
  it('a reason on agent.registered', () => refuses(reencode((m) => ((m.body as CborMap).reason = 'x')), /only for/));
  it('a short signature', () => refuses(reencode((m) => (m.sig = new Uint8Array(63))), /sig must be 64 bytes/));

  it('a signature over anything else fails to verify', () => {
    const e = decodeEntry(reencode((m) => (m.time = (m.time as number) + 1)));
    expect(verifyEntrySignature(e, registryKey.publicKey)).toBe(false);
    expect(verifyEntrySignature(decodeEntry(good), registryKey.publicKey)).toBe(true);
  });

  it('kid is the first 8 bytes of SHA-256(public key) in hex', () => {
    expect(keyIdOf(registryKey.publicKey)).toMatch(/^[0-9a-f]{16}$/);
    expect(registryKey.kid).toBe(keyIdOf(registryKey.publicKey));
  });
});
