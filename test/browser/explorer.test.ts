// The log browser in a real browser: the explorer is built with esbuild into
// a temp dir and served with a real log (createLogApp + createExplorerApp) on
// 127.0.0.1, then driven in Debian's Chromium via playwright-core
// (executablePath /usr/bin/chromium: nothing is downloaded). Four servers:
//   plain     40 entries, no registry;
//   tampered  the same log behind a wrapper that flips a byte of one
//             inclusion proof hash in every /v1/log/entry answer;
//   registry  a log with the registry and one registered agent;
//   witnessed a log whose policy is 2 of 3 real src/witness witnesses over
//             HTTP, the third one down: cosigned by two, policy met;
//   ca        a registry log with the CA fixture and one issued certificate.
// Checks: no console errors or failed requests; the checkpoint verifies with
// the pinned key; the growth chart is a step line; entries page; an entry
// verifies in the page; tampering and a wrong pinned key fail loudly, and on
// a key mismatch keeping the pinned key is the primary button while replacing
// it needs the new key ID typed; search by index, leaf hash and agent name;
// witness keys pin and unpin, a wrong pinned witness key FAILS its line, and
// cosignatures are judged by the log's 2-of-3 policy; registry and CA entries
// show the decoded view first and the raw bytes folded.
// Layout at a phone width (375 px) and a wide desktop (1920 px): no
// horizontal scrolling, names and dates on one line, the window used; / and
// /docs link to each other. Every test also fails on any request that
// leaves 127.0.0.1.
// Screenshots go to test-artifacts/explorer-*.png (and docs-*.png).
// Without Chromium the suite is skipped locally and fails when CI is set.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { Hono } from 'hono';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildExplorer } from '../../scripts/build-explorer.js';
import { createLogApp, startServer, type RunningServer } from '../../src/http/index.js';
import { mountExplorer } from '../../src/http/explorer.js';
import { fromBase64Strict, leafHash, toBase64, toHex } from '../../src/merkle/index.js';
import { openFileLog } from '../../src/log/index.js';
import { generateCosignerKey, generateSignerKey, parseSignerKey, simplePolicy } from '../../src/note/index.js';
import { ApiKeys } from '../../src/registry/http/auth.js';
import { createRegistryApp } from '../../src/registry/http/app.js';
import type { Log } from '../../src/log/index.js';
import { addAll, ENTRIES, openTestLog, ORIGIN, SKEY, VKEY, type TestLog } from '../http/helpers.js';
import { testKey } from '../log/helpers.js';
import { makeCsr, openCaFixture, type CaFixture } from '../ca/helpers.js';
import { TestWitness } from '../log/witness-helpers.js';
import { agentKey, openFixture, type Fixture } from '../registry/helpers.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const CHROMIUM = process.env.TILELOG_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = path.join(REPO, 'test-artifacts');
const missing = fs.existsSync(CHROMIUM) ? null : `${CHROMIUM} not found`;
const PIN = 'tilelog.explorer.pinnedLogKey';
const PIN_WITNESSES = 'tilelog.explorer.pinnedWitnessKeys';
const AGENT = 'ans://v1.0.0.order-bot.acme.example';
const CA_AGENT = 'ans://v1.0.0.bot.acme.example';

if (missing !== null && process.env.CI) {
  describe('log browser', () => {
    it('needs Chromium in CI', () => {
      throw new Error(`browser test cannot run: ${missing}; apt-get install -y chromium`);
    });
  });
}

/** The composed server app; `tamper` flips one byte of proof hash 1 in /v1/log/entry answers. */
function compose(log: Log, assetsDir: string, opts: { registry?: OpenAPIHono; tamper?: boolean } = {}): OpenAPIHono | Hono {
  const app = createLogApp(log, { metrics: false });
  if (opts.registry !== undefined) app.route('/', opts.registry);
  mountExplorer(app, { assetsDir }); // as src/cli/serve.ts does
  if (opts.tamper !== true) return app;
  const outer = new Hono();
  outer.all('*', async (c) => {
    const res = await app.fetch(c.req.raw);
    if (!new URL(c.req.url).pathname.startsWith('/v1/log/entry/') || res.status !== 200) return res;
    const b = (await res.json()) as { inclusionProof: string[] };
    const h = fromBase64Strict(b.inclusionProof[1]!);
    h[0]! ^= 0x01;
    b.inclusionProof[1] = toBase64(h);
    return c.json(b);
  });
  return outer;
}

