// GET /v1/log/checkpoints: the published history, newest N ascending, and its
// limit validation.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createLogApp } from '../../src/http/index.js';
import { toBase64 } from '../../src/merkle/index.js';
import { addPublished, ENTRIES, openTestLog, type TestLog } from './helpers.js';

let t: TestLog;
beforeAll(async () => {
  t = await openTestLog();
  await addPublished(t.log, ENTRIES.slice(0, 6));
});
afterAll(() => t.close());

interface History {
  checkpoints: { size: number; rootHash: string; time: number | null }[];
}

test('lists published checkpoints in ascending order with roots and times', async () => {
  const app = createLogApp(t.log, { metrics: false });
  const res = await app.request('/v1/log/checkpoints');
  expect(res.status).toBe(200);
  expect(res.headers.get('access-control-allow-origin')).toBe('*');
  const body = (await res.json()) as History;
  expect(body.checkpoints.map((c) => c.size)).toEqual([0, 1, 2, 3, 4, 5, 6]); // 0: the empty tree signed at creation
  for (const c of body.checkpoints) {
    expect(c.rootHash).toBe(toBase64(await t.log.treeHash(c.size)));
    expect(typeof c.time).toBe('number');
  }
  const times = body.checkpoints.map((c) => c.time!);
  expect([...times].sort((a, b) => a - b)).toEqual(times);
  const last = (await (await app.request('/v1/log/checkpoints?limit=2')).json()) as History;
  expect(last.checkpoints.map((c) => c.size)).toEqual([5, 6]);
});

test('rejects a bad limit with a 400 naming it', async () => {
  const app = createLogApp(t.log, { metrics: false });
  for (const q of ['0', '1001', '-1', 'x', '01']) {
    const res = await app.request(`/v1/log/checkpoints?limit=${q}`);
    expect(res.status, q).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('HTTP_BAD_REQUEST');
    expect(body.error.message).toContain('limit');
  }
});
