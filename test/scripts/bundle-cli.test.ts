// The production bundle (scripts/bundle-cli.ts, part of `npm run build`)
// runs: every other test starts the CLI from the test bundle, which leaves npm
// packages external, so only this one proves that the bundle `npm start`
// runs has every entry point it loads at run time beside main.js: the
// SQLite worker thread (the default for serve) and the read workers'
// process. It bundles into test-artifacts/ (dist/ is left alone) and starts
// serve from there: an add acknowledged once published, a tile read through a
// read worker.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleCli } from '../../scripts/bundle-cli.js';
import { REPO_ROOT } from '../cli-bundle.js';

const OUT = path.join(REPO_ROOT, 'test-artifacts', 'prod-bundle', 'cli');
let tmp: string;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tilelog-prod-bundle-'));
  fs.rmSync(path.dirname(OUT), { recursive: true, force: true });
  await bundleCli(OUT);
}, 120_000);
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.rmSync(path.dirname(OUT), { recursive: true, force: true });
});

async function serve(args: string[]): Promise<{ url: string; stop: () => Promise<number | null>; stderr: () => string }> {
  const child = spawn(process.execPath, [path.join(OUT, 'main.js'), 'serve', '--json', '--listen', '127.0.0.1:0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${err}`)), 60_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('\n')) (clearTimeout(timer), resolve((JSON.parse(out.split('\n')[0]!) as { url: string }).url));
    });
    void exited.then((code) => reject(new Error(`serve exited with ${code}: ${err}`)));
  });
  return {
    url,
    stderr: () => err,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

describe('the production CLI bundle', () => {
  it('has the entry points it starts at run time beside main.js', () => {
    for (const f of ['main.js', 'read-worker.js', 'sqlite-worker.js']) expect(fs.existsSync(path.join(OUT, f)), f).toBe(true);
  });

  it('serves: an add with the SQLite state in its worker thread, then tiles through a read worker', async () => {
    const state = path.join(tmp, 'state');
    const tiles = path.join(tmp, 'tiles');
    let s = await serve(['--state', state, '--tiles', tiles]);
    try {
      const res = await fetch(`${s.url}/add?wait=checkpoint`, { method: 'POST', body: 'from the production bundle' });
      expect(res.status, s.stderr()).toBe(200);
      expect(((await res.json()) as { index: number }).index).toBe(0);
    } finally {
      expect(await s.stop()).toBe(0);
    }
    s = await serve(['--state', state, '--tiles', tiles, '--read-workers', '1']);
    try {
      const cp = await (await fetch(`${s.url}/checkpoint`)).text();
      expect(cp.split('\n')[1]).toBe('1');
      const tile = await fetch(`${s.url}/tile/entries/000.p/1`);
      expect(tile.status).toBe(200);
      expect(Buffer.from(await tile.arrayBuffer()).subarray(2).toString()).toBe('from the production bundle');
    } finally {
      expect(await s.stop()).toBe(0);
    }
  }, 180_000);
});
