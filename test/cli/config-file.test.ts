// tilelog serve --config: precedence (flags > env > file > defaults), every
// validation error naming the file field and the fix, --print-config with
// secrets hidden, and the structured logs (JSON, request IDs, --log-level).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hideSecrets } from '../../src/cli/config-file.js';
import { createCliLogger, prettyLine } from '../../src/cli/logger.js';
import { effectiveConfig } from '../../src/cli/print-config.js';
import { resolveServeSettings } from '../../src/cli/serve-config.js';
import { generateCosignerKey } from '../../src/note/cosignature.js';
import { generateSignerKey } from '../../src/note/index.js';
import { runCli, startServe, tempDir, usageMessage as usage } from './helpers.js';

const dir = tempDir('tilelog-config-');
let n = 0;
function file(content: unknown): string {
  const f = path.join(dir, `c${n++}.json`);
  fs.writeFileSync(f, typeof content === 'string' ? content : JSON.stringify(content));
  return f;
}
const vk = (i: number) => generateCosignerKey(`w${i}.example`, new Uint8Array(32).fill(i)).verifierKey;

describe('precedence: flags > env > file > defaults', () => {
  const cfg = file({ listen: '127.0.0.1:9001', 'batch-max-entries': 100, 'batch-max-delay-ms': 7, dedup: false, 'log-level': 'warn', origin: 'file.example/log' });

  it('the file beats the defaults', () => {
    const s = resolveServeSettings({ config: cfg }, {}).serve;
    expect(s).toMatchObject({ port: 9001, batchMaxEntries: 100, batchMaxDelayMs: 7, dedup: false, logLevel: 'warn', origin: 'file.example/log' });
    const d = resolveServeSettings({}, {}).serve;
    expect(d).toMatchObject({ port: 8080, batchMaxEntries: undefined, dedup: true, logLevel: 'info', origin: undefined });
  });

  it('env beats the file, flags beat env', () => {
    const env = { TILELOG_LISTEN: '127.0.0.1:9002', TILELOG_BATCH_MAX_ENTRIES: '200', TILELOG_DEDUP: '1', TILELOG_LOG_LEVEL: 'error' };
    const s = resolveServeSettings({ config: cfg }, env).serve;
    expect(s).toMatchObject({ port: 9002, batchMaxEntries: 200, batchMaxDelayMs: 7, dedup: true, logLevel: 'error' });
    const f = resolveServeSettings({ config: cfg, listen: '127.0.0.1:9003', 'batch-max-entries': '300', dedup: false, 'log-level': 'debug' }, env).serve;
    expect(f).toMatchObject({ port: 9003, batchMaxEntries: 300, batchMaxDelayMs: 7, dedup: false, logLevel: 'debug' });
  });

  it('TILELOG_CONFIG names the file when --config is absent; --config wins over it', () => {
    const other = file({ listen: '127.0.0.1:9004' });
    expect(resolveServeSettings({}, { TILELOG_CONFIG: cfg }).serve.port).toBe(9001);
    expect(resolveServeSettings({ config: other }, { TILELOG_CONFIG: cfg }).serve.port).toBe(9004);
  });

  it('witness lists and the registry section come from the file too', () => {
    const f = file({ witness: [`http://127.0.0.1:7381,${vk(1)}`, `http://127.0.0.1:7382,${vk(2)}`], 'witness-quorum': 1, registry: true, 'registry-burst': 5 });
    const s = resolveServeSettings({ config: f }, {});
    expect(s.serve.witnesses!.policy.witnesses).toHaveLength(2);
    expect(s.serve.witnesses!.policy.groups[0]!.threshold).toBe(1);
    expect(s.registry).toMatchObject({ burst: 5 });
    // TILELOG_WITNESSES (the one plural variable) beats the file's list.
    const e = resolveServeSettings({ config: f }, { TILELOG_WITNESSES: `http://127.0.0.1:7383,${vk(3)}`, TILELOG_WITNESS_QUORUM: '1' });
    expect(e.serve.witnesses!.policy.witnesses.map((w) => w.url)).toEqual(['http://127.0.0.1:7383']);
  });
});

