// The serve startup summary names the roles that are on: witnesses with the
// policy as K of N, the registry with its URL prefix, the CA with its chain
// URL (fetched here, so the printed URL is the real one); and says which are off.
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeQuorum, summaryText, type SummaryFacts } from '../../src/cli/serve-summary.js';
import { generateCosignerKey } from '../../src/note/cosignature.js';
import { parsePolicy, simplePolicy } from '../../src/note/index.js';
import { spawnCli, startJsonCli, tempDir } from './helpers.js';

const vk = (n: number) => generateCosignerKey(`w${n}.example`, new Uint8Array(32).fill(n)).verifierKey;
const env = { TILELOG_LISTEN: '127.0.0.1:0', TILELOG_ORIGIN: '', TILELOG_KEY: '', TILELOG_STATE: '', TILELOG_TILES: '', TILELOG_CONFIG: '' };

/** Starts `tilelog serve` (text summary), reads the summary up to its Try: line, fetches the CA chain URL it printed (if any), and stops it. */
async function textSummary(args: string[]): Promise<{ text: string; url: string; chain: Response | null }> {
  const cwd = tempDir('tilelog-summary-');
  const child = spawnCli(['serve', '--origin', 'summary.example/log', '--state', path.join(cwd, 's'), '--tiles', path.join(cwd, 't'), ...args], { cwd, env });
  let out = '';
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  try {
    const text = await new Promise<string>((resolve, reject) => {
      child.stdout!.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        if (/^Try: .*\n/m.test(out)) resolve(out);
      });
      void exited.then(() => reject(new Error(`serve exited: ${err}`)));
    });
    const url = /^tilelog serving \S+ at (\S+)$/m.exec(text)![1]!;
    const ca = /chain at (\S+)/.exec(text)?.[1];
    return { text, url, chain: ca === undefined ? null : await fetch(ca) };
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

describe('describeQuorum', () => {
  it('says K of N, nested groups included, and none', () => {
    const ws = [1, 2, 3].map((n) => ({ vkey: vk(n), url: null }));
    expect(describeQuorum(simplePolicy(ws, 2))).toBe('2 of 3: w1.example, w2.example, w3.example');
    expect(describeQuorum(simplePolicy(ws, 0))).toBe('none (no cosignature required)');
    const nested = parsePolicy(`witness a ${vk(1)}\nwitness b ${vk(2)}\nwitness c ${vk(3)}\ngroup ab 1 a b\ngroup top 2 ab c\nquorum top\n`);
    expect(describeQuorum(nested)).toBe('2 of 2: [1 of 2 (ab): a, b], c');
    expect(describeQuorum(parsePolicy(`witness a ${vk(1)}\nquorum a\n`))).toBe('1 of 1 (a)');
  });
});

describe('serve startup summary', () => {
  it('says every role is off on a plain log', async () => {
    const { text } = await textSummary([]);
    expect(text).toMatch(/^ {2}witnesses: {4}off \(checkpoints are published as the log signs them/m);
    expect(text).toMatch(/^ {2}registry: {5}off \(--registry/m);
    expect(text).toMatch(/^ {2}CA: {11}off/m);
  });

  it('names the witness policy as K of N, the registry prefix and the CA chain URL, which serves the chain', async () => {
    const witnesses = [1, 2, 3].flatMap((n) => ['--witness', `http://127.0.0.1:9/w${n},${vk(n)}`]);
    const roles = ['--registry', '--no-registry-dns-validation', '--registry-ca', ...witnesses, '--witness-quorum', '2', '--witness-timeout-ms', '200', '--witness-fail-open'];
    const { text, url, chain } = await textSummary(roles);
    expect(text).toContain('  witnesses:    3, policy 2 of 3: w1.example, w2.example, w3.example, from --witness (2 of 3), fail-open');
    expect(text).toContain(`  registry:     ${url}/v1/agents, submitter key `);
    expect(text).toContain(', 0 API keys, domain validation OFF');
    expect(text).toContain(`  CA:           on, chain at ${url}/v1/ca/chain\n`);
    expect(chain?.status).toBe(200);
    expect(await chain!.text()).toContain('-----BEGIN CERTIFICATE-----');

    const cwd = tempDir('tilelog-summary-json-');
    const j = await startJsonCli<{ url: string; roles: unknown }>(['serve', '--json', '--origin', 'summary.example/log', ...roles], { cwd, env });
    try {
      expect(j.summary.roles).toEqual({
        witnesses: { count: 3, quorum: '2 of 3: w1.example, w2.example, w3.example', source: '--witness (2 of 3)', failOpen: true },
        registry: { prefix: '/v1/agents', url: `${j.summary.url}/v1/agents` },
        ca: { chainUrl: `${j.summary.url}/v1/ca/chain` },
      });
    } finally {
      j.child.kill('SIGTERM');
      await j.exited;
    }
  });
});

describe('the signer line with --db', () => {
  const facts = (database: SummaryFacts['database']): SummaryFacts => ({
    url: 'http://127.0.0.1:1',
    origin: 'o.example/log',
    verifierKey: 'o.example/log+00000000+AA',
    treeSize: 0,
    signedSize: 0,
    stateDir: '/s',
    tilesDir: 's3://b/p',
    publicUrl: 'http://127.0.0.1:1',
    witnesses: null,
    registry: null,
    database,
  });
  const signer = (d: SummaryFacts['database']) => /^ {2}signer: +(.*)$/m.exec(summaryText(facts(d)))![1];

  it('says whether this candidate leads, and that a frontend never signs', () => {
    expect(signer({ target: 'u@h:1/d', leading: true, epoch: 3, role: 'candidate' })).toBe('this process leads (epoch 3)');
    expect(signer({ target: 'u@h:1/d', leading: false, epoch: null, role: 'candidate' })).toMatch(/this one is a candidate/);
    expect(signer({ target: 'u@h:1/d', leading: false, epoch: null, role: 'frontend' })).toMatch(/^never this process \(a frontend/);
  });
});
