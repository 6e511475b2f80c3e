// The log browser's server side and its built bundle: / and /explorer/*
// answer with the strict CSP, right types and cache headers; a missing
// build gives a helpful page; asset names cannot escape the directory; and
// the bundle names no other host (it loads and fetches only from the log).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildExplorer, type ExplorerBuild } from '../../scripts/build-explorer.js';
import { createExplorerApp, EXPLORER_CSP } from '../../src/http/explorer.js';

let dir: string;
let built: ExplorerBuild;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tilelog-explorer-'));
  built = await buildExplorer(path.join(dir, 'explorer'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const file = (prefix: string) => built.files.find((f) => f.name.startsWith(prefix))!.name;

describe('explorer bundle', () => {
  it('has a hashed script and stylesheet, an index.html naming them, and stays small', () => {
    const html = fs.readFileSync(path.join(built.outDir, 'index.html'), 'utf8');
    expect(file('app-')).toMatch(/^app-[A-Z0-9]{8}\.js$/);
    expect(file('style-')).toMatch(/^style-[A-Z0-9]{8}\.css$/);
    expect(html).toContain(`src="/explorer/${file('app-')}"`);
    expect(html).toContain(`href="/explorer/${file('style-')}"`);
    const gzip = built.files.reduce((n, f) => n + f.gzipBytes, 0);
    expect(gzip).toBeLessThan(100_000);
  });

  it('names no other host and no Node built-in: every URL is an XML namespace or our own ans:// scheme text', () => {
    for (const f of built.files) {
      const text = fs.readFileSync(path.join(built.outDir, f.name), 'utf8');
      const urls = text.match(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'`)<>]*/gi) ?? [];
      const foreign = urls.filter((u) => u !== 'http://www.w3.org/2000/svg' && !u.startsWith('ans://'));
      expect(foreign, f.name).toEqual([]);
      expect(text).not.toMatch(/from\s*["']node:|require\(\s*["']node:|import\(\s*["']node:/);
    }
  });
});

describe('createExplorerApp', () => {
  it('GET / sends index.html with a strict CSP (self only, no inline script or style) and no-cache', async () => {
    const app = createExplorerApp({ assetsDir: built.outDir });
    const res = await app.request('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('Cache-Control')).toBe('no-cache');
    const csp = res.headers.get('Content-Security-Policy')!;
    expect(csp).toBe(EXPLORER_CSP);
    expect(csp).toMatch(/^default-src 'self';/);
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\*|https?:/);
    expect(res.headers.get('X-Content-Type-Options')).toBe('nosniff');
    expect(await res.text()).toContain('<main id="main">');
    expect((await app.request('/', { method: 'HEAD' })).status).toBe(200);
  });

  it('serves hashed assets as immutable with their types, the favicon briefly cached', async () => {
    const app = createExplorerApp({ assetsDir: built.outDir });
    const js = await app.request(`/explorer/${file('app-')}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('Content-Type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('Cache-Control')).toBe('public, max-age=31536000, immutable');
    expect(js.headers.get('Content-Security-Policy')).toBe(EXPLORER_CSP);
    const css = await app.request(`/explorer/${file('style-')}`);
    expect(css.headers.get('Content-Type')).toBe('text/css; charset=utf-8');
    const icon = await app.request('/explorer/favicon.svg');
    expect(icon.headers.get('Content-Type')).toBe('image/svg+xml');
    expect(icon.headers.get('Cache-Control')).toBe('public, max-age=300');
  });

  it.each(['nope.js', 'index.html', '.hidden.js', '..%2Fpackage.json', 'a%2Fb.js', 'app.exe'])('answers 404 for /explorer/%s', async (name) => {
    const app = createExplorerApp({ assetsDir: built.outDir });
    const res = await app.request(`/explorer/${name}`);
    expect(res.status).toBe(404);
    expect((await res.json()).error.code).toBe('HTTP_NOT_FOUND');
  });

  it('without a build, / says to run npm run build', async () => {
    const app = createExplorerApp({ assetsDir: path.join(dir, 'missing') });
    const res = await app.request('/');
    expect(res.status).toBe(503);
    expect(res.headers.get('Content-Security-Policy')).toBe(EXPLORER_CSP);
    expect(await res.text()).toContain('npm run build');
  });
});