describe('validation errors name the file field and the fix', () => {
  const cases: [string, unknown, RegExp][] = [
    ['camelCase field', { batchMaxEntries: 3 }, /unknown field "batchMaxEntries"; did you mean "batch-max-entries"\?/],
    ['unknown field', { colour: 'blue' }, /unknown field "colour"; fields are the long flag names of 'tilelog serve --help'/],
    ['a flag not allowed in the file', { json: true }, /unknown field "json"/],
    ['boolean of the wrong type', { dedup: 'no' }, /field "dedup" must be true or false, got "no"/],
    ['list of the wrong type', { witness: [1] }, /field "witness" must be a list of strings/],
    ['string of the wrong type', { listen: { host: 'x' } }, /field "listen" must be a string or a whole number/],
    ['negative number', { 'batch-max-entries': -1 }, /field "batch-max-entries" must be a string or a whole number, got -1/],
    ['below the minimum', { 'batch-max-entries': 0 }, /field "batch-max-entries" must be an integer >= 1, got 0/],
    ['not a number', { 'batch-max-delay-ms': 'soon' }, /field "batch-max-delay-ms" must be a whole number, got "soon"/],
    ['bad listen', { listen: 'localhost' }, /field "listen" must be host:port such as 127.0.0.1:8080/],
    ['bad log level', { 'log-level': 'loud' }, /field "log-level" must be one of fatal, error, warn, info, debug, trace, silent, got "loud"/],
    ['quorum without witnesses', { 'witness-quorum': 1 }, /--witness-quorum needs --witness|field "witness-quorum"/],
  ];
  for (const [what, content, re] of cases) {
    it(what, () => {
      const f = file(content);
      const msg = usage(() => resolveServeSettings({ config: f }, {}));
      expect(msg).toMatch(re);
      if (!/needs --witness/.test(msg)) expect(msg.startsWith(f)).toBe(true);
    });
  }

  it('an unreadable file, invalid JSON, and JSON that is not an object', () => {
    expect(usage(() => resolveServeSettings({ config: path.join(dir, 'missing.json') }, {}))).toMatch(/^--config: cannot read .*missing\.json/);
    expect(usage(() => resolveServeSettings({ config: file('{"listen": ') }, {}))).toMatch(/is not valid JSON .*write one object/);
    expect(usage(() => resolveServeSettings({ config: file('[1]') }, {}))).toMatch(/must hold one JSON object/);
    expect(usage(() => resolveServeSettings({}, { TILELOG_CONFIG: path.join(dir, 'nope.json') }))).toMatch(/^TILELOG_CONFIG: cannot read/);
  });

  it('a bad value overridden by the environment is never looked at beyond its type', () => {
    const f = file({ 'batch-max-entries': 0 });
    expect(resolveServeSettings({ config: f }, { TILELOG_BATCH_MAX_ENTRIES: '5' }).serve.batchMaxEntries).toBe(5);
  });

  it('the CLI exits 2 with the message and a pointer to --help', async () => {
    const r = await runCli(['serve', '--config', file({ 'batch-max-entries': 0 }), '--print-config']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/field "batch-max-entries" must be an integer >= 1, got 0\nRun 'tilelog serve --help'/);
  });
});

describe('--print-config', () => {
  it('prints the effective configuration with defaults filled in, and exits 0 without starting', async () => {
    const state = path.join(dir, 'print-state');
    const f = file({ 'batch-max-delay-ms': 3, tiles: path.join(dir, 'print-tiles') });
    const r = await runCli(['serve', '--config', f, '--state', state, '--print-config'], { env: { TILELOG_LISTEN: ':9100' } });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({
      configFile: f,
      state,
      tiles: path.join(dir, 'print-tiles'),
      listen: '0.0.0.0:9100',
      key: path.join(state, 'log.key'),
      'batch-max-entries': 4096,
      'batch-max-delay-ms': 3,
      'checkpoint-interval-ms': 0,
      dedup: true,
      'log-level': 'info',
      witnesses: null,
      registry: null,
    });
    expect(fs.existsSync(state)).toBe(false);
  });

  it('hides key material and secret-named fields', async () => {
    const pair = generateSignerKey('secret.example/log', new Uint8Array(32).fill(3));
    // Key material where a path belongs (a mistake) is never echoed.
    const r = await runCli(['serve', '--print-config'], { env: { TILELOG_KEY: pair.signerKey } });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).key).toBe('[hidden]');
    expect(r.stdout).not.toContain('PRIVATE+KEY');
    // Any field named like a secret, at any depth.
    expect(
      hideSecrets({ apiKey: 'k1', 'api-keys': ['a'], nested: { clientSecret: 's', password: 'p', token: 't' }, verifierKey: 'public', keep: 1, none: null }),
    ).toEqual({ apiKey: '[hidden]', 'api-keys': '[hidden]', nested: { clientSecret: '[hidden]', password: '[hidden]', token: '[hidden]' }, verifierKey: 'public', keep: 1, none: null });
  });

  it('shows the witness policy as text', () => {
    const f = file({ witness: [`http://127.0.0.1:7381,${vk(1)}`] });
    const out = effectiveConfig(resolveServeSettings({ config: f }, {})) as { witnesses: { policy: string; 'refresh-s': number } };
    expect(out.witnesses.policy).toContain('http://127.0.0.1:7381');
    expect(out.witnesses['refresh-s']).toBe(60);
  });
});

describe('structured logs', () => {
  it('JSON lines by default, readable lines on a TTY', () => {
    const lines: string[] = [];
    const json = createCliLogger({ level: 'info', stream: { write: (s: string) => lines.push(s), isTTY: false } });
    json.info({ reqId: 'r1' }, 'hello');
    json.debug('not shown at info');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 30, msg: 'hello', reqId: 'r1' });
    const tty: string[] = [];
    const pretty = createCliLogger({ level: 'debug', stream: { write: (s: string) => tty.push(s), isTTY: true } });
    pretty.warn({ err: new Error('boom') }, 'careful');
    expect(tty[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} WARN  careful\n {4}Error: boom\n/);
    expect(prettyLine('not json')).toBe('not json');
  });

  it('tilelog serve --log-level debug logs each request with its X-Request-Id as JSON on stderr', async () => {
    const d = tempDir('tilelog-logs-');
    const s = await startServe(['--state', path.join(d, 's'), '--tiles', path.join(d, 't'), '--listen', '127.0.0.1:0', '--log-level', 'debug']);
    try {
      const res = await fetch(`${s.url}/add`, { method: 'POST', body: 'logged', headers: { 'X-Request-Id': 'req-42' } });
      expect(res.headers.get('x-request-id')).toBe('req-42');
    } finally {
      const out = await s.stop();
      const lines = out.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.find((l) => l.reqId === 'req-42')).toMatchObject({ level: 20, msg: 'request', method: 'POST', route: '/add', status: 200 });
      expect(lines.some((l) => typeof l.msg === 'string' && l.msg.startsWith('SIGTERM: shutting down'))).toBe(true);
      fs.rmSync(d, { recursive: true, force: true });
    }
  });
});