interface Watch {
  problems: string[];
}

/** True for a URL served by this machine's test servers (or inline data); anything else left the machine. */
function local(url: string): boolean {
  const u = new URL(url);
  return u.protocol === 'data:' || u.protocol === 'blob:' || (u.protocol === 'http:' && u.hostname === '127.0.0.1');
}

/** Records console errors, page errors, failed or 4xx/5xx requests (except `allowed` URLs) and any request to another host. */
function watch(page: Page, allowed: RegExp[] = []): Watch {
  const w: Watch = { problems: [] };
  const ok = (url: string) => allowed.some((r) => r.test(url));
  page.on('request', (r) => {
    if (!local(r.url())) w.problems.push(`request to another host: ${r.url()}`);
  });
  page.on('pageerror', (e) => w.problems.push(`pageerror: ${String(e)}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !ok(m.location().url)) w.problems.push(`console: ${m.text()} (${m.location().url})`);
  });
  page.on('requestfailed', (r) => w.problems.push(`failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
  page.on('response', (r) => {
    if (r.status() >= 400 && !ok(r.url())) w.problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  return w;
}

async function ready(page: Page): Promise<void> {
  await page.waitForFunction(() => document.body.dataset.state === 'ready' || document.body.dataset.state === 'error');
  expect(await page.evaluate(() => document.body.dataset.state), await page.locator('main').innerText()).toBe('ready');
}

/** Navigates by hash and waits until that route rendered. */
async function go(page: Page, base: string, hash: string): Promise<void> {
  await page.evaluate(() => {
    document.body.dataset.state = 'navigating';
  }).catch(() => {});
  await page.goto(`${base}/${hash}`);
  await ready(page);
}

async function shot(page: Page, name: string, prefix = 'explorer'): Promise<void> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `${prefix}-${name}.png`), fullPage: true });
}

/** How far the page scrolls sideways (0: it fits the window). */
function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}

/** The text of each .nowrap element laid out on more than one line (a name or date broken in two). */
function wrappedNowrap(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    Array.from(document.querySelectorAll('.nowrap'))
      .filter((el) => {
        const range = document.createRange();
        range.selectNodeContents(el);
        return new Set(Array.from(range.getClientRects()).map((r) => Math.round(r.top))).size > 1;
      })
      .map((el) => el.textContent ?? ''),
  );
}

async function pinned(ctx: BrowserContext, key: string, witnessKeys?: readonly string[]): Promise<void> {
  await ctx.addInitScript(([k, v]) => localStorage.setItem(k!, v!), [PIN, key]);
  if (witnessKeys !== undefined) await ctx.addInitScript(([k, v]) => localStorage.setItem(k!, v!), [PIN_WITNESSES, JSON.stringify(witnessKeys)]);
}

/** A registry or CA entry: the decoded view comes before the raw bytes, whose hex dump is folded (a closed <details>). */
async function decodedFirstRawFolded(page: Page): Promise<void> {
  const order = await page.evaluate(() => {
    const decoded = document.getElementById('decoded');
    const raw = document.getElementById('raw-bytes');
    return decoded === null || raw === null ? 'missing' : decoded.compareDocumentPosition(raw) & Node.DOCUMENT_POSITION_FOLLOWING ? 'decoded first' : 'raw first';
  });
  expect(order).toBe('decoded first');
  expect(await page.locator('details#raw-bytes').evaluate((d) => (d as HTMLDetailsElement).open)).toBe(false);
  expect(await page.locator('#hex').isVisible()).toBe(false);
  expect(await page.locator('#text').count()).toBe(0); // CBOR read as UTF-8 is noise
}

/** The status of each cosignature line of the front page's signature table, by key name. */
async function cosignatureStatus(page: Page): Promise<Record<string, string>> {
  const rows = await page.locator('#signatures tbody tr[data-role="witness"]').evaluateAll((trs) =>
    trs.map((tr) => [tr.children[1]!.textContent ?? '', tr.getAttribute('data-status') ?? ''] as const),
  );
  return Object.fromEntries(rows);
}

