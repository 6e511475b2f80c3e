// tilelog verify as a real child process, on the golden bundles in
// spec/vectors (made from the shared golden tree): exit 0 with one summary
// line; exit 1 naming the failed step; exit 2 for usage mistakes.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCosignerKey } from '../../src/note/index.js';
import { REPO, runCli, SHARED_VECTORS } from './helpers.js';

const LOG = fs.readFileSync(path.join(SHARED_VECTORS, 'log.vkey'), 'utf8').trim();
const WITNESS = fs.readFileSync(path.join(SHARED_VECTORS, 'witness.vkey'), 'utf8').trim();
const OTHER = generateCosignerKey('other.example/witness', new Uint8Array(32).fill(7)).verifierKey;
const T = 1795312610; // the witness timestamp on the golden cosigned checkpoint
const COSIGNED_JSON = path.join(REPO, 'spec/vectors/bundle-cosigned-999.json');
const COSIGNED_CBOR = path.join(REPO, 'spec/vectors/bundle-cosigned-999.cbor');
const LOG_ONLY_CBOR = path.join(REPO, 'spec/vectors/bundle-65536.cbor');

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tilelog-verify-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const now = ['--now', String(T)];

describe('tilelog verify', () => {
  it('verifies JSON and CBOR bundles with one summary line', async () => {
    for (const f of [COSIGNED_JSON, COSIGNED_CBOR]) {
      const r = await runCli(['verify', f, '--log-key', LOG, '--witness', WITNESS, '--quorum', '1', ...now]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^OK: entry 999 \(\d+ bytes, leaf hash [A-Za-z0-9+/]{43}=\) is in vectors\.tilelog\.example\/log at size 1000; cosigned by vectors\.tilelog\.example\/witness \(newest 2026-11-22T\d\d:\d\d:\d\dZ\)\n$/);
    }
    const r = await runCli(['verify', LOG_ONLY_CBOR, '--log-key', LOG, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, index: 65536, treeSize: 70000, cosigners: [] });
  });

  it('reads the bundle from stdin', async () => {
    const r = await runCli(['verify', '-', '--log-key', LOG], { input: fs.readFileSync(LOG_ONLY_CBOR) });
    expect([r.code, r.stdout.startsWith('OK: entry 65536')]).toEqual([0, true]);
  });

  it('takes a tlog-policy file', async () => {
    const policy = path.join(dir, 'policy');
    fs.writeFileSync(policy, `log ${LOG}\nwitness w ${WITNESS}\nwitness o ${OTHER}\ngroup g any w o\nquorum g\n`);
    const r = await runCli(['verify', COSIGNED_CBOR, '--policy', policy, ...now]);
    expect([r.code, r.stderr]).toEqual([0, '']);
    fs.writeFileSync(policy, `log ${LOG}\nwitness w ${WITNESS}\nwitness o ${OTHER}\ngroup g all w o\nquorum g\n`);
    const bad = await runCli(['verify', COSIGNED_CBOR, '--policy', policy, ...now]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/FAILED at cosignature quorum/);
  });

  it('exits 1 naming the failed step', async () => {
    const tampered = path.join(dir, 'tampered.json');
    const b = JSON.parse(fs.readFileSync(COSIGNED_JSON, 'utf8')) as { index: number };
    fs.writeFileSync(tampered, JSON.stringify({ ...b, index: 998 }));
    const garbage = path.join(dir, 'garbage.cbor');
    fs.writeFileSync(garbage, new Uint8Array([0xa5, 0, 2]));
    const wrongLog = '--log-key=' + fs.readFileSync(path.join(SHARED_VECTORS, 'witness.vkey'), 'utf8').trim().replace('+BJOb', '+AJOb');
    const cases: [string[], RegExp][] = [
      [[COSIGNED_CBOR, '--log-key', LOG, '--witness', WITNESS, '--witness', OTHER, '--quorum', '2', ...now], /FAILED at cosignature quorum: .*CLIENT_CHECKPOINT_QUORUM/],
      [[COSIGNED_CBOR, '--log-key', LOG, '--witness', OTHER, ...now], /FAILED at cosignature quorum/],
      [[COSIGNED_CBOR, '--log-key', LOG, '--witness', WITNESS, '--now', String(T - 120)], /FAILED at cosignature timestamp: .*CLIENT_CHECKPOINT_FUTURE/],
      [[COSIGNED_CBOR, '--log-key', LOG, '--witness', WITNESS, '--max-age', '60', '--now', String(T + 61)], /FAILED at checkpoint age: .*CLIENT_CHECKPOINT_AGE/],
      [[tampered, '--log-key', LOG, ...now], /FAILED at inclusion: .*CLIENT_BUNDLE_INCLUSION/],
      [[garbage, '--log-key', LOG], /FAILED at decode: .*CLIENT_BUNDLE_DECODE/],
      [[COSIGNED_CBOR, '--log-key', LOG, '--origin', 'example.com/other'], /FAILED at checkpoint signature/],
    ];
    for (const [args, re] of cases) {
      const r = await runCli(['verify', ...args]);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr, args.join(' ')).toMatch(re);
    }
    // A key that does not parse is a usage mistake.
    const k = await runCli(['verify', COSIGNED_CBOR, wrongLog]);
    expect(k.code).toBe(2);
  });

  it('exits 2 on usage mistakes and 0 on --help', async () => {
    const usage: string[][] = [
      [],
      [COSIGNED_CBOR],
      [COSIGNED_CBOR, COSIGNED_JSON, '--log-key', LOG],
      [COSIGNED_CBOR, '--log-key', LOG, '--quorum', 'two'],
      [COSIGNED_CBOR, '--log-key', LOG, '--witness', WITNESS, '--quorum', '2'],
      [COSIGNED_CBOR, '--log-key', LOG, '--max-age', '10'],
      [COSIGNED_CBOR, '--log-key', LOG, '--bogus'],
    ];
    for (const args of usage) {
      const r = await runCli(['verify', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/tilelog verify --help/);
    }
    const h = await runCli(['verify', '--help']);
    expect([h.code, h.stdout.startsWith('Usage: tilelog verify')]).toEqual([0, true]);
    const missing = await runCli(['verify', path.join(dir, 'nope.json'), '--log-key', LOG]);
    expect(missing.code).toBe(1);
  });
});
