// Property: the pipelined registry (every operation of a random sequence
// started at once) ends in the same state, with the same answer to each
// operation, as the naive reference: the same sequence applied one operation
// at a time, each awaited (the registry's behaviour before the pipeline).
// Both run on real logs (SQLite) with the same fixed clock, so the entries,
// and so the logs, are byte-identical when the pipeline is right.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isTilelogError } from '../../src/errors.js';
import type { AgentBody } from '../../src/registry/entries/index.js';
import type { Registry, WriteResult } from '../../src/registry/registry.js';
import { agentKey, openFixture } from './helpers.js';

type Op =
  | { kind: 'register'; name: number; key: number; alias: number | null }
  | { kind: 'rotate'; name: number; key: number }
  | { kind: 'update'; name: number; caps: number }
  | { kind: 'deprecate'; name: number }
  | { kind: 'revoke'; name: number };

const NAMES = 3;
const nameOf = (i: number) => `ans://v1.0.0.bot${i}.acme.example`;
const name = fc.integer({ min: 0, max: NAMES - 1 });
const key = fc.integer({ min: 0, max: 3 });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('register' as const), name, key, alias: fc.option(fc.integer({ min: 0, max: 1 }), { nil: null }) }),
  fc.record({ kind: fc.constant('rotate' as const), name, key }),
  fc.record({ kind: fc.constant('update' as const), name, caps: fc.integer({ min: 0, max: 2 }) }),
  fc.record({ kind: fc.constant('deprecate' as const), name }),
  fc.record({ kind: fc.constant('revoke' as const), name }),
);

function run(r: Registry, o: Op): Promise<WriteResult> {
  const n = nameOf(o.name);
  switch (o.kind) {
    case 'register': {
      const body: AgentBody = { owner: 'acme', capabilities: ['c0'], endpoints: [{ protocol: 'A2A', url: 'https://x.acme.example/a2a' }], publicKey: agentKey(o.key), validation: 'none' };
      if (o.alias !== null) body.alias = `bot${o.alias}.acme`;
      return r.register(n, body);
    }
    case 'rotate':
      return r.rotate(n, agentKey(o.key));
    case 'update':
      return r.update(n, { capabilities: [`c${o.caps}`] });
    case 'deprecate':
      return r.deprecate(n, 'old');
    case 'revoke':
      return r.revoke(n, 'unspecified');
  }
}

const answer = (p: Promise<WriteResult>) =>
  p.then(
    (w) => `ok ${w.index}${w.duplicate ? ' duplicate' : ''}`,
    (err: unknown) => (isTilelogError(err) ? err.code : `thrown ${String(err)}`),
  );

describe('pipelined registry = sequential reference', () => {
  it('same answers and the same index for random operation sequences', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 12 }), async (ops) => {
        const seq = await openFixture();
        const pipe = await openFixture();
        try {
          const want: string[] = [];
          for (const o of ops) want.push(await answer(run(seq.registry, o)));
          const got = await Promise.all(ops.map((o) => answer(run(pipe.registry, o))));
          expect(got).toEqual(want);
          expect(pipe.index.dump()).toEqual(seq.index.dump());
          expect(pipe.log.checkpoint().size).toBe(seq.log.checkpoint().size);
        } finally {
          await seq.close();
          await pipe.close();
        }
      }),
      { numRuns: 25 },
    );
  });
});
