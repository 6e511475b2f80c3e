// The state store: atomic round trips, refusing another log's or a corrupt
// state, and the lock against a second monitor.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isTilelogError } from '../../src/errors.js';
import { leafHash, TreeEdge } from '../../src/merkle/index.js';
import { parseSignerKey, signCheckpoint } from '../../src/note/index.js';
import { StateStore } from '../../src/monitor/index.js';
import { holdLockInChild, killHard } from '../storage/lock-child.js';
import { LOG_KEY, LOG_VKEY, ORIGIN, entry, tempDir } from './helpers.js';

function stateAt(size: number) {
  const edge = TreeEdge.empty();
  edge.append(Array.from({ length: size }, (_, i) => leafHash(entry(i))));
  const checkpoint = { origin: ORIGIN, size, root: edge.root(), extensions: [] };
  const note = signCheckpoint(checkpoint, parseSignerKey(LOG_KEY.signerKey));
  return { origin: ORIGIN, logKey: LOG_VKEY, trusted: note, trustedCheckpoint: checkpoint, edge };
}

function expectStateError(fn: () => unknown, pattern: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(isTilelogError(err, 'MONITOR_STATE'), String(err)).toBe(true);
    expect((err as Error).message).toMatch(pattern);
    return;
  }
  throw new Error('expected MONITOR_STATE');
}

describe('StateStore', () => {
  it('round-trips the trusted note and the edge, leaving no temporary file', () => {
    const dir = tempDir();
    const store = new StateStore(dir);
    expect(store.load(ORIGIN, LOG_VKEY)).toMatchObject({ trusted: null, trustedCheckpoint: null });
    const s = stateAt(777);
    store.save(s);
    const back = store.load(ORIGIN, LOG_VKEY);
    expect(back.trusted).toBe(s.trusted);
    expect(back.trustedCheckpoint?.size).toBe(777);
    expect(back.edge.size).toBe(777);
    expect(back.edge.root()).toEqual(s.edge.root());
    expect(fs.readdirSync(dir)).toEqual(['state.json']);
  });

  it("refuses another log's state, a corrupt file, and an audit beyond the trusted size", () => {
    const dir = tempDir();
    const store = new StateStore(dir);
    store.save(stateAt(10));
    expectStateError(() => store.load('other.example/log', LOG_VKEY), /holds the state of/);
    const file = path.join(dir, 'state.json');
    const good = JSON.parse(fs.readFileSync(file, 'utf8'));
    fs.writeFileSync(file, JSON.stringify({ ...good, audited: 11 }));
    expectStateError(() => store.load(ORIGIN, LOG_VKEY), /does not check out/);
    fs.writeFileSync(file, JSON.stringify({ ...good, trusted: good.trusted.replace('10\n', '11\n') }));
    expectStateError(() => store.load(ORIGIN, LOG_VKEY), /does not check out/);
    fs.writeFileSync(file, '{not json');
    expectStateError(() => store.load(ORIGIN, LOG_VKEY), /not JSON/);
  });

  it('locks the directory against a live monitor (another process or this one) and is free once it is SIGKILLed', async () => {
    const dir = tempDir();
    const holder = await holdLockInChild(path.join(dir, 'state.lock'));
    try {
      expectStateError(() => new StateStore(dir).lock(), new RegExp(`another monitor \\(pid ${holder.pid}\\)`));
    } finally {
      await killHard(holder);
    }
    const store = new StateStore(dir);
    store.lock(); // the kernel released the killed holder's lock
    expect(fs.readFileSync(path.join(dir, 'state.lock.pid'), 'utf8')).toBe(`${process.pid}\n`);
    expectStateError(() => new StateStore(dir).lock(), new RegExp(`another monitor \\(pid ${process.pid}\\)`));
    store.unlock();
    expect(fs.existsSync(path.join(dir, 'state.lock.pid'))).toBe(false);
    const next = new StateStore(dir);
    next.lock();
    next.unlock();
  });
});
