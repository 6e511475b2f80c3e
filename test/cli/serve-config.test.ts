// resolveServeConfig's witness settings: flags, env vars, the policy file, and
// every usage mistake (exit 2 in the CLI).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/common.js';
import { defaultOrigin, resolveServeConfig } from '../../src/cli/serve-config.js';
import { generateCosignerKey } from '../../src/note/cosignature.js';
import { runCli, tempDir } from './helpers.js';

const vk = (n: number) => generateCosignerKey(`w${n}.example`, new Uint8Array(32).fill(n)).verifierKey;
const w = (n: number) => `http://127.0.0.1:${7380 + n},${vk(n)}`;

describe('serve witness config', () => {
  it('is null without witnesses (publish as signed)', () => {
    expect(resolveServeConfig({}, {}).witnesses).toBeNull();
  });

  it('--witness (repeatable) and --witness-quorum make a K-of-N policy with defaults', () => {
    const cfg = resolveServeConfig({ witness: [w(1), w(2), w(3)], 'witness-quorum': '2' }, {}).witnesses!;
    expect(cfg.policy.witnesses.map((x) => [x.name, x.url])).toEqual([
      ['w1.example', 'http://127.0.0.1:7381'],
      ['w2.example', 'http://127.0.0.1:7382'],
      ['w3.example', 'http://127.0.0.1:7383'],
    ]);
    expect(cfg.policy.groups[0]!.threshold).toBe(2);
    expect(cfg).toMatchObject({ timeoutMs: undefined, refreshMs: 60_000, failOpen: false, source: '--witness (2 of 3)' });
    // Without --witness-quorum: all of them.
    expect(resolveServeConfig({ witness: [w(1), w(2)] }, {}).witnesses!.policy.groups[0]!.threshold).toBe(2);
  });

  it('reads the same settings from the environment', () => {
    const cfg = resolveServeConfig(
      {},
      {
        TILELOG_WITNESSES: `${w(1)}\n ${w(2)}`,
        TILELOG_WITNESS_QUORUM: '1',
        TILELOG_WITNESS_TIMEOUT_MS: '250',
        TILELOG_WITNESS_REFRESH_S: '5',
        TILELOG_WITNESS_FAIL_OPEN: '1',
      },
    ).witnesses!;
    expect(cfg.policy.witnesses).toHaveLength(2);
    expect(cfg).toMatchObject({ timeoutMs: 250, refreshMs: 5000, failOpen: true });
    expect(cfg.policy.groups[0]!.threshold).toBe(1);
  });

  it('--witness-policy reads a tlog-policy file', () => {
    const dir = tempDir('tilelog-policy-');
    const file = path.join(dir, 'policy');
    fs.writeFileSync(file, `# ours\nwitness A ${vk(1)} http://a.example\nwitness B ${vk(2)} http://b.example\ngroup G any A B\nquorum G\n`);
    const cfg = resolveServeConfig({ 'witness-policy': file, 'witness-fail-open': true }, {}).witnesses!;
    expect(cfg.policy.quorum).toBe('G');
    expect(cfg.failOpen).toBe(true);
    expect(cfg.source).toBe(path.resolve(file));
  });

  it('refuses usage mistakes with the flag named', () => {
    const dir = tempDir('tilelog-policy-');
    const file = path.join(dir, 'policy');
    fs.writeFileSync(file, 'quorum nobody\n');
    const cases: [Parameters<typeof resolveServeConfig>[0], RegExp][] = [
      [{ witness: ['http://127.0.0.1:1'] }, /--witness must be <url>,<vkey>/],
      [{ witness: [`ftp://x,${vk(1)}`] }, /--witness must be an http/],
      [{ witness: ['http://127.0.0.1:1,nokey'] }, /--witness: .*verifier key/],
      [{ witness: [w(1)], 'witness-quorum': '2' }, /--witness-quorum 2 is more than the 1 witnesses/],
      [{ witness: [w(1), w(1)] }, /same public key/],
      [{ 'witness-quorum': '1' }, /--witness-quorum needs --witness or --witness-policy/],
      [{ 'witness-refresh-s': '1' }, /--witness-refresh-s needs/],
      [{ witness: [w(1)], 'witness-refresh-s': '0' }, /--witness-refresh-s must be an integer >= 1/],
      [{ 'witness-policy': file, witness: [w(1)] }, /exclusive/],
      [{ 'witness-policy': file, 'witness-quorum': '1' }, /sets the quorum itself/],
      [{ 'witness-policy': file }, /policy line 1: quorum nobody is not defined/],
      [{ 'witness-policy': path.join(dir, 'missing') }, /cannot read/],
    ];
    for (const [values, pattern] of cases) {
      let err: unknown;
      try {
        resolveServeConfig(values, {});
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(values)).toBeInstanceOf(UsageError);
      expect((err as Error).message).toMatch(pattern);
    }
  });
});

