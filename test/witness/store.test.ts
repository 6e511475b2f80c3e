// SqliteWitnessStore contracts: the compare-and-swap, its last-line fork
// checks, configuration, evidence round trips, and persistence across reopen.
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import { isTilelogError } from '../../src/errors.js';
import { toBase64 } from '../../src/merkle/index.js';
import { originHash, SqliteWitnessStore, type CosignedCheckpoint } from '../../src/witness/index.js';
import { tempDir } from './helpers.js';

const O = 'example.com/store';
const root = (b: number) => new Uint8Array(32).fill(b);
const cp = (size: number, b: number, timestamp = 100): CosignedCheckpoint => ({
  origin: O,
  size,
  root: root(b),
  note: `${O}\n${size}\n${toBase64(root(b))}\n\n— x AAAAAAA=\n`,
  timestamp,
});

function open(dir = tempDir()): { store: SqliteWitnessStore; file: string } {
  const file = path.join(dir, 'witness.db');
  return { store: new SqliteWitnessStore(file), file };
}

describe('SqliteWitnessStore', () => {
  test('advance is a compare-and-swap on (size, root)', () => {
    const { store } = open();
    expect(store.advance(null, cp(3, 1))).toEqual({ ok: true });
    // Expecting "absent" again fails and reports the current state.
    const again = store.advance(null, cp(4, 2));
    expect(again.ok).toBe(false);
    expect(!again.ok && again.current?.size).toBe(3);
    // Right size, wrong root: fails.
    expect(store.advance({ size: 3, root: root(9) }, cp(5, 2)).ok).toBe(false);
    expect(store.advance({ size: 3, root: root(1) }, cp(5, 2)).ok).toBe(true);
    // Same size and root again (a fresh cosignature): allowed.
    expect(store.advance({ size: 5, root: root(2) }, cp(5, 2, 200)).ok).toBe(true);
    expect(store.latest(O)?.timestamp).toBe(200);
    expect(store.history().map((h) => [h.size, h.timestamp])).toEqual([
      [3, 100],
      [5, 100],
      [5, 200],
    ]);
    store.close();
  });

  test('the store itself refuses a smaller tree or a second root for a cosigned size', () => {
    const { store } = open();
    store.advance(null, cp(5, 1));
    const expectRefused = (fn: () => unknown) => {
      try {
        fn();
        expect.unreachable();
      } catch (err) {
        expect(isTilelogError(err, 'WITNESS_INCONSISTENT')).toBe(true);
      }
    };
    expectRefused(() => store.advance({ size: 5, root: root(1) }, cp(4, 1)));
    expectRefused(() => store.advance({ size: 5, root: root(1) }, cp(5, 7)));
    store.advance({ size: 5, root: root(1) }, cp(8, 2));
    expect(store.latest(O)?.size).toBe(8);
    expect(store.history()).toHaveLength(2);
    store.close();
  });

  test('state, configuration and evidence survive reopening', () => {
    const dir = tempDir();
    const a = open(dir).store;
    a.addLog(O, 'k1');
    a.addLog(O, 'k2');
    a.addLog(O, 'k1'); // idempotent
    a.addLog('a.example/log', 'k3');
    a.advance(null, cp(3, 1));
    a.recordEvidence({
      origin: O,
      reason: 'inconsistent-proof',
      detail: 'd',
      oldSize: 3,
      proof: [root(4), root(5)],
      note: 'n',
      stored: a.latest(O),
      receivedAt: 123,
    });
    a.recordEvidence({ origin: 'a.example/log', reason: 'proof-from-zero', detail: 'e', oldSize: 0, proof: [], note: 'm', stored: null, receivedAt: 124 });
    a.close();

    const b = open(dir).store;
    expect(b.listLogs()).toEqual([
      { origin: 'a.example/log', keys: ['k3'] },
      { origin: O, keys: ['k1', 'k2'] },
    ]);
    expect(b.latest(O)?.size).toBe(3);
    expect(b.latestByOriginHash(originHash(O))?.note).toBe(cp(3, 1).note);
    expect(b.latestByOriginHash(originHash('nobody'))).toBeNull();
    expect(toBase64(b.cosignedRoot(O, 3)!)).toBe(toBase64(root(1)));
    expect(b.cosignedRoot(O, 4)).toBeNull();
    const ev = b.evidence();
    expect(ev).toHaveLength(2);
    expect(ev[0]!.proof.map(toBase64)).toEqual([toBase64(root(4)), toBase64(root(5))]);
    expect(ev[0]!.stored?.size).toBe(3);
    expect(ev[1]!.stored).toBeNull();
    expect(ev[1]!.proof).toEqual([]);
    expect(b.evidence({ origin: O }).map((e) => e.id)).toEqual([ev[0]!.id]);
    expect(b.evidence({ after: ev[0]!.id }).map((e) => e.id)).toEqual([ev[1]!.id]);
    expect(b.evidence({ limit: 1 })).toHaveLength(1);

    expect(b.removeLog(O, 'k1')).toBe(1);
    expect(b.logKeys(O)).toEqual(['k2']);
    expect(b.removeLog(O)).toBe(1);
    expect(b.logKeys(O)).toEqual([]);
    expect(b.latest(O)?.size).toBe(3); // the cosigned state stays
    b.close();
  });

  test('two connections to one file: only one advance from the same state wins', () => {
    const dir = tempDir();
    const a = open(dir).store;
    const b = open(dir).store;
    a.advance(null, cp(1, 1));
    expect(a.advance({ size: 1, root: root(1) }, cp(2, 2)).ok).toBe(true);
    const lost = b.advance({ size: 1, root: root(1) }, cp(3, 3));
    expect(lost.ok).toBe(false);
    expect(!lost.ok && lost.current?.size).toBe(2);
    a.close();
    b.close();
  });
});
