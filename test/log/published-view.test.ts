// PublishedView: only moves forward (a late, smaller checkpoint from any
// source is ignored), resolves waiters by index, waitFor(-1) resolves on the
// first checkpoint of any size, and fail() rejects current and later waits.

import { expect, test } from 'vitest';
import { PublishedView } from '../../src/log/published-view.js';
import type { PublishedCheckpoint } from '../../src/log/publisher.js';

const cp = (size: number, tag = ''): PublishedCheckpoint => ({ size, root: new Uint8Array(32).fill(size & 0xff), text: `cp ${size}${tag}\n` });

test('never moves back; the same size replaces the text (new cosignatures); onAdvance only when it grows', () => {
  const grew: number[] = [];
  const view = new PublishedView(null, (c) => grew.push(c.size));
  expect(view.current).toBeNull();
  expect(view.size).toBe(0);
  expect(view.advance(cp(5))).toBe(true);
  expect(view.advance(cp(3))).toBe(false);
  expect(view.size).toBe(5);
  expect(view.advance(cp(5, ' cosigned'))).toBe(false);
  expect(view.current?.text).toBe('cp 5 cosigned\n');
  expect(view.advance(cp(9))).toBe(true);
  expect(grew).toEqual([5, 9]);
});

test('waiters resolve with the first checkpoint covering their index; waitFor(-1) takes a size-0 checkpoint', async () => {
  const view = new PublishedView(null);
  const first = view.waitFor(-1);
  const w2 = view.waitFor(2);
  const w7 = view.waitFor(7);
  view.advance(cp(0));
  expect((await first).size).toBe(0);
  view.advance(cp(3));
  expect((await w2).size).toBe(3);
  let done = false;
  void w7.then(() => (done = true));
  await Promise.resolve();
  expect(done).toBe(false);
  view.advance(cp(8));
  expect((await w7).size).toBe(8);
  expect((await view.waitFor(1)).size).toBe(8);
});

test('an aborted wait rejects with its reason and is forgotten; fail() rejects pending and later waits', async () => {
  const view = new PublishedView(cp(1));
  const ac = new AbortController();
  const aborted = view.waitFor(5, ac.signal);
  ac.abort(new Error('client went away'));
  await expect(aborted).rejects.toThrow('client went away');
  const pending = view.waitFor(5);
  const err = new Error('log stopped');
  view.fail(err);
  await expect(pending).rejects.toBe(err);
  await expect(view.waitFor(9)).rejects.toBe(err);
  // What is already published still answers.
  expect((await view.waitFor(0)).size).toBe(1);
});
