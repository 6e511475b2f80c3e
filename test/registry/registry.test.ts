import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isTilelogError, type ErrorCode } from '../../src/errors.js';
import { leafHash } from '../../src/merkle/index.js';
import { decodeEntry, encodeEntry, keySubject, submitterKey, type AgentBody, type UnsignedEntry } from '../../src/registry/entries/index.js';
import { Registry } from '../../src/registry/registry.js';
import { StateIndex } from '../../src/registry/state-index.js';
import { agentKey, openFixture, ORIGIN, registryKey, T0, type Fixture } from './helpers.js';

const NAME = 'ans://v1.0.0.order-bot.acme.example';
const body = (over: Partial<AgentBody> = {}): AgentBody => ({
  owner: 'acme',
  alias: 'order-bot.acme',
  capabilities: ['orders.read'],
  endpoints: [{ protocol: 'A2A', url: 'https://order-bot.acme.example/a2a' }],
  publicKey: agentKey(1),
  validation: 'none',
  ...over,
});

async function rejects(p: Promise<unknown>, code: ErrorCode, message?: RegExp): Promise<void> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  expect(isTilelogError(err, code), `want ${code}, got ${String(err)}`).toBe(true);
  if (message) expect((err as Error).message).toMatch(message);
}

let f: Fixture;
beforeEach(async () => {
  f = await openFixture();
});
afterEach(async () => {
  await f.close();
});

