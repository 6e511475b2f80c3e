// The verifier SDK in a real browser: src/client is bundled by esbuild for the
// browser platform into one ESM file, served with a small page from a local
// node:http server, and driven in Debian's Chromium via playwright-core
// (executablePath /usr/bin/chromium: nothing is downloaded). In the page it
// verifies a real bundle from a real log (JSON and CBOR) -> ok, a tampered
// one -> the typed failure, and proves an entry itself from the log's tiles.
// A screenshot goes to test-artifacts/browser-sdk.png.
// Without Chromium (apt-get install chromium) the suite is skipped locally and fails when CI is set.
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeBundleCbor, encodeBundleJson, TileClient, type ProofBundle } from '../../src/client/index.js';
import { toBase64 } from '../../src/merkle/index.js';
import { addPublished, ENTRIES, openTestLog, VKEY, type TestLog } from '../http/helpers.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const CHROMIUM = process.env.TILELOG_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = path.join(REPO, 'test-artifacts');
const missing = fs.existsSync(CHROMIUM) ? null : `${CHROMIUM} not found`;

if (missing !== null && process.env.CI) {
  describe('browser SDK', () => {
    it('needs Chromium in CI', () => {
      throw new Error(`browser test cannot run: ${missing}; apt-get install -y chromium`);
    });
  });
}

const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>tilelog SDK</title>
<style>body{font:14px monospace;margin:2em} .ok{color:#070} .fail{color:#a00}</style></head>
<body><h1>tilelog/client in the browser</h1><ul id="out"></ul>
<script type="module">
import * as sdk from '/sdk.js';
window.sdk = sdk;
window.report = (text, ok) => {
  const li = document.createElement('li');
  li.textContent = text;
  li.className = ok ? 'ok' : 'fail';
  document.getElementById('out').append(li);
};
window.sdkReady = true;
</script></body></html>`;

async function bundleSdk(): Promise<string> {
  const out = await build({
    entryPoints: [path.join(REPO, 'src/client/index.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  return out.outputFiles[0]!.text;
}

interface Served {
  url: string;
  close(): Promise<void>;
}

async function serve(sdkJs: string, tilesDir: string): Promise<Served> {
  const server = http.createServer((req, res) => {
    const p = new URL(req.url ?? '/', 'http://x').pathname;
    if (p === '/') return void res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(PAGE);
    if (p === '/sdk.js') return void res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(sdkJs);
    if (p.startsWith('/log/') && !p.includes('..')) {
      const f = path.join(tilesDir, ...p.slice('/log/'.length).split('/'));
      if (fs.existsSync(f) && fs.statSync(f).isFile()) return void res.writeHead(200, { 'Content-Type': 'application/octet-stream' }).end(fs.readFileSync(f));
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe.skipIf(missing !== null)('browser SDK (Chromium via playwright-core)', () => {
  let t: TestLog;
  let site: Served;
  let browser: Browser;
  let sdkJs: string;
  let bundle: ProofBundle;

  beforeAll(async () => {
    // A real log with 20 entries, and a bundle for entry 7 proven from its tiles.
    t = await openTestLog();
    await addPublished(t.log, ENTRIES.slice(0, 20));
    const tilesDir = path.join(t.dir, 'tiles');
    sdkJs = await bundleSdk();
    site = await serve(sdkJs, tilesDir);
    const client = new TileClient({ baseUrl: `${site.url}/log`, policy: { logKey: VKEY } });
    bundle = await client.proveEntry(7);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await site?.close();
    await t?.close();
  });

  it('the browser bundle has no node: imports and no Node built-ins', () => {
    expect(sdkJs).not.toMatch(/from\s*["']node:|require\(\s*["']node:|import\(\s*["']node:/);
    expect(sdkJs).not.toMatch(/require\(\s*["'](fs|path|crypto|buffer|module|url)["']\)/);
  });

  it('tree-shakes: a page importing only verifyCheckpoint does not ship cbor-x or the tile client', async () => {
    const out = await build({
      stdin: { contents: "export { verifyCheckpoint } from './src/client/index.ts';", resolveDir: REPO, loader: 'ts' },
      bundle: true,
      format: 'esm',
      platform: 'browser',
      write: false,
      logLevel: 'silent',
    });
    const js = out.outputFiles[0]!.text;
    expect(js).toMatch(/verifyCheckpoint/);
    expect(js).not.toMatch(/cbor|TileClient/i);
    expect(js.length).toBeLessThan(sdkJs.length);
  });

  it('verifies a real bundle (JSON and CBOR) in the page, rejects a tampered one with the typed error, and proves from tiles', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${site.url}/`);
    await page.waitForFunction(() => (window as unknown as { sdkReady?: boolean }).sdkReady === true);
    const json = encodeBundleJson(bundle);
    const cborB64 = toBase64(encodeBundleCbor(bundle));
    const tampered = JSON.stringify({ ...JSON.parse(json), index: 6 });

    const result = await page.evaluate(
      async ({ json, cborB64, tampered, vkey }) => {
        type Sdk = typeof import('../../src/client/index.js');
        const w = window as unknown as { sdk: Sdk; report(text: string, ok: boolean): void };
        const { sdk } = w;
        const policy = sdk.trustPolicy({ logKey: vkey });
        const out: Record<string, unknown> = {};
        const j = sdk.verifyBundle(json, policy);
        out.json = { index: j.index, size: j.checkpoint.size };
        w.report(`JSON bundle: entry ${j.index} is in ${j.checkpoint.origin} at size ${j.checkpoint.size}`, true);
        const cbor = Uint8Array.from(atob(cborB64), (c) => c.charCodeAt(0));
        const c = sdk.verifyBundle(cbor, policy);
        out.cbor = { index: c.index, size: c.checkpoint.size };
        w.report(`CBOR bundle (${cbor.length} bytes): entry ${c.index} verified`, true);
        try {
          sdk.verifyBundle(tampered, policy);
          out.tampered = 'accepted';
        } catch (err) {
          const e = err as InstanceType<Sdk['ClientError']>;
          out.tampered = { isClientError: e instanceof sdk.ClientError, code: e.code, step: e.step };
          w.report(`tampered bundle: FAILED at ${e.step} (${e.code})`, false);
        }
        const client = new sdk.TileClient({ baseUrl: `${location.origin}/log`, policy });
        const proved = await client.proveEntry(13);
        const v = sdk.verifyBundle(sdk.encodeBundleCbor(proved), policy);
        out.tiles = { index: v.index, size: v.checkpoint.size };
        w.report(`TileClient in the page proved entry ${v.index} from tiles at size ${v.checkpoint.size}`, true);
        return out;
      },
      { json, cborB64, tampered, vkey: VKEY },
    );

    expect(errors).toEqual([]);
    expect(result).toEqual({
      json: { index: 7, size: 20 },
      cbor: { index: 7, size: 20 },
      tampered: { isClientError: true, code: 'CLIENT_BUNDLE_INCLUSION', step: 'inclusion' },
      tiles: { index: 13, size: 20 },
    });
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'browser-sdk.png') });
    await page.close();
  });
});
