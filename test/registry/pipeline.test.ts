// The pipelined write path (src/registry/write-pipeline.ts) on a real log
// (SQLite sequence DB, real signatures): concurrent writes share checkpoints,
// admission sees every write admitted before it, a leaf added behind the
// registry is settled by the fold, and no answer is a success before its
// entry is in a published checkpoint.
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isTilelogError } from '../../src/errors.js';
import { leafHash } from '../../src/merkle/index.js';
import { openLog } from '../../src/log/index.js';
import { SqliteSequenceDB } from '../../src/storage/sqlite-sequence-db.js';
import { decodeEntry, encodeEntry, type AgentBody, type UnsignedEntry } from '../../src/registry/entries/index.js';
import { Registry, type WriteResult } from '../../src/registry/registry.js';
import { StateIndex } from '../../src/registry/state-index.js';
import { ApiKeys, newApiKey } from '../../src/registry/http/auth.js';
import { createRegistryApp } from '../../src/registry/http/app.js';
import { toBase64 } from '../../src/merkle/index.js';
import { quietLogger } from '../log/helpers.js';
import { agentKey, openFixture, ORIGIN, registryKey, testSigner, T0, type Fixture } from './helpers.js';

const NAME = 'ans://v1.0.0.bot.acme.example';
const nameOf = (i: number) => `ans://v1.0.${i}.bot${i}.acme.example`;
const body = (over: Partial<AgentBody> = {}): AgentBody => ({
  owner: 'acme',
  capabilities: ['a'],
  endpoints: [{ protocol: 'A2A', url: 'https://bot.acme.example/a2a' }],
  publicKey: agentKey(1),
  validation: 'none',
  ...over,
});
type Settled = { ok: true; r: WriteResult; publishedAtAnswer: number } | { ok: false; err: unknown };

let f: Fixture | null = null;
afterEach(async () => {
  await f?.close();
  f = null;
});

/** Runs p; records the published size when it answered (success must be covered by it). */
function settle(fx: Fixture, p: Promise<WriteResult>): Promise<Settled> {
  return p.then(
    (r) => ({ ok: true as const, r, publishedAtAnswer: fx.log.checkpoint().size }),
    (err: unknown) => ({ ok: false as const, err }),
  );
}
const code = (s: Settled) => (s.ok ? 'ok' : isTilelogError(s.err) ? s.err.code : String(s.err));

