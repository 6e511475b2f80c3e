// createLogApp in process (app.request) against a real 300-entry log.
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TilelogError } from '../../src/errors.js';
import { createLogApp, type LogApi } from '../../src/http/index.js';
import type { Log } from '../../src/log/index.js';
import {
  fromBase64Strict,
  leafHash,
  toHex,
  verifyConsistency,
  verifyInclusion,
  encodeBundle,
} from '../../src/merkle/index.js';
import { openCheckpoint, parseVerifierKey } from '../../src/note/index.js';
import { decodeBundleCbor, decodeBundleJson, verifyBundle } from '../../src/client/index.js';
import { addAll, ENTRIES, openTestLog, ORIGIN, VKEY, type TestLog } from './helpers.js';

// Compile-time check: the engine's Log satisfies the HTTP layer's contract.
const _logIsLogApi = (log: Log): LogApi => log;
void _logIsLogApi;

const SIZE = 300;
let t: TestLog;
let app: ReturnType<typeof createLogApp>;

beforeAll(async () => {
  t = await openTestLog();
  await addAll(t.log, ENTRIES.slice(0, SIZE));
  app = createLogApp(t.log, { logError: () => {} });
});
afterAll(() => t.close());

async function json(path: string, init?: RequestInit) {
  const res = await app.request(path, init);
  return { res, body: (await res.json()) as Record<string, unknown> };
}

function b64s(v: unknown): Uint8Array[] {
  return (v as string[]).map((h) => fromBase64Strict(h, 32));
}

async function expectError(path: string, status: number, code: string, init?: RequestInit) {
  const res = await app.request(path, init);
  expect(res.status, `${init?.method ?? 'GET'} ${path}`).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const body = (await res.json()) as { error: { code: string; message: string } };
  expect(body.error.code, path).toBe(code);
  expect(typeof body.error.message).toBe('string');
  expect(body.error.message.length).toBeGreaterThan(5);
  return res;
}