describe('Registry', () => {
  it('adds its own submitter key with a self-signed key.added at first start', async () => {
    const e = decodeEntry(await f.log.entry(0));
    expect(e).toMatchObject({ type: 'key.added', subject: keySubject(registryKey.kid), kid: registryKey.kid, seq: 0 });
    expect(f.index.keys()).toMatchObject([{ kid: registryKey.kid, status: 'active', addedIndex: 0 }]);
  });

  it('register -> rotate -> revoke moves the head along a chain of leaf hashes', async () => {
    const r1 = await f.registry.register(NAME, body());
    f.clock.now += 10;
    const r2 = await f.registry.rotate(NAME, agentKey(2));
    const r3 = await f.registry.revoke(NAME, 'keyCompromise');
    const e2 = decodeEntry(await f.log.entry(r2.index));
    const e3 = decodeEntry(await f.log.entry(r3.index));
    expect(e2).toMatchObject({ type: 'agent.renewed', seq: 1, prev: r1.leafHash });
    expect(e3).toMatchObject({ type: 'agent.revoked', seq: 2, prev: r2.leafHash });
    expect(f.index.agent(NAME)).toMatchObject({ status: 'revoked', seq: 2, headIndex: r3.index, createdIndex: r1.index });
    // Revoking again is idempotent: the same entry, nothing new in the log.
    const size = f.log.checkpoint().size;
    const again = await f.registry.revoke(NAME, 'unspecified');
    expect(again).toMatchObject({ index: r3.index, duplicate: true });
    expect(f.log.checkpoint().size).toBe(size);
    await rejects(f.registry.rotate(NAME, agentKey(3)), 'REGISTRY_CONFLICT', /revoked/);
  });

  it('an identical submission is the identical leaf: same index, nothing written', async () => {
    const e: UnsignedEntry = { v: 1, type: 'agent.registered', subject: NAME, seq: 0, prev: null, time: 1, kid: registryKey.kid, body: body() };
    const bytes = encodeEntry(e, registryKey);
    const a = await f.registry.submit(bytes);
    const size = f.log.checkpoint().size;
    const b = await f.registry.submit(bytes);
    expect(b).toMatchObject({ index: a.index, duplicate: true });
    expect(f.log.checkpoint().size).toBe(size);
  });

  describe('admission refuses, writing nothing:', () => {
    const unsigned = (over: Partial<UnsignedEntry> = {}) =>
      ({ v: 1, type: 'agent.registered', subject: NAME, seq: 0, prev: null, time: T0 + 5, kid: registryKey.kid, body: body(), ...over }) as UnsignedEntry;
    const cases: [string, () => Promise<Uint8Array>, ErrorCode, RegExp][] = [
      ['garbage bytes', async () => new TextEncoder().encode('hello'), 'REGISTRY_BAD_ENTRY', /canonical CBOR/],
      ['an unknown submitter key', async () => encodeEntry({ ...unsigned(), kid: submitterKey(new Uint8Array(32).fill(9)).kid }, submitterKey(new Uint8Array(32).fill(9))), 'REGISTRY_SIGNATURE', /unknown submitter key/],
      [
        'a bad signature',
        async () => {
          const bytes = encodeEntry(unsigned(), registryKey);
          bytes[bytes.length - 1]! ^= 1;
          return bytes;
        },
        'REGISTRY_SIGNATURE',
        /does not verify/,
      ],
      ['a change to an unknown agent', async () => encodeEntry(unsigned({ type: 'agent.renewed', seq: 1, prev: new Uint8Array(32) }), registryKey), 'REGISTRY_NOT_FOUND', /no agent/],
      [
        'a prev that is not the head',
        async () => {
          await f.registry.register(NAME, body());
          return encodeEntry(unsigned({ type: 'agent.renewed', seq: 1, prev: new Uint8Array(32), body: body({ publicKey: agentKey(2) }) }), registryKey);
        },
        'REGISTRY_CONFLICT',
        /has moved on/,
      ],
      [
        'a second registration of a name',
        async () => {
          await f.registry.register(NAME, body());
          return encodeEntry(unsigned({ time: 99 }), registryKey);
        },
        'REGISTRY_CONFLICT',
        /already registered/,
      ],
      [
        'a taken alias',
        async () => {
          await f.registry.register(NAME, body());
          return encodeEntry(unsigned({ subject: 'ans://v2.0.0.order-bot.acme.example' }), registryKey);
        },
        'REGISTRY_CONFLICT',
        /alias order-bot.acme is taken/,
      ],
      [
        'an update that changes the owner',
        async () => {
          const r = await f.registry.register(NAME, body());
          return encodeEntry(unsigned({ type: 'agent.updated', seq: 1, prev: r.leafHash, body: body({ owner: 'evil', capabilities: ['x'] }) }), registryKey);
        },
        'REGISTRY_CONFLICT',
        /owner, alias and validation cannot change/,
      ],
      [
        'a renewal with the same key',
        async () => {
          const r = await f.registry.register(NAME, body());
          return encodeEntry(unsigned({ type: 'agent.renewed', seq: 1, prev: r.leafHash }), registryKey);
        },
        'REGISTRY_CONFLICT',
        /must differ/,
      ],
      [
        'time going backwards',
        async () => {
          f.clock.now += 100;
          const r = await f.registry.register(NAME, body());
          return encodeEntry(unsigned({ type: 'agent.renewed', seq: 1, prev: r.leafHash, time: 1, body: body({ publicKey: agentKey(2) }) }), registryKey);
        },
        'REGISTRY_CONFLICT',
        /before the head's time/,
      ],
      [
        'revoking the last submitter key',
        async () => {
          const head = f.index.head(keySubject(registryKey.kid))!;
          return encodeEntry({ v: 1, type: 'key.revoked', subject: keySubject(registryKey.kid), seq: 1, prev: head.leafHash, time: f.clock.now, kid: registryKey.kid, body: { reason: 'superseded' } }, registryKey);
        },
        'REGISTRY_CONFLICT',
        /last active submitter key/,
      ],
    ];
    it.each(cases)('%s', async (_name, make, code, message) => {
      const bytes = await make();
      const size = f.log.stats().sequenced;
      await rejects(f.registry.submit(bytes), code, message);
      expect(f.log.stats().sequenced).toBe(size);
    });
  });

  it('a leaf added behind the registry (POST /add) that breaks a rule is skipped by the fold', async () => {
    const r = await f.registry.register(NAME, body());
    // A validly signed but stale entry (prev = null again) and junk, added raw.
    const stale = encodeEntry({ v: 1, type: 'agent.registered', subject: NAME, seq: 0, prev: null, time: 42, kid: registryKey.kid, body: body() }, registryKey);
    const { index: i1 } = await f.log.add(stale);
    const { index: i2 } = await f.log.add(new TextEncoder().encode('not an entry'));
    await f.log.waitForCheckpoint(i2);
    await f.registry.catchUp();
    expect(f.index.outcome(i1)).toMatchObject({ applied: false, subject: NAME });
    expect(f.index.outcome(i1)!.reason).toMatch(/already registered/);
    expect(f.index.outcome(i2)).toMatchObject({ applied: false, subject: null });
    expect(f.index.agent(NAME)!.headIndex).toBe(r.index);
  });

  it('the index rebuilt from the log alone equals the live one', async () => {
    await f.registry.register(NAME, body());
    await f.registry.register('ans://v1.0.0.billing.acme.example', body({ alias: 'billing.acme', capabilities: ['billing.read', 'orders.read'] }));
    await f.registry.register('ans://v0.1.0.scout.other.example', body({ owner: 'other', alias: undefined }));
    await f.registry.rotate(NAME, agentKey(7));
    await f.registry.revoke('ans://v0.1.0.scout.other.example', 'superseded');
    await f.log.add(new TextEncoder().encode('raw junk'));
    await f.registry.change(NAME, 'agent.updated', (b) => ({ ...b, capabilities: ['orders.read', 'orders.write'] }));
    const live = f.index.dump();

    f.index.close();
    for (const suffix of ['', '-wal', '-shm']) fs.rmSync(path.join(f.dir, `registry.db${suffix}`), { force: true });
    const rebuilt = new StateIndex(path.join(f.dir, 'registry.db'), ORIGIN);
    const again = await Registry.open({ log: f.log, index: rebuilt, key: registryKey });
    expect(rebuilt.dump()).toEqual(live);
    // The rebuilt registry keeps working.
    await again.revoke(NAME, 'cessationOfOperation');
    expect(rebuilt.agent(NAME)!.status).toBe('revoked');
    f.index = rebuilt;
  });

  it('list filters by owner, status and capability with keyset pagination', async () => {
    for (let i = 0; i < 5; i++) {
      await f.registry.register(`ans://v1.0.${i}.a${i}.acme.example`, body({ alias: undefined, owner: i % 2 === 0 ? 'acme' : 'other', capabilities: i < 3 ? ['x'] : ['y'] }));
    }
    await f.registry.revoke('ans://v1.0.4.a4.acme.example', 'unspecified');
    const names = (l: { name: string }[]) => l.map((a) => a.name.slice(6, 12));
    expect(names(f.index.agents({ owner: 'acme', limit: 10 }))).toEqual(['v1.0.0', 'v1.0.2', 'v1.0.4']);
    expect(names(f.index.agents({ status: 'active', capability: 'y', limit: 10 }))).toEqual(['v1.0.3']);
    const page1 = f.index.agents({ limit: 2 });
    const page2 = f.index.agents({ limit: 2, after: page1[1]!.name });
    expect(names([...page1, ...page2])).toEqual(['v1.0.0', 'v1.0.1', 'v1.0.2', 'v1.0.3']);
  });

  it('refuses an index that has applied more leaves than the log has', async () => {
    const other = new StateIndex(':memory:', ORIGIN);
    for (let i = 0; i < 5; i++) other.apply(i, new Uint8Array([i]), leafHash(new Uint8Array([i])));
    await rejects(Registry.open({ log: f.log, index: other, key: registryKey }), 'REGISTRY_CONFIG', /another log/);
    other.close();
  });
});
