// The CA's issuance and revocation through the registry's write pipeline
// (src/registry/write-pipeline.ts): concurrent issuances share checkpoints
// and each is covered by one before it is returned; concurrent revocations
// of one certificate chain on the newest head instead of colliding.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isTilelogError } from '../../src/errors.js';
import type { AgentBody } from '../../src/registry/entries/index.js';
import { agentKey } from '../registry/helpers.js';
import { makeCsr, openCaFixture, type CaFixture } from './helpers.js';

const nameOf = (i: number) => `ans://v1.0.0.bot${i}.acme.example`;
const body = (i: number): AgentBody => ({ owner: 'acme', capabilities: [], endpoints: [{ protocol: 'A2A', url: `https://bot${i}.acme.example/` }], publicKey: agentKey(i), validation: 'none' });

let f: CaFixture;
beforeEach(async () => {
  f = await openCaFixture();
});
afterEach(async () => f.close());

describe('CA writes in the pipeline', () => {
  it('concurrent issuances to distinct agents all succeed, each checkpointed before it returns, sharing checkpoints', async () => {
    const N = 8;
    await Promise.all(Array.from({ length: N }, (_, i) => f.registry.register(nameOf(i), body(i))));
    const csrs = await Promise.all(Array.from({ length: N }, (_, i) => f.ca.prepareCsr(makeCsr(f.dir, `b${i}`).csr)));
    const before = f.log.stats().checkpoints;
    const issued = await Promise.all(
      csrs.map((csr, i) =>
        f.ca.issue(nameOf(i), csr).then((c) => ({ c, published: f.log.checkpoint().size })),
      ),
    );
    for (const { c, published } of issued) expect(c.write.index).toBeLessThan(published);
    expect(new Set(issued.map(({ c }) => c.serial)).size).toBe(N);
    for (let i = 0; i < N; i++) expect(f.ca.index.agentCerts(nameOf(i)).map((c) => c.serial)).toEqual([issued[i]!.c.serial]);
    expect(f.log.stats().checkpoints - before).toBeLessThan(N);
  });

  it('concurrent revocations of one certificate: one cert.revoked entry, every caller sees it revoked', async () => {
    await f.registry.register(nameOf(0), body(0));
    const c = await f.ca.issue(nameOf(0), await f.ca.prepareCsr(makeCsr(f.dir, 'r').csr));
    const sequenced = f.log.stats().sequenced;
    const out = await Promise.allSettled([f.ca.revoke(c.serial, 'keyCompromise'), f.ca.revoke(c.serial, 'superseded'), f.ca.revoke(c.serial, 'unspecified')]);
    for (const r of out) {
      if (r.status === 'rejected') expect.fail(`a revocation failed: ${isTilelogError(r.reason) ? r.reason.code : ''} ${String(r.reason)}`);
      expect(r.value.revoked).toMatchObject({ reason: 'keyCompromise' });
    }
    expect(f.log.stats().sequenced).toBe(sequenced + 1);
  });
});