describe('pipelined registry writes', () => {
  it('many concurrent registrations of distinct names all succeed and share checkpoints', async () => {
    f = await openFixture();
    const fx = f;
    const before = fx.log.stats().checkpoints;
    const N = 40;
    const out = await Promise.all(Array.from({ length: N }, (_, i) => settle(fx, fx.registry.register(nameOf(i), body({ publicKey: agentKey(i) })))));
    expect(out.map(code)).toEqual(Array(N).fill('ok'));
    const indexes = out.map((s) => (s.ok ? s.r.index : -1));
    expect(new Set(indexes).size).toBe(N);
    for (const s of out) if (s.ok) expect(s.r.index).toBeLessThan(s.publishedAtAnswer);
    for (let i = 0; i < N; i++) expect(fx.index.agent(nameOf(i))).toMatchObject({ status: 'active', seq: 0, headIndex: indexes[i] });
    // Serialised, each write waited for its own checkpoint: N checkpoints at least.
    expect(fx.log.stats().checkpoints - before).toBeLessThan(N);
  });

  it('concurrent registrations of the same name: exactly one wins, the others get REGISTRY_CONFLICT and write nothing', async () => {
    f = await openFixture();
    const fx = f;
    const sequenced = fx.log.stats().sequenced;
    const out = await Promise.all(Array.from({ length: 12 }, (_, i) => settle(fx, fx.registry.register(NAME, body({ publicKey: agentKey(i) })))));
    const codes = out.map(code);
    expect(codes.filter((c) => c === 'ok')).toHaveLength(1);
    expect(codes.filter((c) => c === 'REGISTRY_CONFLICT')).toHaveLength(11);
    for (const s of out) if (!s.ok) expect((s.err as Error).message).toMatch(/already registered/);
    const winner = out.findIndex((s) => s.ok);
    expect(fx.index.agent(NAME)!.entry.body.publicKey).toEqual(agentKey(winner));
    // The losers were refused at admission: one leaf written.
    expect(fx.log.stats().sequenced).toBe(sequenced + 1);
  });

  it('a register/renew/update/deprecate/revoke chain submitted at once respects seq and prev', async () => {
    f = await openFixture();
    const fx = f;
    const ops = [
      fx.registry.register(NAME, body()),
      fx.registry.rotate(NAME, agentKey(2)),
      fx.registry.update(NAME, { capabilities: ['b', 'c'] }),
      fx.registry.rotate(NAME, agentKey(3)),
      fx.registry.deprecate(NAME, 'moving'),
      fx.registry.revoke(NAME, 'cessationOfOperation'),
      fx.registry.revoke(NAME, 'unspecified'), // idempotent: the revocation above
    ];
    const out = await Promise.all(ops.map((p) => settle(fx, p)));
    expect(out.map(code)).toEqual(Array(ops.length).fill('ok'));
    const rs = out.map((s) => (s.ok ? s.r : null)!);
    for (let k = 1; k < 6; k++) {
      const e = decodeEntry(await fx.log.entry(rs[k]!.index));
      expect(e.seq).toBe(k);
      expect(e.prev).toEqual(rs[k - 1]!.leafHash);
    }
    expect(rs[6]).toMatchObject({ index: rs[5]!.index, duplicate: true });
    expect(fx.index.agent(NAME)).toMatchObject({ status: 'revoked', seq: 5, headIndex: rs[5]!.index });
    expect(fx.index.agent(NAME)!.entry.body).toMatchObject({ publicKey: agentKey(3), capabilities: ['b', 'c'] });
  });

  describe('a registry entry added raw (POST /add) racing an admitted one', () => {
    const rawRegistration = (time: number) =>
      encodeEntry({ v: 1, type: 'agent.registered', subject: NAME, seq: 0, prev: null, time, kid: registryKey.kid, body: body({ publicKey: agentKey(9) }) } as UnsignedEntry, registryKey);

    it('the raw leaf reaches the log first: the fold skips ours and the registry answers 409, matching the final state', async () => {
      f = await openFixture();
      const fx = f;
      const raw = rawRegistration(T0 + 1);
      const rawAdd = fx.log.add(raw); // pooled before the registry's admission runs
      const ours = await settle(fx, fx.registry.register(NAME, body()));
      const { index: rawIndex } = await rawAdd;
      expect(code(ours)).toBe('REGISTRY_CONFLICT');
      expect((ours as { err: Error }).err.message).toMatch(/is in the log but another entry .* came first: REGISTRY_CONFLICT: .*already registered/);
      expect(fx.index.agent(NAME)).toMatchObject({ headIndex: rawIndex });
      expect(fx.index.agent(NAME)!.entry.body.publicKey).toEqual(agentKey(9));
      // The next change chains on the raw head, not on our skipped one.
      const next = await fx.registry.rotate(NAME, agentKey(4));
      expect(decodeEntry(await fx.log.entry(next.index))).toMatchObject({ seq: 1, prev: leafHash(raw) });
    });

    it('ours is admitted first: it wins, the raw leaf is skipped, and writes admitted behind ours chain on it', async () => {
      f = await openFixture({ batchMaxDelayMs: 20 });
      const fx = f;
      const pooled = fx.log.stats().pending;
      const reg = settle(fx, fx.registry.register(NAME, body()));
      while (fx.log.stats().pending === pooled) await new Promise((r) => setImmediate(r)); // ours is in the pool
      const raw = fx.log.add(rawRegistration(T0 + 2));
      const rot = settle(fx, fx.registry.rotate(NAME, agentKey(5))); // admitted against our pending registration
      const [a, b, { index: rawIndex }] = await Promise.all([reg, rot, raw]);
      expect([code(a), code(b)]).toEqual(['ok', 'ok']);
      expect(fx.index.outcome(rawIndex)).toMatchObject({ applied: false });
      expect(fx.index.agent(NAME)).toMatchObject({ seq: 1, headIndex: (b as { r: WriteResult }).r.index });
    });

    it('a foreign change between ours makes ours inapplicable: 409 from the fold, never a false success', async () => {
      f = await openFixture({ batchMaxDelayMs: 20 });
      const fx = f;
      const r0 = await fx.registry.register(NAME, body());
      const pooled = fx.log.stats().pending;
      // Ours: a renewal, pooled; then a foreign update of the same head; then ours again, admitted against our renewal.
      const rot = settle(fx, fx.registry.rotate(NAME, agentKey(2)));
      while (fx.log.stats().pending === pooled) await new Promise((r) => setImmediate(r));
      const foreign = encodeEntry({ v: 1, type: 'agent.updated', subject: NAME, seq: 1, prev: r0.leafHash, time: T0, kid: registryKey.kid, body: body({ capabilities: ['x'] }) } as UnsignedEntry, registryKey);
      const rawAdd = fx.log.add(foreign);
      const upd = settle(fx, fx.registry.update(NAME, { capabilities: ['y'] }));
      const [a, b, { index: fi }] = await Promise.all([rot, upd, rawAdd]);
      // Pool order: our renewal, the foreign update (skipped: seq 1 is taken), our update (seq 2, applies).
      expect(code(a)).toBe('ok');
      expect(fx.index.outcome(fi)).toMatchObject({ applied: false });
      expect(code(b)).toBe('ok');
      expect(fx.index.agent(NAME)!.entry.body).toMatchObject({ publicKey: agentKey(2), capabilities: ['y'] });
      // Now the foreign leaf lands first: ours (renewal + update admitted behind it) are both skipped.
      const head = fx.index.agent(NAME)!;
      const foreign2 = encodeEntry({ v: 1, type: 'agent.updated', subject: NAME, seq: head.seq + 1, prev: head.leafHash, time: T0, kid: registryKey.kid, body: body({ publicKey: agentKey(2), capabilities: ['z'] }) } as UnsignedEntry, registryKey);
      const raw2 = fx.log.add(foreign2);
      const rot2 = settle(fx, fx.registry.rotate(NAME, agentKey(3)));
      const upd2 = settle(fx, fx.registry.update(NAME, { capabilities: ['w'] }));
      const [c, d, { index: fi2 }] = await Promise.all([rot2, upd2, raw2]);
      expect(fx.index.outcome(fi2)).toMatchObject({ applied: true });
      expect([code(c), code(d)]).toEqual(['REGISTRY_CONFLICT', 'REGISTRY_CONFLICT']);
      expect((c as { err: Error }).err.message).toMatch(/has moved on/);
      expect(fx.index.agent(NAME)!.entry.body).toMatchObject({ publicKey: agentKey(2), capabilities: ['z'] });
      // And the overlay was rebuilt: the next change chains on the foreign head.
      const next = await fx.registry.rotate(NAME, agentKey(4));
      expect(decodeEntry(await fx.log.entry(next.index))).toMatchObject({ prev: leafHash(foreign2) });
    });
  });

  it('closing the log while writes are admitted never answers success for an unpublished entry; every success survives a reopen', async () => {
    // close() flushes the pool and publishes what is durable, so the writes admitted before it
    // may succeed (published); the ones admitted after it must fail, and none may succeed early.
    f = await openFixture();
    const fx = f;
    const N = 30;
    const sequenced = fx.log.stats().sequenced;
    const first = Array.from({ length: N / 2 }, (_, i) => settle(fx, fx.registry.register(nameOf(i), body({ publicKey: agentKey(i) }))));
    while (fx.log.stats().sequenced === sequenced) await new Promise((r) => setTimeout(r, 1)); // some admitted and durable
    const closed = fx.log.close();
    const second = Array.from({ length: N / 2 }, (_, i) => settle(fx, fx.registry.register(nameOf(N / 2 + i), body({ publicKey: agentKey(N / 2 + i) }))));
    await closed;
    const results = await Promise.all([...first, ...second]);
    let failures = 0;
    for (const s of results) {
      if (s.ok) expect(s.r.index).toBeLessThan(s.publishedAtAnswer);
      else (failures++, expect(isTilelogError(s.err), String(s.err)).toBe(true));
    }
    // The test means something only if the close caught writes on both sides.
    expect(failures).toBeGreaterThan(0);
    expect(failures).toBeLessThan(N);
    // Reopen the same database and tiles: every success is in the published log and in the index.
    fx.index.close();
    const tiles = fx.tiles;
    fx.db.close();
    const db = new SqliteSequenceDB(path.join(fx.dir, 'log.db'), { origin: ORIGIN });
    const log = await openLog({ origin: ORIGIN, signer: testSigner, db, tiles, logger: quietLogger });
    const index = new StateIndex(path.join(fx.dir, 'registry.db'), ORIGIN);
    const registry = await Registry.open({ log, index, key: registryKey });
    try {
      for (let i = 0; i < N; i++) {
        const s = results[i]!;
        if (s.ok) expect(index.agent(nameOf(i))).toMatchObject({ headIndex: s.r.index });
      }
      expect(registry.index.nextIndex).toBe(log.checkpoint().size);
    } finally {
      index.close();
      await log.close();
      db.close();
    }
    f = null; // closed above
  });

  it('over HTTP (the agents API in process): concurrent registrations share checkpoints and each answer carries its bundle', async () => {
    f = await openFixture();
    const fx = f;
    const key = newApiKey('acme');
    const app = createRegistryApp(fx.registry, { apiKeys: new ApiKeys([key.line]), dns: null, publicUrl: 'https://registry.example', rateLimit: { ratePerMinute: 6000, burst: 1000 } });
    const before = fx.log.stats().checkpoints;
    const N = 24;
    const res = await Promise.all(
      Array.from({ length: N }, async (_, i) => {
        const r = await app.request('/v1/agents?wait=checkpoint', {
          method: 'POST',
          headers: { Authorization: `Bearer ${key.key}` },
          body: JSON.stringify({ name: nameOf(i), capabilities: ['a'], endpoints: [{ protocol: 'A2A', url: 'https://bot.acme.example/a2a' }], publicKey: toBase64(agentKey(i)) }),
        });
        return { status: r.status, json: (await r.json()) as { index: number; bundle: { index: number } } };
      }),
    );
    expect(res.map((r) => r.status)).toEqual(Array(N).fill(201));
    for (const r of res) expect(r.json.bundle.index).toBe(r.json.index);
    expect(fx.log.stats().checkpoints - before).toBeLessThan(N);
  });
});