describe('C2SP read endpoints', () => {
  it('GET /checkpoint is the signed checkpoint, short-lived, CORS-open', async () => {
    const res = await app.request('/checkpoint');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('public, max-age=1');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const opened = openCheckpoint(await res.text(), ORIGIN, [parseVerifierKey(VKEY)]);
    expect(opened.checkpoint.size).toBe(SIZE);
  });

  it('serves full tiles as immutable and partial ones as short-lived', async () => {
    const full = await app.request('/tile/0/000');
    expect(full.status).toBe(200);
    expect(full.headers.get('content-type')).toBe('application/octet-stream');
    expect(full.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(full.headers.get('access-control-allow-origin')).toBe('*');
    const data = new Uint8Array(await full.arrayBuffer());
    expect(data.length).toBe(256 * 32);
    expect(toHex(data.subarray(0, 32))).toBe(toHex(leafHash(ENTRIES[0]!)));

    const partial = await app.request('/tile/0/001.p/44');
    expect(partial.status).toBe(200);
    expect(partial.headers.get('cache-control')).toBe('public, max-age=60');
    expect((await partial.arrayBuffer()).byteLength).toBe(44 * 32);

    const bundle = await app.request('/tile/entries/000');
    expect(bundle.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(new Uint8Array(await bundle.arrayBuffer())).toEqual(encodeBundle(ENTRIES.slice(0, 256)));
    expect((await app.request('/tile/entries/001.p/44')).status).toBe(200);
    expect((await app.request('/tile/1/000.p/1')).status).toBe(200);
  });

  it('HEAD works like GET without a body', async () => {
    const res = await app.request('/tile/0/000', { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect((await res.arrayBuffer()).byteLength).toBe(0);
  });

  it('answers 404 JSON for well-formed tiles that do not exist', async () => {
    for (const p of ['/tile/0/002', '/tile/0/001', '/tile/0/001.p/45', '/tile/2/000.p/1', '/tile/entries/x001/000']) {
      const res = await expectError(p, 404, 'HTTP_NOT_FOUND');
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
    }
  });

  it.each([
    '/tile/0/x000/001',
    '/tile/0/1',
    '/tile/0/0001',
    '/tile/0/01',
    '/tile/0/000.p/0',
    '/tile/0/000.p/256',
    '/tile/0/000.p/300',
    '/tile/0/000.p/01',
    '/tile/0/000.p/',
    '/tile/00/000',
    '/tile/64/000',
    '/tile/-1/000',
    '/tile/0/-01',
    '/tile/entries/000.p/0',
    '/tile/entries/1',
    '/tile/0',
    '/tile/',
    '/tile/0/000/',
    '/tile/0/x1000/000',
    '/tile/0/%30%30%30',
    '/tile/data/000',
  ])('rejects the non-canonical tile path %s with 400', async (p) => {
    await expectError(p, 400, 'LAYOUT_BAD_PATH');
  });
});

describe('POST /add', () => {
  it('refuses an empty body', async () => {
    await expectError('/add', 400, 'LOG_ENTRY_SIZE', { method: 'POST', body: new Uint8Array(0) });
    await expectError('/add', 400, 'LOG_ENTRY_SIZE', { method: 'POST' });
  });

  it('refuses 65536 bytes with 413 and accepts 65535', async () => {
    await expectError('/add', 413, 'HTTP_TOO_LARGE', { method: 'POST', body: new Uint8Array(65536) });
    const { res, body } = await json('/add', { method: 'POST', body: new Uint8Array(65535).fill(7) });
    expect(res.status).toBe(200);
    expect(body.index).toBe(SIZE);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('refuses a declared Content-Length over the cap, and a malformed one', async () => {
    const big = new Request('http://x/add', { method: 'POST', headers: { 'content-length': '1000000' } });
    expect((await app.request(big)).status).toBe(413);
    const bad = new Request('http://x/add', { method: 'POST', headers: { 'content-length': '12abc' }, body: 'x' });
    expect((await app.request(bad)).status).toBe(400);
  });

  it('deduplicates', async () => {
    const { body } = await json('/add', { method: 'POST', body: ENTRIES[5]! as Uint8Array<ArrayBuffer> });
    expect(body).toEqual({ index: 5, duplicate: true });
  });

  it('rejects an unknown wait= value', async () => {
    await expectError('/add?wait=forever', 400, 'HTTP_BAD_REQUEST', { method: 'POST', body: 'x' });
  });

  it('with ?wait=checkpoint returns a proof that verifies offline', async () => {
    const entry = new TextEncoder().encode('wait for me');
    const { res, body } = await json('/add?wait=checkpoint', { method: 'POST', body: entry });
    expect(res.status).toBe(200);
    const index = body.index as number;
    expect(Object.keys(body)).toEqual(['version', 'index', 'entry', 'inclusionProof', 'checkpoint']);
    const opened = openCheckpoint(body.checkpoint as string, ORIGIN, [parseVerifierKey(VKEY)]);
    expect(fromBase64Strict(body.entry as string)).toEqual(entry);
    verifyInclusion(undefined, index, opened.checkpoint.size, leafHash(entry), b64s(body.inclusionProof), opened.checkpoint.root);
    // It is a proof bundle (spec/BUNDLE.md); a duplicate says so in a header.
    expect(verifyBundle(JSON.stringify(body), { logKey: VKEY }).index).toBe(index);
    const again = await app.request('/add?wait=checkpoint', { method: 'POST', body: entry, headers: { accept: 'application/cbor' } });
    expect([again.status, again.headers.get('content-type'), again.headers.get('tilelog-duplicate')]).toEqual([200, 'application/cbor', 'true']);
    expect(verifyBundle(new Uint8Array(await again.arrayBuffer()), { logKey: VKEY }).index).toBe(index);
  });
});

describe('methods and unknown routes', () => {
  it.each([
    ['POST', '/checkpoint', 'GET, HEAD'],
    ['DELETE', '/tile/0/000', 'GET, HEAD'],
    ['GET', '/add', 'POST'],
    ['PUT', '/add', 'POST'],
    ['POST', '/v1/log/entry/0', 'GET, HEAD'],
    ['PATCH', '/v1/log/info', 'GET, HEAD'],
  ])('%s %s is 405 with Allow: %s', async (method, p, allow) => {
    const res = await expectError(p, 405, 'HTTP_METHOD', { method });
    expect(res.headers.get('allow')).toBe(allow);
  });

  it.each(['/', '/nope', '/v1/log', '/v1/log/entry', '/v1/log/entry/1/2', '/checkpoint/x', '/v2/log/info'])(
    'unknown route %s is 404 JSON',
    async (p) => {
      await expectError(p, 404, 'HTTP_NOT_FOUND');
    },
  );
});

describe('JSON proofs', () => {
  const latest = () => t.log.checkpoint();

  it('entry: the entry, its leaf hash and a proof to the latest checkpoint', async () => {
    const { res, body } = await json('/v1/log/entry/7');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, max-age=1');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(fromBase64Strict(body.entry as string)).toEqual(ENTRIES[7]);
    const opened = openCheckpoint(body.checkpoint as string, ORIGIN, [parseVerifierKey(VKEY)]);
    expect(opened.checkpoint.size).toBe(latest().size);
    verifyInclusion(undefined, 7, opened.checkpoint.size, leafHash(ENTRIES[7]!), b64s(body.inclusionProof), opened.checkpoint.root);
    // The same bundle in CBOR.
    const cbor = await app.request('/v1/log/entry/7', { headers: { accept: 'application/json;q=0.5, application/cbor' } });
    expect(cbor.headers.get('content-type')).toBe('application/cbor');
    expect(decodeBundleCbor(new Uint8Array(await cbor.arrayBuffer()))).toEqual(decodeBundleJson(JSON.stringify(body)));
  });

  it('inclusion proofs verify for every index at several sizes', async () => {
    for (const size of [1, 2, 3, 7, 256, 257, SIZE]) {
      const root = await t.log.treeHash(size);
      for (let i = 0; i < size; i += size > 20 ? 37 : 1) {
        const { res, body } = await json(`/v1/log/inclusion/${i}/${size}`);
        expect(res.status).toBe(200);
        expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
        expect(body.rootHash).toBe(Buffer.from(root).toString('base64'));
        // The leaf hash comes from the tree's tiles (Log.leafHash), not from the entry: it must be the entry's.
        expect(body.leafHash).toBe(Buffer.from(leafHash(ENTRIES[i]!)).toString('base64'));
        verifyInclusion(undefined, i, size, leafHash(ENTRIES[i]!), b64s(body.inclusionProof), root);
        // Tampering with the proof fails.
        const proof = b64s(body.inclusionProof);
        if (proof.length > 0) {
          proof[0] = proof[0]!.slice();
          proof[0]![0] = proof[0]![0]! ^ 1;
          expect(() => verifyInclusion(undefined, i, size, leafHash(ENTRIES[i]!), proof, root)).toThrow(TilelogError);
        }
      }
    }
  });

  it('consistency proofs verify between many sizes', async () => {
    const sizes = [1, 2, 3, 4, 5, 8, 100, 255, 256, 257, SIZE];
    for (const a of sizes) {
      for (const b of sizes) {
        if (a > b) continue;
        const { res, body } = await json(`/v1/log/consistency/${a}/${b}`);
        expect(res.status).toBe(200);
        const oldRoot = await t.log.treeHash(a);
        const newRoot = await t.log.treeHash(b);
        expect(body.oldRoot).toBe(Buffer.from(oldRoot).toString('base64'));
        expect(body.newRoot).toBe(Buffer.from(newRoot).toString('base64'));
        verifyConsistency(undefined, a, b, b64s(body.consistencyProof), oldRoot, newRoot);
      }
    }
  });

  it('accepts roots of published checkpoints in place of sizes', async () => {
    const cp = latest();
    const hex = toHex(cp.root);
    const bySize = await (await app.request(`/v1/log/inclusion/3/${cp.size}`)).text();
    const byRoot = await (await app.request(`/v1/log/inclusion/3/${hex}`)).text();
    expect(byRoot).toBe(bySize);
    const c = await json(`/v1/log/consistency/${hex}/${hex}`);
    expect(c.body).toMatchObject({ oldSize: cp.size, newSize: cp.size, consistencyProof: [] });
    await expectError(`/v1/log/inclusion/3/${'ab'.repeat(32)}`, 404, 'LOG_NOT_FOUND');
    await expectError(`/v1/log/consistency/1/${'AB'.repeat(32)}`, 400, 'HTTP_BAD_REQUEST');
  });

  it.each([
    '/v1/log/entry/01',
    '/v1/log/entry/-1',
    '/v1/log/entry/1.0',
    '/v1/log/entry/1e3',
    '/v1/log/entry/0x10',
    '/v1/log/entry/9007199254740992',
    '/v1/log/entry/99999999999999999999999',
    '/v1/log/entry/%201',
    '/v1/log/entry/abc',
    '/v1/log/inclusion/1/03',
    '/v1/log/inclusion/1/-5',
    '/v1/log/consistency/+1/2',
    '/v1/log/consistency/1/2.5',
    '/v1/log/lookup/xyz',
    '/v1/log/lookup/' + 'A'.repeat(64),
    '/v1/log/lookup/' + 'a'.repeat(63),
  ])('rejects the malformed number or hash in %s with 400', async (p) => {
    await expectError(p, 400, 'HTTP_BAD_REQUEST');
  });

  it('range errors are 4xx, never 500', async () => {
    await expectError('/v1/log/inclusion/5/5', 400, 'MERKLE_RANGE');
    await expectError('/v1/log/inclusion/0/0', 400, 'MERKLE_RANGE');
    await expectError('/v1/log/consistency/0/5', 400, 'MERKLE_RANGE');
    await expectError('/v1/log/consistency/6/5', 400, 'MERKLE_RANGE');
    await expectError('/v1/log/inclusion/0/9007199254740991', 404, 'LOG_NOT_FOUND');
    await expectError('/v1/log/consistency/1/9007199254740991', 404, 'LOG_NOT_FOUND');
    await expectError('/v1/log/entry/9007199254740991', 404, 'LOG_NOT_FOUND');
    await expectError(`/v1/log/entry/${latest().size}`, 404, 'LOG_NOT_FOUND');
  });

  it('lookup finds an entry by leaf hash', async () => {
    const hash = leafHash(ENTRIES[42]!);
    const { res, body } = await json(`/v1/log/lookup/${toHex(hash)}`);
    expect(res.status).toBe(200);
    expect(body.index).toBe(42);
    await expectError(`/v1/log/lookup/${'0'.repeat(64)}`, 404, 'LOG_NOT_FOUND');
  });
});

describe('info and health', () => {
  it('info lists origin, key, size and endpoints', async () => {
    const { body } = await json('/v1/log/info');
    expect(body.origin).toBe(ORIGIN);
    expect(body.verifierKey).toBe(VKEY);
    expect(body.treeSize).toBe(t.log.checkpoint().size);
    expect(Object.keys(body.endpoints as object)).toContain('consistency');
  });

  it('healthz and readyz', async () => {
    expect((await json('/healthz')).body).toEqual({ status: 'ok' });
    expect((await json('/readyz')).body).toEqual({ status: 'ready' });
    const draining = createLogApp(t.log, { isReady: () => false });
    const res = await draining.request('/readyz');
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
  });
});

describe('error table', () => {
  function failingLog(err: unknown): LogApi {
    const fail = () => Promise.reject(err);
    return {
      origin: ORIGIN,
      verifierKey: VKEY,
      add: fail,
      waitForCheckpoint: fail,
      checkpoint: () => t.log.checkpoint(),
      sizeForRoot: async () => null,
      treeHash: fail,
      inclusionProof: fail,
      consistencyProof: fail,
      entry: fail,
      lookup: fail,
      readPublic: fail,
    };
  }

  it('LOG_PUSHBACK is 503 with Retry-After', async () => {
    const a = createLogApp(failingLog(new TilelogError('LOG_PUSHBACK', 'too many pending entries')));
    const res = await a.request('/add', { method: 'POST', body: 'x' });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(await res.json()).toEqual({ error: { code: 'LOG_PUSHBACK', message: 'too many pending entries' } });
  });

  it('server faults are 500 without internals, and are logged', async () => {
    const logged: unknown[] = [];
    const a = createLogApp(failingLog(new Error('disk on fire at /secret/path')), { logError: (_m, e) => logged.push(e) });
    const res = await a.request('/tile/0/000');
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toContain('secret');
    expect(JSON.parse(text).error.code).toBe('INTERNAL');
    expect(logged).toHaveLength(1);
  });

  it('a ?wait=checkpoint that times out is 503, and the entry is kept', async () => {
    const never: LogApi = {
      ...failingLog(new Error('unused')),
      add: async () => ({ index: 12, duplicate: false }),
      waitForCheckpoint: (_i, signal) =>
        new Promise((_resolve, reject) => signal?.addEventListener('abort', () => reject(signal.reason))),
    };
    const a = createLogApp(never, { waitTimeoutMs: 50 });
    const res = await a.request('/add?wait=checkpoint', { method: 'POST', body: 'x' });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('/v1/log/entry/12');
  });
});

describe('percent-escapes', () => {
  it('a malformed escape is a 400 on routes of sub-apps mounted after createLogApp too (registry, CA, explorer)', async () => {
    const withSub = createLogApp(t.log, { logError: () => {} });
    // A sub-app that decodes its parameter again, as the CA's OCSP route once did (a URIError, then a 500).
    const sub = new Hono();
    sub.get('/v1/sub/:x', (c) => c.text(decodeURIComponent(c.req.param('x'))));
    withSub.route('/', sub);
    expect(await (await withSub.request('/v1/sub/%2525')).text()).toBe('%');
    for (const bad of ['/v1/sub/%', '/v1/sub/%E0%A4%A', '/v1/sub/ok?q=%zz']) {
      const res = await withSub.request(bad);
      expect(res.status, bad).toBe(400);
      expect((await res.json()).error.code).toBe('HTTP_BAD_REQUEST');
    }
  });
});
