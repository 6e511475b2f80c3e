// Golden JSON answers (spec/vectors/*.json) from a deterministic log: the
// shared test key and the first entries of the shared golden entries, each
// published before the next. Each file records the request, the status and
// the body; the server's body must equal JSON.stringify(file.body) byte for
// byte. Regenerate after an intended change: UPDATE_VECTORS=1 npx vitest run test/http/vectors.test.ts
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogApp } from '../../src/http/index.js';
import { leafHash, toHex } from '../../src/merkle/index.js';
import { addPublished, ENTRIES, openTestLog, SHARED_VECTORS, type TestLog } from './helpers.js';

const DIR = fileURLToPath(new URL('../../spec/vectors/', import.meta.url));
const UPDATE = process.env.UPDATE_VECTORS === '1';

interface Vector {
  description: string;
  request: string;
  status: number;
  body: unknown;
}

let t: TestLog;
let app: ReturnType<typeof createLogApp>;
// The answers, recorded in order as the log grows.
const answers = new Map<string, { request: string; status: number; text: string; description: string }>();

async function record(name: string, description: string, method: string, p: string, body?: Uint8Array) {
  const res = await app.request(p, { method, ...(body && { body: body as Uint8Array<ArrayBuffer> }) });
  answers.set(name, { request: `${method} ${p}`, status: res.status, text: await res.text(), description });
}

beforeAll(async () => {
  t = await openTestLog();
  app = createLogApp(t.log);
  // Sizes 1 and 2, then the third entry over HTTP, waiting for its checkpoint.
  await addPublished(t.log, ENTRIES.slice(0, 2));
  await record('add-wait', 'POST /add?wait=checkpoint: a proof bundle (spec/BUNDLE.md) of the entry in the first checkpoint covering it', 'POST', '/add?wait=checkpoint', ENTRIES[2]);
  await record('add', 'POST /add: the index once durable', 'POST', '/add', ENTRIES[3]);
  await t.log.waitForCheckpoint(3);
  await record('add-duplicate', 'POST /add of an entry already in the log', 'POST', '/add', ENTRIES[0]);
  await addPublished(t.log, ENTRIES.slice(4, 7));
  const cp3 = await t.log.treeHash(3);
  await record('entry', 'GET /v1/log/entry/<index>: a proof bundle (spec/BUNDLE.md) in the latest checkpoint (size 7)', 'GET', '/v1/log/entry/5');
  await record('inclusion', 'GET /v1/log/inclusion/<index>/<size>', 'GET', '/v1/log/inclusion/2/7');
  await record('inclusion-by-root', 'GET /v1/log/inclusion/<index>/<root hex> (root of the size-3 checkpoint)', 'GET', `/v1/log/inclusion/1/${toHex(cp3)}`);
  await record('consistency', 'GET /v1/log/consistency/<old>/<new>', 'GET', '/v1/log/consistency/3/7');
  await record('lookup', 'GET /v1/log/lookup/<leaf hash hex>', 'GET', `/v1/log/lookup/${toHex(leafHash(ENTRIES[4]!))}`);
  await record('info', 'GET /v1/log/info', 'GET', '/v1/log/info');
  await record('healthz', 'GET /healthz', 'GET', '/healthz');
  await record('error-bad-tile-path', 'a non-canonical tile path', 'GET', '/tile/0/x000/001');
  await record('error-not-found', 'an entry beyond the latest checkpoint', 'GET', '/v1/log/entry/7');
  await record('error-bad-number', 'a non-canonical decimal', 'GET', '/v1/log/inclusion/01/7');
  await record('error-range', 'an index not below the tree size', 'GET', '/v1/log/inclusion/7/7');
  await record('error-too-large', 'an entry over 65535 bytes', 'POST', '/add', new Uint8Array(65536));
  await record('error-empty', 'an empty entry', 'POST', '/add', new Uint8Array(0));
  await record('error-method', 'a wrong method on a known path', 'GET', '/add');
});
afterAll(() => t.close());

describe('spec/vectors', () => {
  it('every JSON answer matches its golden file byte for byte', () => {
    if (UPDATE) {
      fs.mkdirSync(DIR, { recursive: true });
      for (const [name, a] of answers) {
        const v: Vector = { description: a.description, request: a.request, status: a.status, body: JSON.parse(a.text) };
        fs.writeFileSync(path.join(DIR, `${name}.json`), `${JSON.stringify(v, null, 2)}\n`);
      }
    }
    const files = fs.readdirSync(DIR).filter((f) => f.endsWith('.json') && !f.startsWith('bundle-')); // bundle-*: test/client/bundle.test.ts
    expect(files.sort()).toEqual([...answers.keys()].map((n) => `${n}.json`).sort());
    for (const [name, a] of answers) {
      const v = JSON.parse(fs.readFileSync(path.join(DIR, `${name}.json`), 'utf8')) as Vector;
      expect(a.request, name).toBe(v.request);
      expect(a.status, name).toBe(v.status);
      expect(a.text, name).toBe(JSON.stringify(v.body));
    }
  });

  it('checkpoints in the vectors are the shared golden checkpoints', () => {
    const addWait = JSON.parse(answers.get('add-wait')!.text) as { checkpoint: string };
    expect(addWait.checkpoint.split('\n')[1]).toBe('3');
    expect(addWait.checkpoint).toBe(fs.readFileSync(path.join(SHARED_VECTORS, 'checkpoints/3'), 'utf8'));
  });
});
