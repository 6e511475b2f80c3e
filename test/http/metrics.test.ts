// GET /metrics scraped from real servers on 127.0.0.1: the log's series move
// as entries are added, deduplicated and published; routes are labelled by
// pattern; each app has its own registry; a log with a witness (a real
// witness app on its own server) shows cosigning latency and results on the
// log side, and requests by result and cosigned size on the witness side.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createLogApp, startServer, type RunningServer } from '../../src/http/index.js';
import { simplePolicy } from '../../src/note/index.js';
import { createWitnessApp } from '../../src/witness/index.js';
import { openTestWitness, WITNESS_KEY } from '../witness/helpers.js';
import { ORIGIN, VKEY, openTestLog, type TestLog } from './helpers.js';

/** Parses the Prometheus text format into `name{labels}` -> value. */
export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const sp = line.lastIndexOf(' ');
    out.set(line.slice(0, sp), Number(line.slice(sp + 1)));
  }
  return out;
}

async function scrape(url: string): Promise<Map<string, number>> {
  const res = await fetch(`${url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseMetrics(await res.text());
}

const enc = (s: string) => new TextEncoder().encode(s);

describe('log /metrics: partial-tile collector and storage health', () => {
  test('deleted objects and bytes, runs by result, writable stores, no failures', async () => {
    const { log, close } = await openTestLog({ partialGraceMs: 0, partialGcIntervalMs: 3_600_000 });
    const server = await startServer(createLogApp(log), { port: 0 });
    try {
      for (const s of ['a', 'b', 'c']) expect((await fetch(`${server.url}/add?wait=checkpoint`, { method: 'POST', body: s })).status).toBe(200);
      const run = await log.collectPartialTiles();
      const m = await scrape(server.url);
      // Sizes 1 and 2: their level-0 partials and bundles (size 3 keeps its own).
      expect(run.objects).toBe(4);
      expect(m.get('tilelog_partial_gc_deleted_objects_total')).toBe(4);
      expect(m.get('tilelog_partial_gc_deleted_bytes_total')).toBe(32 * 1 + 32 * 2 + (1 + 2) + 2 * (1 + 2)); // hash partials .p/1, .p/2; bundles of 1 and 2 one-byte entries with 2-byte prefixes
      expect(m.get('tilelog_partial_gc_runs_total{result="ok"}')).toBeGreaterThanOrEqual(1);
      expect(m.get('tilelog_partial_gc_runs_total{result="failed"}')).toBe(0);
      expect(m.get('tilelog_storage_writable{store="state"}')).toBe(1);
      expect(m.get('tilelog_storage_writable{store="tiles"}')).toBe(1);
      expect(m.get('tilelog_storage_failures_total')).toBe(0);
    } finally {
      await server.close();
      await close();
    }
  });
});

describe('log /metrics', () => {
  let t: TestLog;
  let server: RunningServer;
  beforeAll(async () => {
    t = await openTestLog();
    server = await startServer(createLogApp(t.log), { port: 0 });
  });
  afterAll(async () => {
    await server.close();
    await t.close();
  });

  test('tree size, sequenced, deduplicated, batches and histograms move with adds', async () => {
    const before = await scrape(server.url);
    expect(before.get('tilelog_tree_size')).toBe(0);
    expect(before.get('tilelog_entries_sequenced_total')).toBe(0);
    expect(before.get('tilelog_batch_size_count')).toBe(0);

    for (const s of ['a', 'b', 'c']) {
      const res = await fetch(`${server.url}/add?wait=checkpoint`, { method: 'POST', body: s });
      expect(res.status).toBe(200);
    }
    const dup = await fetch(`${server.url}/add`, { method: 'POST', body: 'a' });
    expect(dup.status).toBe(200);

    const m = await scrape(server.url);
    expect(m.get('tilelog_tree_size')).toBe(3);
    expect(m.get('tilelog_signed_tree_size')).toBe(3);
    expect(m.get('tilelog_entries_sequenced_total')).toBe(3);
    expect(m.get('tilelog_entries_integrated_total')).toBe(3);
    expect(m.get('tilelog_entries_deduplicated_total')).toBe(1);
    expect(m.get('tilelog_batches_total{result="ok"}')).toBe(4);
    expect(m.get('tilelog_batches_total{result="failed"}')).toBe(0);
    expect(m.get('tilelog_checkpoint_passes_total{result="ok"}')).toBe(3);
    expect(m.get('tilelog_batch_size_count')).toBe(4);
    expect(m.get('tilelog_batch_size_sum')).toBe(4);
    expect(m.get('tilelog_batch_size_bucket{le="1"}')).toBe(4);
    expect(m.get('tilelog_add_duration_seconds_count')).toBe(4);
    // The three new entries' batches were each covered by a checkpoint; the duplicate's batch added nothing new
    // and is covered by the current size as well.
    expect(m.get('tilelog_time_to_checkpoint_seconds_count')).toBeGreaterThanOrEqual(3);
    expect(m.get('tilelog_checkpoint_age_seconds')).toBeGreaterThanOrEqual(0);
    expect(m.get('tilelog_log_stopped')).toBe(0);
    expect(m.get('tilelog_pending_entries')).toBe(0);
    expect(m.get('tilelog_http_requests_total{method="POST",route="/add",status="200"}')).toBe(4);
  });

  test('HTTP requests are labelled by route pattern and status, never by raw path', async () => {
    await fetch(`${server.url}/v1/log/entry/0`);
    await fetch(`${server.url}/v1/log/entry/1`);
    await fetch(`${server.url}/v1/log/entry/99`);
    await fetch(`${server.url}/no/such/thing`);
    await fetch(`${server.url}/add`, { method: 'GET' });
    await fetch(`${server.url}/tile/0/000`);
    const m = await scrape(server.url);
    expect(m.get('tilelog_http_requests_total{method="GET",route="/v1/log/entry/:index",status="200"}')).toBe(2);
    expect(m.get('tilelog_http_requests_total{method="GET",route="/v1/log/entry/:index",status="404"}')).toBe(1);
    expect(m.get('tilelog_http_requests_total{method="GET",route="(unmatched)",status="404"}')).toBe(1);
    expect(m.get('tilelog_http_requests_total{method="GET",route="/add",status="405"}')).toBe(1);
    expect(m.get('tilelog_http_requests_total{method="GET",route="/tile/*",status="404"}')).toBe(1);
    for (const k of m.keys()) expect(k).not.toContain('/v1/log/entry/0');
    // The scrape itself is counted from the second scrape on.
    const again = await scrape(server.url);
    expect(again.get('tilelog_http_requests_total{method="GET",route="/metrics",status="200"}')).toBeGreaterThanOrEqual(1);
  });

  test('X-Request-Id: a plain client ID is echoed, anything else is replaced by a UUID', async () => {
    const given = await fetch(`${server.url}/healthz`, { headers: { 'X-Request-Id': 'abc-123' } });
    expect(given.headers.get('x-request-id')).toBe('abc-123');
    const made = await fetch(`${server.url}/v1/log/entry/x`, { headers: { 'X-Request-Id': 'bad id with spaces' } });
    expect(made.status).toBe(400);
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-/);
    const none = await fetch(`${server.url}/add`, { method: 'POST', body: 'x' });
    expect(none.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  test('two logs in one process keep separate registries', async () => {
    const other = await openTestLog();
    const s2 = await startServer(createLogApp(other.log), { port: 0 });
    try {
      await fetch(`${s2.url}/add?wait=checkpoint`, { method: 'POST', body: 'only here' });
      const a = await scrape(server.url);
      const b = await scrape(s2.url);
      expect(b.get('tilelog_tree_size')).toBe(1);
      expect(a.get('tilelog_tree_size')).toBeGreaterThanOrEqual(3);
      expect(b.get('tilelog_http_requests_total{method="POST",route="/add",status="200"}')).toBe(1);
    } finally {
      await s2.close();
      await other.close();
    }
  });

  test('tile cache bytes: what the cache holds once a full tile was read', async () => {
    const before = await scrape(server.url);
    expect(before.get('tilelog_tile_cache_bytes')).toBe(t.log.stats().tileCache.bytes);
    let last = 0;
    for (let i = 0; i < 300; i++) last = (await t.log.add(new TextEncoder().encode(`cache ${i}`))).index;
    await t.log.waitForCheckpoint(last);
    expect((await fetch(`${server.url}/tile/0/000`)).status).toBe(200);
    const m = await scrape(server.url);
    expect(m.get('tilelog_tile_cache_bytes')).toBeGreaterThanOrEqual(256 * 32);
    expect(m.get('tilelog_tile_cache_bytes')).toBe(t.log.stats().tileCache.bytes);
  });

  test('metrics: false serves no /metrics', async () => {
    const res = await createLogApp(t.log, { metrics: false }).request('/metrics');
    expect(res.status).toBe(404);
  });
});

describe('cosigning metrics on both sides', () => {
  test('a log with one witness: cosign latency and results per witness; the witness counts results and sizes', async () => {
    const w = openTestWitness({ logs: [[ORIGIN, VKEY]] });
    const ws = await startServer(createWitnessApp(w.witness, { logError: () => {} }), { port: 0 });
    const { log, close } = await openTestLog({
      witnesses: { policy: simplePolicy([{ url: ws.url, vkey: WITNESS_KEY.verifierKey }], 1), timeoutMs: 5000, refreshMs: 60_000 },
    });
    const ls = await startServer(createLogApp(log), { port: 0 });
    try {
      for (const s of ['one', 'two']) {
        const res = await fetch(`${ls.url}/add?wait=checkpoint`, { method: 'POST', body: s });
        expect(res.status).toBe(200);
      }
      const name = 'witness.tilelog.example/w1';
      const m = await scrape(ls.url);
      expect(m.get('tilelog_tree_size')).toBe(2);
      expect(m.get(`tilelog_witness_requests_total{witness="${name}",result="cosigned"}`)).toBeGreaterThanOrEqual(2);
      expect(m.get(`tilelog_witness_requests_total{witness="${name}",result="timeout"}`)).toBe(0);
      expect(m.get(`tilelog_witness_cosign_duration_seconds_count{witness="${name}"}`)).toBeGreaterThanOrEqual(2);

      // A bad request straight to the witness is counted by its error code.
      await fetch(`${ws.url}/add-checkpoint`, { method: 'POST', body: 'garbage' });
      const wm = await scrape(ws.url);
      expect(wm.get('tilelog_witness_server_requests_total{result="cosigned"}')).toBeGreaterThanOrEqual(2);
      expect(wm.get('tilelog_witness_server_requests_total{result="WITNESS_BAD_REQUEST"}')).toBe(1);
      expect(wm.get(`tilelog_witness_cosigned_size{origin="${ORIGIN}"}`)).toBe(2);
      expect(wm.get('tilelog_witness_http_requests_total{method="POST",route="/add-checkpoint",status="400"}')).toBe(1);
    } finally {
      await ls.close();
      await close();
      await ws.close();
      w.close();
    }
  });
});