describe('serve --partial-grace-s', () => {
  it('defaults to 60 s; flag over env over the config file; 0 allowed; a bad value is a usage error', async () => {
    const { resolveServeSettings } = await import('../../src/cli/serve-config.js');
    expect(resolveServeConfig({}, {}).partialGraceMs).toBe(60_000);
    expect(resolveServeConfig({ 'partial-grace-s': '0' }, { TILELOG_PARTIAL_GRACE_S: '5' }).partialGraceMs).toBe(0);
    expect(resolveServeConfig({}, { TILELOG_PARTIAL_GRACE_S: '5' }).partialGraceMs).toBe(5_000);
    const dir = tempDir();
    const file = path.join(dir, 'serve.json');
    fs.writeFileSync(file, JSON.stringify({ 'partial-grace-s': 7 }));
    expect(resolveServeSettings({ config: file }, {}).serve.partialGraceMs).toBe(7_000);
    expect(resolveServeSettings({ config: file }, { TILELOG_PARTIAL_GRACE_S: '3' }).serve.partialGraceMs).toBe(3_000);
    expect(() => resolveServeConfig({ 'partial-grace-s': '-1' }, {})).toThrow(UsageError);
    expect(() => resolveServeConfig({}, { TILELOG_PARTIAL_GRACE_S: 'soon' })).toThrow(/TILELOG_PARTIAL_GRACE_S/);
  });
});

describe('serve --checkpoint-interval-ms', () => {
  it('defaults to 1 s with the tree in a bucket (a conditional PUT per checkpoint) and 0 for a directory; the setting wins', () => {
    const bucket = { tiles: 's3://bench-bucket/p', 's3-endpoint': 'http://127.0.0.1:9000' };
    expect(resolveServeConfig({}, {}).checkpointIntervalMs).toBe(0);
    expect(resolveServeConfig(bucket, {}).checkpointIntervalMs).toBe(1000);
    expect(resolveServeConfig({ ...bucket, 'checkpoint-interval-ms': '0' }, {}).checkpointIntervalMs).toBe(0);
    expect(resolveServeConfig(bucket, { TILELOG_CHECKPOINT_INTERVAL_MS: '250' }).checkpointIntervalMs).toBe(250);
    expect(resolveServeConfig({ 'checkpoint-interval-ms': '40' }, {}).checkpointIntervalMs).toBe(40);
    expect(() => resolveServeConfig({ 'checkpoint-interval-ms': 'often' }, {})).toThrow(/--checkpoint-interval-ms/);
  });
});

describe('serve --print-config origin', () => {
  const printed = async (args: string[], cwd: string) => {
    const r = await runCli(['serve', '--print-config', ...args], { cwd, env: { TILELOG_ORIGIN: '', TILELOG_KEY: '', TILELOG_STATE: '', TILELOG_CONFIG: '' } });
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as { origin: string | null; 'origin-from': string };
  };

  it('shows the origin serve would use: --origin, else the existing key name, else the first-run default', async () => {
    const cwd = tempDir('tilelog-print-origin-');
    // A first run: no key yet, so the invented default, with advice to choose a real one.
    const fresh = await printed([], cwd);
    expect(fresh.origin).toBe(defaultOrigin(os.hostname(), 'xxxxxxxx'));
    expect(fresh['origin-from']).toContain('the first run draws the 8 random hex digits');
    expect(fresh['origin-from']).toContain('choose a real one with --origin');
    expect(fs.existsSync(path.join(cwd, '.tilelog'))).toBe(false);

    // The state dir's key exists: its name.
    const keygen = await runCli(['keygen', '--origin', 'keyed.example/log', '--out', path.join(cwd, '.tilelog', 'log.key')], { cwd });
    expect(keygen.code, keygen.stderr).toBe(0);
    expect(await printed([], cwd)).toMatchObject({ origin: 'keyed.example/log', 'origin-from': `the name of the key in ${path.join(cwd, '.tilelog', 'log.key')}` });

    // --origin wins over the key's name.
    expect((await printed(['--origin', 'flag.example/log'], cwd)).origin).toBe('flag.example/log');

    // An explicit --key that does not exist: serve would refuse, so no origin.
    const missing = await printed(['--key', path.join(cwd, 'nope.key')], cwd);
    expect(missing.origin).toBeNull();
    expect(missing['origin-from']).toContain('does not exist');
  });
});

describe('serve --db settings', () => {
  const base = { db: 'postgres://u@127.0.0.1:5432/d', tiles: 's3://bucket/log' };

  it('a shorter --lease-ttl-ms alone scales renew and margin down with it; the defaults stay 10 s / 3 s / 2 s', () => {
    expect(resolveServeConfig(base, {}).lease).toEqual({ ttlMs: 10_000, renewMs: 3_000, marginMs: 2_000 });
    expect(resolveServeConfig({ ...base, 'lease-ttl-ms': '2000' }, {}).lease).toEqual({ ttlMs: 2_000, renewMs: 600, marginMs: 400 });
    expect(resolveServeConfig({ ...base, 'lease-ttl-ms': '60000' }, {}).lease).toEqual({ ttlMs: 60_000, renewMs: 3_000, marginMs: 2_000 });
    expect(() => resolveServeConfig({ ...base, 'lease-ttl-ms': '2000', 'lease-renew-ms': '1900' }, {})).toThrow(/renew < ttl - margin/);
  });

  it('refuses --s3-unconditional: several processes need the conditional checkpoint write', () => {
    expect(() => resolveServeConfig({ ...base, 's3-unconditional': true }, {})).toThrow(UsageError);
    expect(() => resolveServeConfig({ ...base, 's3-unconditional': true }, {})).toThrow(/conditional checkpoint write/);
    expect(resolveServeConfig({ tiles: 's3://bucket/log', 's3-unconditional': true }, {}).s3.unconditional).toBe(true);
  });
});
