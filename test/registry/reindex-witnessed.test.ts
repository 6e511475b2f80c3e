// `tilelog registry reindex` on a log whose witnesses have not cosigned its
// latest checkpoint: the leaves past the public checkpoint are signed but not
// served, so the rebuilt index must stop at the public size. Before the
// database recorded that size, reindex folded to the signed size and the
// server then refused to start ("the index has applied N leaves but the log
// has M"). The witness here is unreachable for the whole test.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteSequenceDB } from '../../src/storage/sqlite-sequence-db.js';
import { StateIndex } from '../../src/registry/state-index.js';
import { runCli, startServe, tempDir } from '../cli/helpers.js';

const ORIGIN = 'reindex-witnessed.test/log';
let dir: string;
let state: string;
let witnessVkey: string;

const serveArgs = (witness = true) => [
  '--state', state,
  '--tiles', path.join(dir, 'tiles'),
  '--listen', '127.0.0.1:0',
  '--origin', ORIGIN,
  '--registry', '--no-registry-dns-validation',
  // Port 1 is never reachable: the policy is never met and the public checkpoint stays where it is.
  ...(witness ? ['--witness', `http://127.0.0.1:1,${witnessVkey}`, '--witness-quorum', '1', '--witness-timeout-ms', '300'] : []),
];

const sizes = () => {
  const db = new SqliteSequenceDB(path.join(state, 'log.db'), { origin: ORIGIN });
  try {
    return { signed: db.state()?.size ?? 0, published: db.publishedSize() };
  } finally {
    db.close();
  }
};

beforeAll(async () => {
  dir = tempDir('tilelog-reindex-witnessed-');
  state = path.join(dir, 'state');
  const w = await runCli(['witness', 'keygen', '--name', 'w.reindex.example', '--out', path.join(dir, 'w.key'), '--json']);
  expect(w.code).toBe(0);
  witnessVkey = (JSON.parse(w.stdout) as { verifierKey: string }).verifierKey;
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('registry reindex with witnesses pending', () => {
  it('rebuilds only up to the public checkpoint, and the server starts on the rebuilt index', async () => {
    // First without witnesses, so the registry's key entry is public (a fresh
    // registry waits for it at start), then with one that never answers.
    let serve = await startServe(serveArgs(false));
    const published = (await (await fetch(`${serve.url}/checkpoint`)).text()).split('\n')[1];
    expect((await serve.stop()).code).toBe(0);
    serve = await startServe(serveArgs());
    try {
      for (let i = 0; i < 3; i++) expect((await fetch(`${serve.url}/add`, { method: 'POST', body: `pending-${i}` })).status).toBe(200);
      // Wait until the log has signed the raw adds (it cannot publish them).
      const deadline = Date.now() + 20_000;
      for (;;) {
        const st = (await (await fetch(`${serve.url}/v1/log/witnesses`)).json()) as { signedSize: number; publishedSize: number };
        if (st.signedSize >= Number(published) + 3) {
          expect(st.publishedSize).toBe(Number(published));
          break;
        }
        if (Date.now() > deadline) throw new Error(`the log did not sign the adds: ${JSON.stringify(st)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      expect((await serve.stop()).code).toBe(0);
    }
    const before = sizes();
    expect(before.signed).toBeGreaterThanOrEqual(Number(published) + 3);
    expect(before.published).toBe(Number(published));

    const r = await runCli(['registry', 'reindex', '--state', state, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { leaves: number }).leaves).toBe(Number(published));
    const idx = new StateIndex(path.join(state, 'registry.db'), ORIGIN);
    try {
      expect(idx.nextIndex).toBe(Number(published));
    } finally {
      idx.close();
    }

    // The server starts on it and its registry answers.
    serve = await startServe(serveArgs());
    try {
      const res = await fetch(`${serve.url}/v1/agents`);
      expect(res.status).toBe(200);
      await new Promise((r) => setTimeout(r, 300));
      expect(serve.child.exitCode).toBeNull();
    } finally {
      expect((await serve.stop()).code).toBe(0);
    }
  });
});