describe.skipIf(missing !== null)('log browser (Chromium via playwright-core)', () => {
  let dir: string;
  let assets: string;
  let t: TestLog;
  let f: Fixture;
  let plain: RunningServer;
  let tampered: RunningServer;
  let reg: RunningServer;
  let witnessed: RunningServer;
  let witnessLog: Log;
  let witnesses: TestWitness[];
  let caFix: CaFixture;
  let caServer: RunningServer;
  let cert: { index: number; serial: string; pem: string };
  let browser: Browser;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tilelog-explorer-browser-'));
    assets = (await buildExplorer(path.join(dir, 'explorer'))).outDir;
    t = await openTestLog();
    await addAll(t.log, ENTRIES.slice(0, 20));
    await addAll(t.log, [...ENTRIES.slice(20, 39), new TextEncoder().encode('release v1.2.3 sha256:0123abcd')]);
    plain = await startServer(compose(t.log, assets), { port: 0 });
    tampered = await startServer(compose(t.log, assets, { tamper: true }), { port: 0 });

    f = await openFixture();
    await f.registry.register(AGENT, {
      owner: 'acme',
      capabilities: ['orders.read'],
      endpoints: [{ protocol: 'MCP', url: 'https://order-bot.acme.example/mcp' }],
      publicKey: agentKey(1),
      validation: 'none',
    });
    const registryApp = createRegistryApp(f.registry, { apiKeys: new ApiKeys([]), dns: null, publicUrl: 'https://registry.example' });
    reg = await startServer(compose(f.log, assets, { registry: registryApp }), { port: 0 });

    // Three real witnesses, policy 2 of 3; the third is down (its port
    // refuses), so the public checkpoint carries two cosignatures.
    witnesses = [1, 2, 3].map((n) => new TestWitness(n, dir, ORIGIN, VKEY));
    for (const w of witnesses) await w.start();
    await witnesses[2]!.stop();
    witnessLog = await openFileLog({
      origin: ORIGIN,
      signer: parseSignerKey(SKEY),
      stateDir: path.join(dir, 'witnessed/state'),
      tilesDir: path.join(dir, 'witnessed/tiles'),
      batchMaxDelayMs: 1,
      witnesses: { policy: simplePolicy(witnesses.map((w) => ({ vkey: w.vkey, url: w.url })), 2), timeoutMs: 2000, refreshMs: 60_000, failOpen: false },
    });
    await addAll(witnessLog, ENTRIES.slice(0, 5));
    witnessed = await startServer(compose(witnessLog, assets), { port: 0 });

    caFix = await openCaFixture();
    await caFix.registry.register(CA_AGENT, {
      owner: 'acme',
      capabilities: [],
      endpoints: [{ protocol: 'A2A', url: 'https://bot.acme.example/' }],
      publicKey: agentKey(2),
      validation: 'none',
    });
    const issued = await caFix.ca.issue(CA_AGENT, await caFix.ca.prepareCsr(makeCsr(caFix.dir, 'bot').csr));
    cert = { index: issued.write.index, serial: issued.serial, pem: issued.pem };
    caServer = await startServer(compose(caFix.log, assets), { port: 0 });

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await Promise.all([plain?.close(), tampered?.close(), reg?.close(), witnessed?.close(), caServer?.close()]);
    await witnessLog?.close();
    for (const w of witnesses ?? []) {
      await w.stop();
      w.close();
    }
    await t?.close();
    await f?.close();
    await caFix?.close();
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('front page: the checkpoint verifies, pinning the key switches from "announced" to "pinned", entries page by index', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    const page = await ctx.newPage();
    const w = watch(page);
    await go(page, plain.url, '');
    expect(await page.locator('#key-unpinned').count()).toBe(1);
    expect(await page.locator('#checkpoint-verdict').getAttribute('data-verdict')).toBe('verified');
    expect(await page.locator('#checkpoint-verdict').innerText()).toContain('announces (not pinned)');
    expect(await page.locator('#announced-key').innerText()).toBe(VKEY);
    expect(await page.locator('#tree-size').innerText()).toBe('40');
    expect(await page.locator('#signatures tr[data-role="log"][data-status="verified"]').count()).toBe(1);
    expect(await page.locator('#size-chart').count()).toBe(1);
    // Two checkpoints (20, then 40): a step line, flat then vertical, never diagonal.
    const d = (await page.locator('#size-chart path.line').getAttribute('d')) ?? '';
    expect(d).toMatch(/^M[\d.]+,[\d.]+( H[\d.]+ V[\d.]+)+$/);
    expect(d.match(/H/g)).toHaveLength((await page.locator('#size-chart circle.dot').count()) - 1);

    await page.locator('#pin-announced').click();
    await page.waitForSelector('#checkpoint-verdict:has-text("with the pinned key")');
    await ready(page);
    expect(await page.evaluate((k) => localStorage.getItem(k), PIN)).toBe(VKEY);
    expect(await page.locator('#key-unpinned').count()).toBe(0);
    expect(await page.locator('#key-mismatch').count()).toBe(0);
    expect(await page.locator('#checkpoint-verdict').getAttribute('data-verdict')).toBe('verified');

    const indexes = () => page.locator('#entries tbody tr').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-index'))));
    expect(await indexes()).toEqual(Array.from({ length: 25 }, (_, i) => 39 - i));
    expect(await page.locator('#entries tr[data-index="39"]').innerText()).toContain('release v1.2.3');
    await shot(page, 'home');

    await page.locator('#older').click();
    await page.waitForSelector('#entries tr[data-index="0"]');
    await ready(page);
    expect(await indexes()).toEqual(Array.from({ length: 15 }, (_, i) => 14 - i));
    expect(await page.locator('#newer').count()).toBe(1);
    expect(w.problems).toEqual([]);
    await ctx.close();
  });

  it('clicking an entry shows its bytes and its inclusion proof verified in the page, step by step', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    await pinned(ctx, VKEY);
    const page = await ctx.newPage();
    const w = watch(page);
    await go(page, plain.url, '');
    await page.locator('#entries a[href="#/entry/39"]').click();
    await page.waitForSelector('#verdict');
    await ready(page);
    expect(await page.locator('#verdict').getAttribute('data-verdict')).toBe('verified');
    expect(await page.locator('#verdict').innerText()).toContain('signed by the pinned key');
    expect(await page.locator('#text').innerText()).toBe('release v1.2.3 sha256:0123abcd');
    // Text entry: the text is shown, the hex dump folded until asked for.
    expect(await page.locator('details#raw-bytes').evaluate((d) => (d as HTMLDetailsElement).open)).toBe(false);
    expect(await page.locator('#hex').isVisible()).toBe(false);
    await page.locator('#raw-bytes > summary').click();
    expect(await page.locator('#hex').innerText()).toMatch(/^00000000 {2}72 65 6c 65/);
    expect(await page.locator('#decoded-none').innerText()).toContain('plain bytes');
    // checkpoint, leaf hash, one line per proof hash, the root comparison
    const bundle = (await (await fetch(`${plain.url}/v1/log/entry/39`)).json()) as { inclusionProof: string[] };
    expect(await page.locator('#steps > li').count()).toBe(bundle.inclusionProof.length + 3);
    expect(await page.locator('#steps > li.fail').count()).toBe(0);
    expect(await page.locator('#steps').innerText()).toContain('equals the checkpoint root');
    await shot(page, 'entry');

    await go(page, plain.url, '#/entry/7');
    expect(await page.locator('#verdict').getAttribute('data-verdict')).toBe('verified');
    expect(w.problems).toEqual([]);
    await ctx.close();
  });

  it('a tampered proof hash: FAILED at the inclusion step, the computed root differs', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    await pinned(ctx, VKEY);
    const page = await ctx.newPage();
    const w = watch(page);
    await go(page, tampered.url, '#/entry/7');
    const verdict = page.locator('#verdict');
    expect(await verdict.getAttribute('data-verdict')).toBe('failed');
    expect(await verdict.getAttribute('data-step')).toBe('inclusion');
    expect(await verdict.innerText()).toContain('FAILED at step: inclusion');
    expect(await verdict.innerText()).toContain('proof hash 2 of');
    // The tampered hash is named (cross-checked with tiles), then the root mismatch.
    const failed = await page.locator('#steps > li.fail').allInnerTexts();
    expect(failed).toHaveLength(2);
    expect(failed[0]).toContain('Proof hash 2 of');
    expect(failed[0]).toContain('This proof hash is wrong');
    expect(failed[1]).toContain('DIFFERS from');
    await shot(page, 'tampered');
    expect(w.problems).toEqual([]);
    await ctx.close();
  });

  it('a pinned key that is not the log\'s: a loud warning, and checkpoint and entry both FAIL with the pinned key', async () => {
    const other = generateSignerKey(ORIGIN).verifierKey;
    const ctx = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    await pinned(ctx, other);
    const page = await ctx.newPage();
    const w = watch(page);
    await go(page, plain.url, '');
    expect(await page.locator('#key-mismatch').innerText()).toContain('WARNING');
    expect(await page.locator('#checkpoint-verdict').getAttribute('data-verdict')).toBe('failed');
    expect(await page.locator('#checkpoint-verdict').innerText()).toContain('checkpoint signature');
    expect(await page.locator('#pinned-key').innerText()).toBe(other);
    await shot(page, 'wrong-key');
    await go(page, plain.url, '#/entry/3');
    expect(await page.locator('#verdict').getAttribute('data-verdict')).toBe('failed');
    expect(await page.locator('#verdict').getAttribute('data-step')).toBe('checkpoint signature');
    expect(await page.locator('#key-mismatch').count()).toBe(1);

    // Keeping the pinned key is the primary action; replacing it is a second,
    // explained step that needs the announced key's ID typed in.
    await go(page, plain.url, '');
    const card = page.locator('#log-key');
    const buttons = await card.locator('#mismatch-actions > .row > button').evaluateAll((bs) => bs.map((b) => [b.id, b.classList.contains('primary')] as const));
    expect(buttons).toEqual([['keep-pinned', true], ['replace-start', false]]);
    expect(await card.getByRole('button', { name: 'Keep the pinned key' }).count()).toBe(1);
    expect(await card.locator('button.primary').allInnerTexts()).toEqual(['Keep the pinned key']);
    expect(await page.locator('#replace-pinned').isVisible()).toBe(false);
    expect(await page.locator('#unpin').count()).toBe(0); // unpinning would switch to the announced key in one click too
    await page.locator('#replace-start').click();
    expect(await page.locator('#replace-start').getAttribute('aria-expanded')).toBe('true');
    expect(await page.locator('#replace-why').innerText()).toContain('announced a new key through a channel you trust');
    const replace = page.getByRole('button', { name: 'Replace the pinned key with the announced one' });
    expect(await replace.isDisabled()).toBe(true);
    const announcedId = VKEY.split('+')[1]!;
    await page.locator('#replace-confirm').fill('00000000');
    expect(await replace.isDisabled()).toBe(true);
    await shot(page, 'wrong-key-replace');
    await page.locator('#keep-pinned').click();
    expect(await page.locator('#replace-key').isVisible()).toBe(false);
    expect(await page.locator('#keep-note').innerText()).toContain('Kept');
    expect(await page.evaluate((k) => localStorage.getItem(k), PIN)).toBe(other);

    await page.locator('#replace-start').click();
    await page.locator('#replace-confirm').fill(announcedId.toUpperCase());
    expect(await replace.isDisabled()).toBe(false);
    await page.evaluate(() => {
      document.body.dataset.state = 'replacing';
    });
    await replace.click();
    await ready(page);
    expect(await page.evaluate((k) => localStorage.getItem(k), PIN)).toBe(VKEY);
    expect(await page.locator('#key-mismatch').count()).toBe(0);
    expect(await page.locator('#checkpoint-verdict').getAttribute('data-verdict')).toBe('verified');
    expect(w.problems).toEqual([]);
    await ctx.close();
  });

  it('search: by index, by leaf hash, and an agent name without the registry says it is not enabled', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    await pinned(ctx, VKEY);
    const page = await ctx.newPage();
    // Expected 404s: an unknown leaf hash, and /v1/registry on a log without the registry.
    const w = watch(page, [/\/v1\/log\/lookup\/0{64}$/, /\/v1\/registry$/]);
    await go(page, plain.url, '');
    const search = async (q: string) => {
      await page.evaluate(() => {
        document.body.dataset.state = 'searching';
      });
      await page.locator('#q').fill(q);
      await page.locator('#search button').click();
      await page.waitForFunction(() => document.body.dataset.state === 'ready');
    };
    await search('12');
    await page.waitForFunction(() => location.hash === '#/entry/12');
    await ready(page);
    expect(await page.locator('#verdict').getAttribute('data-verdict')).toBe('verified');

    await search(toHex(leafHash(ENTRIES[5]!)).toUpperCase());
    await page.waitForFunction(() => location.hash === '#/entry/5');
    await ready(page);
    expect(await page.locator('h1').innerText()).toBe('Entry 5');

    await search('0'.repeat(64));
    await page.waitForSelector('#search-result');
    expect(await page.locator('#search-result').innerText()).toContain('No entry has the leaf hash');

    await search(AGENT);
    await page.waitForSelector('#search-result[data-result="no-registry"]');
    expect(await page.locator('#search-result').innerText()).toContain('not enabled on this server');
    await shot(page, 'no-registry');
    expect(w.problems).toEqual([]);
    await ctx.close();
  });

  it('with the registry: agent search finds the agent, and its entry shows decoded and verified', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    await pinned(ctx, testKey.verifierKey);
    const page = await ctx.newPage();
    const w = watch(page);
    await go(page, reg.url, '');
    expect(await page.locator('#checkpoint-verdict').getAttribute('data-verdict')).toBe('verified');
    await page.locator('#q').fill('v1.0.0.order-bot.acme.example');
    await page.locator('#search button').click();
    await page.waitForSelector('#search-result[data-result="agent"]');
    await ready(page);
    expect(await page.locator('#search-result').innerText()).toContain(AGENT);
    await shot(page, 'agent');

    await page.locator('#agent-registered').click();
    await page.waitForSelector('#decoded');
    await ready(page);
    expect(await page.locator('#decoded').getAttribute('data-type')).toBe('agent.registered');
    const decoded = await page.locator('#decoded').innerText();
    expect(decoded).toContain(AGENT);
    expect(decoded).toContain('MCP https://order-bot.acme.example/mcp');
    expect(decoded).toContain(toBase64(agentKey(1)));
    expect(await page.locator('#verdict').getAttribute('data-verdict')).toBe('verified');
    await decodedFirstRawFolded(page);
    await shot(page, 'registry-entry');

    await go(page, reg.url, '#/entry/0');
    expect(await page.locator('#decoded').getAttribute('data-type')).toBe('key.added');
    expect(w.problems).toEqual([]);
    await ctx.close();
  });

  it('witness keys: listed in full, pinned one by button and one pasted, cosignatures then verify with the pinned keys only, judged by the log\'s 2-of-3 policy; unpin', async () => {
    const [w1, w2, w3] = witnesses as [TestWitness, TestWitness, TestWitness];
    const policyWords = `at least 2 of 3 witnesses: ${w1.name}, ${w2.name}, ${w3.name}`;
    const ctx = await browser.newContext({ viewport: { width: 1200, height: 1100 } });
    await pinned(ctx, VKEY);
    const page = await ctx.newPage();
    const w = watch(page);
    const rerendered = async (selector: string) => {
      await page.waitForSelector(selector);
      await ready(page);
    };
    await go(page, witnessed.url, '');
    expect(await page.locator('#checkpoint-verdict').getAttribute('data-verdict')).toBe('verified');
    // Nothing pinned: the server-listed keys check the lines, and the page says so.
    expect(await page.locator('#witness-table tbody tr[data-pinned="false"]').count()).toBe(3);
    expect(await page.locator('#witness-table').innerText()).toContain(w1.vkey);
    expect(await page.locator('#witness-table').innerText()).toContain(w2.vkey);
    expect(await cosignatureStatus(page)).toEqual({ [w1.name]: 'verified', [w2.name]: 'verified' });
    expect(await page.locator('#signatures').innerText()).toContain('not pinned');
    expect(await page.locator('#witness-source').innerText()).toContain('none pinned');
    // The log's policy, not "all N keys": 2 of 3 met by w1 and w2 while w3 is down.
    expect(await page.locator('#witness-policy').innerText()).toContain(policyWords);
    expect(await page.locator('#witness-quorum').getAttribute('data-ok')).toBe('true');
    expect(await page.locator('#witness-quorum').innerText()).toContain(`Policy met: verified cosignatures by ${w1.name}, ${w2.name} (with the witness keys the server lists (not pinned)); none from ${w3.name}.`);

    // Pin w1 with its button: w1's line verifies with the pinned key, w2's is listed but not pinned.
    await page.locator(`#witness-table tr[data-vkey="${w1.vkey}"] button.pin-witness`).click();
    await rerendered(`#witness-table tr[data-vkey="${w1.vkey}"][data-pinned="true"]`);
    expect(JSON.parse((await page.evaluate((k) => localStorage.getItem(k), PIN_WITNESSES))!)).toEqual([w1.vkey]);
    expect(await cosignatureStatus(page)).toEqual({ [w1.name]: 'verified', [w2.name]: 'unpinned' });
    expect(await page.locator(`#signatures tr[data-status="unpinned"]`).innerText()).toContain('not pinned (server-listed key)');
    expect(await page.locator('#signatures tr[data-status="verified"][data-role="witness"]').innerText()).toContain('pinned witness key');
    // Only pinned keys count: one of the two the policy needs.
    expect(await page.locator('#witness-quorum').getAttribute('data-ok')).toBe('false');
    expect(await page.locator('#witness-quorum').innerText()).toContain(`Policy NOT met: verified cosignatures by ${w1.name} (with the pinned witness keys)`);

    // A pasted key that does not parse is refused with the reason; then paste w2's.
    await page.locator('#witness-pin-input').fill('not a key');
    await page.locator('#witness-pin-pasted').click();
    expect(await page.locator('#witness-pin-error').innerText()).not.toBe('');
    await page.locator('#witness-pin-input').fill(w2.vkey);
    await page.locator('#witness-pin-pasted').click();
    await rerendered(`#witness-table tr[data-vkey="${w2.vkey}"][data-pinned="true"]`);
    expect(await cosignatureStatus(page)).toEqual({ [w1.name]: 'verified', [w2.name]: 'verified' });
    expect(await page.locator('#witness-quorum').getAttribute('data-ok')).toBe('true');
    expect(await page.locator('#witness-quorum').innerText()).toContain(`Policy met: verified cosignatures by ${w1.name}, ${w2.name} (with the pinned witness keys); none from ${w3.name}.`);
    expect(await page.locator('#witness-policy').innerText()).toContain(policyWords);
    expect(await page.locator('.witness-warning').count()).toBe(0);
    await shot(page, 'witness');

    // Unpin both: back to the server-listed keys.
    for (const wk of [w1, w2]) {
      await page.locator(`#witness-table tr[data-vkey="${wk.vkey}"] button.unpin-witness`).click();
      await rerendered(`#witness-table tr[data-vkey="${wk.vkey}"][data-pinned="false"]`);
    }
    expect(await page.evaluate((k) => localStorage.getItem(k), PIN_WITNESSES)).toBeNull();
    expect(await page.locator('#witness-source').innerText()).toContain('none pinned');
    expect(w.problems).toEqual([]);
    await ctx.close();
  });

  it('a wrong pinned witness key: its cosignature line FAILS, a warning names the server\'s other key, and a pinned key the server does not list warns', async () => {
    const [w1, w2] = witnesses as [TestWitness, TestWitness];
    const wrong = generateCosignerKey(w1.name, new Uint8Array(32).fill(7)).verifierKey;
    const unknown = generateCosignerKey('w9.test', new Uint8Array(32).fill(9)).verifierKey;
    const ctx = await browser.newContext({ viewport: { width: 1200, height: 1100 } });
    await pinned(ctx, VKEY, [wrong, w2.vkey, unknown]);
    const page = await ctx.newPage();
    const w = watch(page);
    await go(page, witnessed.url, '');
    // The log signature still verifies; the witness lines are judged by the pinned keys.
    expect(await page.locator('#checkpoint-verdict').getAttribute('data-verdict')).toBe('verified');
    expect(await cosignatureStatus(page)).toEqual({ [w1.name]: 'failed', [w2.name]: 'verified' });
    expect(await page.locator('#signatures tr[data-status="failed"]').innerText()).toContain('FAILED');
    expect(await page.locator('#witness-quorum').getAttribute('data-ok')).toBe('false');
    expect(await page.locator('#witness-quorum').innerText()).toContain(`Policy NOT met: verified cosignatures by ${w2.name} (with the pinned witness keys)`);
    expect(await page.locator('.witness-warning[data-state="differs"]').innerText()).toContain(w1.vkey);
    expect(await page.locator('.witness-warning[data-state="missing"]').innerText()).toContain(unknown);
    await shot(page, 'witness-wrong-key');
    expect(w.problems).toEqual([]);
    await ctx.close();
  });

  it('a CA entry: cert.issued shows the decoded certificate (agent, serial, DNS name, names, PEM) and verifies', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    await pinned(ctx, caFix.log.verifierKey);
    const page = await ctx.newPage();
    const w = watch(page);
    await go(page, caServer.url, `#/entry/${cert.index}`);
    expect(await page.locator('#verdict').getAttribute('data-verdict')).toBe('verified');
    expect(await page.locator('#decoded').getAttribute('data-type')).toBe('cert.issued');
    const decoded = await page.locator('#decoded').innerText();
    expect(decoded).toContain(CA_AGENT);
    expect(decoded).toContain('bot.acme.example');
    expect(decoded.toLowerCase()).toContain(cert.serial.toLowerCase());
    expect(decoded).toContain('certificate issuer');
    const norm = (t: string) => t.replace(/\s+/g, '');
    expect(norm((await page.locator('#pem').textContent()) ?? '')).toBe(norm(cert.pem));
    await decodedFirstRawFolded(page);
    await shot(page, 'cert');
    expect(w.problems).toEqual([]);
    await ctx.close();
  });

  it('at a phone width and on a wide desktop: no sideways scrolling, names and dates on one line, the window used; / and /docs link both ways', async () => {
    const keys: Record<string, string> = { [new URL(witnessed.url).origin]: VKEY, [new URL(plain.url).origin]: VKEY, [new URL(caServer.url).origin]: caFix.log.verifierKey };
    const views = [
      { name: 'phone', viewport: { width: 375, height: 812 } },
      { name: 'desktop', viewport: { width: 1920, height: 1080 } },
    ];
    const pages = [
      { name: 'home', base: witnessed.url, hash: '', tables: true },
      { name: 'entries', base: plain.url, hash: '#/entries/39', tables: true },
      { name: 'cert', base: caServer.url, hash: `#/entry/${cert.index}`, tables: false },
    ];
    for (const view of views) {
      const ctx = await browser.newContext({ viewport: view.viewport });
      await ctx.addInitScript(([k, byOrigin]) => {
        const key = (byOrigin as Record<string, string>)[location.origin];
        if (key !== undefined) localStorage.setItem(k as string, key);
      }, [PIN, keys] as const);
      const page = await ctx.newPage();
      const w = watch(page);
      for (const p of pages) {
        await go(page, p.base, p.hash);
        const what = `${p.name} at ${view.viewport.width} px`;
        expect(await page.locator('#key-mismatch').count(), what).toBe(0);
        await shot(page, `${view.name}-${p.name}`);
        expect(await horizontalOverflow(page), what).toBeLessThanOrEqual(0);
        if (p.tables) expect(await page.locator('main .nowrap').count(), what).toBeGreaterThan(0);
        expect(await wrappedNowrap(page), what).toEqual([]);
        if (view.name === 'desktop') {
          const used = await page.evaluate(() => document.getElementById('main')!.getBoundingClientRect().width / window.innerWidth);
          expect(used, what).toBeGreaterThan(0.95);
        }
      }
      // The signature table's origin and cosignature times stay whole.
      await go(page, witnessed.url, '');
      expect(await page.locator('#signatures td.nowrap').allInnerTexts()).toEqual(expect.arrayContaining([ORIGIN, expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)]));

      // The browser links to the API reference and back.
      await page.getByRole('link', { name: 'API reference' }).click();
      await page.waitForURL(`${witnessed.url}/docs`);
      expect(await page.locator('h1').innerText()).toContain('API');
      await shot(page, view.name, 'docs');
      expect(await horizontalOverflow(page), `/docs at ${view.viewport.width} px`).toBeLessThanOrEqual(0);
      await page.evaluate(() => {
        document.body.dataset.state = 'navigating';
      });
      await page.locator('#browser-link').click();
      await page.waitForURL(`${witnessed.url}/`);
      await ready(page);
      expect(await page.locator('h1').innerText()).toBe(`Log ${ORIGIN}`);
      expect(w.problems).toEqual([]);
      await ctx.close();
    }
  });
});
