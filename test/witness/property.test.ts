// Property: whatever sequence of add-checkpoint requests a witness receives
// (in bursts of concurrent ones; honest, replayed, with random old sizes,
// garbage or wrong proofs, or from a fork signed by the same key), the
// checkpoints it cosigned (its history) form one chain: sizes never decrease,
// no size has two roots, and each cosigned tree is consistent with the one
// before, checked with src/merkle's verifyConsistency and a real proof.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { consistencyProof, EMPTY_ROOT, hashEqual, toBase64, treeHash, verifyConsistency, type Hash } from '../../src/merkle/index.js';
import { generateSignerKey, parseSignerKey, signCheckpoint } from '../../src/note/index.js';
import { formatAddCheckpointRequest } from '../../src/witness/index.js';
import { MemoryHashStore, makeLeaves } from '../merkle/helpers.js';
import { openTestWitness } from './helpers.js';

const ORIGIN = 'example.com/property';
const MAX = 40;
const SHARED_PREFIX = 9; // the fork agrees with the honest log on its first 9 leaves
const signer = parseSignerKey(generateSignerKey(ORIGIN, new Uint8Array(32).fill(5)).signerKey);
const VKEY = generateSignerKey(ORIGIN, new Uint8Array(32).fill(5)).verifierKey;

class Tree {
  readonly store: MemoryHashStore;
  readonly #roots = new Map<number, Hash>();
  readonly #notes = new Map<number, string>();
  constructor(leaves: Hash[]) {
    this.store = new MemoryHashStore(leaves);
  }
  async root(size: number): Promise<Hash> {
    let r = this.#roots.get(size);
    if (r === undefined) {
      r = size === 0 ? EMPTY_ROOT : await treeHash(size, this.store);
      this.#roots.set(size, r);
    }
    return r;
  }
  async note(size: number): Promise<string> {
    let n = this.#notes.get(size);
    if (n === undefined) {
      n = signCheckpoint({ origin: ORIGIN, size, root: await this.root(size), extensions: [] }, signer);
      this.#notes.set(size, n);
    }
    return n;
  }
  async proof(oldSize: number, newSize: number): Promise<Hash[]> {
    return oldSize === 0 || oldSize > newSize ? [] : consistencyProof(oldSize, newSize, this.store);
  }
}

const honestLeaves = makeLeaves(MAX, 0);
const honest = new Tree(honestLeaves);
const fork = new Tree([...honestLeaves.slice(0, SHARED_PREFIX), ...makeLeaves(MAX, 1).slice(SHARED_PREFIX)]);
const trees = [honest, fork];

type Req = {
  tree: 0 | 1; // which tree the checkpoint comes from
  size: number;
  old: { kind: 'tracked' } | { kind: 'random'; value: number };
  proof: { kind: 'honest' } | { kind: 'other-tree' } | { kind: 'garbage'; bytes: Uint8Array[] } | { kind: 'truncated' };
};

const reqArb: fc.Arbitrary<Req> = fc.record({
  tree: fc.constantFrom<0 | 1>(0, 0, 0, 1),
  size: fc.integer({ min: 0, max: MAX }),
  old: fc.oneof(
    { weight: 3, arbitrary: fc.constant({ kind: 'tracked' as const }) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: MAX }).map((value) => ({ kind: 'random' as const, value })) },
  ),
  proof: fc.oneof(
    { weight: 4, arbitrary: fc.constant({ kind: 'honest' as const }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'other-tree' as const }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'truncated' as const }) },
    {
      weight: 1,
      arbitrary: fc
        .array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { maxLength: 8 })
        .map((bytes) => ({ kind: 'garbage' as const, bytes })),
    },
  ),
});

async function build(req: Req, tracked: number): Promise<string> {
  const t = trees[req.tree]!;
  const old = req.old.kind === 'tracked' ? Math.min(tracked, req.size) : req.old.value;
  let proof: Hash[];
  switch (req.proof.kind) {
    case 'honest':
      proof = await t.proof(old, req.size);
      break;
    case 'other-tree':
      proof = await trees[1 - req.tree]!.proof(old, req.size);
      break;
    case 'truncated':
      proof = (await t.proof(old, req.size)).slice(1);
      break;
    case 'garbage':
      proof = req.proof.bytes;
      break;
  }
  return formatAddCheckpointRequest(old, proof, await t.note(req.size));
}

// The chain check: consecutive cosigned (size, root) pairs come from one tree
// that proves them consistent.
async function checkChain(history: { size: number; root: Hash }[]): Promise<void> {
  const rootAt = new Map<number, string>();
  for (const h of history) {
    const prev = rootAt.get(h.size);
    if (prev !== undefined) expect(toBase64(h.root), `two roots at size ${h.size}`).toBe(prev);
    rootAt.set(h.size, toBase64(h.root));
  }
  for (let i = 1; i < history.length; i++) {
    const a = history[i - 1]!;
    const b = history[i]!;
    expect(b.size).toBeGreaterThanOrEqual(a.size);
    let verified = false;
    for (const t of trees) {
      if (!hashEqual(await t.root(a.size), a.root) || !hashEqual(await t.root(b.size), b.root)) continue;
      const proof = a.size === 0 || a.size === b.size ? [] : await consistencyProof(a.size, b.size, t.store);
      verifyConsistency(undefined, a.size, b.size, proof, a.root, b.root);
      verified = true;
      break;
    }
    expect(verified, `cosigned ${a.size} then ${b.size} with no tree containing both`).toBe(true);
  }
}

describe('witness property', () => {
  test('what it cosigns is one consistent chain', async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(reqArb, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 12 }), async (bursts) => {
        runs++;
        const w = openTestWitness({ logs: [[ORIGIN, VKEY]] });
        try {
          let tracked = 0;
          let acked: { size: number; root: string }[] = [];
          for (const burst of bursts) {
            const bodies = await Promise.all(burst.map((r) => build(r, tracked)));
            const answers = await Promise.all(bodies.map((b) => w.post(b)));
            for (let i = 0; i < answers.length; i++) {
              const res = answers[i]!;
              const text = await res.text();
              expect([200, 400, 403, 409, 422], text).toContain(res.status);
              const req = burst[i]!;
              if (res.status === 200) acked.push({ size: req.size, root: toBase64(await trees[req.tree]!.root(req.size)) });
              if (res.status === 409) tracked = Number(text.trim()); // learn, as a log does
              if (res.status === 200) tracked = Math.max(tracked, req.size);
            }
          }
          const history = w.store.history({ limit: 1000 });
          await checkChain(history);
          // Every 200 is in the history, and the latest state is the last cosigned.
          expect(history.map((h) => ({ size: h.size, root: toBase64(h.root) }))).toEqual(expect.arrayContaining(acked));
          expect(history).toHaveLength(acked.length);
          const latest = w.store.latest(ORIGIN);
          if (history.length === 0) expect(latest).toBeNull();
          else expect(latest?.size).toBe(history[history.length - 1]!.size);
          acked = [];
        } finally {
          w.close();
        }
      }),
      { numRuns: 60 },
    );
    expect(runs).toBeGreaterThanOrEqual(60);
  });
});
