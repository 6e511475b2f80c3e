// The conditional-write self-test at open, on a store that loses answers: a
// probe created by an attempt whose answer never came must not fail the open
// (the retry's 412 is our own earlier write: the probe's name is random), and
// the self-test must still refuse a store that ignores the conditions.

import { afterAll, beforeAll, expect, test } from 'vitest';
import { isTilelogError } from '../../src/errors.js';
import { s3Fixture, type S3Fixture } from './s3-helpers.js';

let fx: S3Fixture;
beforeAll(async () => {
  fx = await s3Fixture();
});
afterAll(async () => {
  fx.closeStores();
  await fx.server.close();
});

test.each(['lost', 'applied-500'] as const)('the first probe applied but its answer %s: the open succeeds, the probe is cleaned up', async (kind) => {
  const fault = fx.server.inject({ kind, verb: 'PUT', keyPattern: /\/\.tilelog\/probe-[0-9a-f]+$/, times: 1 });
  const store = await fx.open({ selfTest: true });
  expect(fault.hits).toBe(1);
  expect(store.warning).toBeNull();
  expect(fx.server.keys('tilelog-test', `${store.prefix}/.tilelog/`)).toEqual([]);
});

test('a store that ignores If-None-Match is still refused when the first probe lost its answer', async () => {
  fx.server.inject({ kind: 'lost', verb: 'PUT', keyPattern: /\/\.tilelog\/probe-[0-9a-f]+$/, times: 1 });
  // Emulate a store that ignores the condition on the second create: the
  // server's own 412 would be correct, so replace the probe's answer by a
  // success by removing the object just before the second probe arrives.
  const hold = fx.server.hold({ verb: 'PUT', keyPattern: /\/\.tilelog\/probe-[0-9a-f]+$/ });
  const opening = fx.open({ selfTest: true }).then(
    () => null,
    (e: unknown) => e,
  );
  // The next parked PUT, or a failure if the open ended first.
  const next = () => Promise.race([hold.next(), opening.then((e) => Promise.reject(new Error(`the open ended early: ${String(e)}`)))]);
  // 1st attempt (lost), its retry (412, ours): both let through.
  for (let i = 0; i < 2; i++) (await next()).release();
  // The second create (probe 2): delete the probe first, so it "succeeds".
  const second = await next();
  fx.server.deleteObject('tilelog-test', second.key);
  hold.stop();
  hold.releaseAll();
  const err = await opening;
  expect(isTilelogError(err, 'STORAGE_NO_CONDITIONAL_WRITES')).toBe(true);
  expect((err as Error).message).toContain('If-None-Match: * replaced an existing object');
});
