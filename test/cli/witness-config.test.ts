// tilelog witness serve --config: flags > TILELOG_LOG_LEVEL > file > defaults,
// file mistakes named by field, the log's variables ignored, --print-config,
// and a real witness started from nothing but a config file.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveWitnessServeSettings } from '../../src/cli/witness-config.js';
import { runCli, spawnCli, tempDir, usageMessage as usage } from './helpers.js';

const dir = tempDir('tilelog-witness-config-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
let n = 0;
function file(content: unknown): string {
  const f = path.join(dir, `w${n++}.json`);
  fs.writeFileSync(f, typeof content === 'string' ? content : JSON.stringify(content));
  return f;
}

describe('witness serve settings', () => {
  it('layers flags over the environment over the file over defaults', () => {
    const f = file({ state: '/w/state', key: '/w/key', listen: '127.0.0.1:7399', 'log-level': 'debug' });
    const fromFile = resolveWitnessServeSettings({ config: f }, {});
    expect(fromFile).toMatchObject({ stateDir: '/w/state', keyFile: '/w/key', host: '127.0.0.1', port: 7399, logLevel: 'debug' });
    expect(fromFile.configFile).toBe(path.resolve(f));
    const env = resolveWitnessServeSettings({ config: f }, { TILELOG_LOG_LEVEL: 'warn' });
    expect(env.logLevel).toBe('warn');
    const flags = resolveWitnessServeSettings({ config: f, listen: ':7400', 'log-level': 'error' }, { TILELOG_LOG_LEVEL: 'warn' });
    expect(flags).toMatchObject({ host: '0.0.0.0', port: 7400, logLevel: 'error', stateDir: '/w/state' });
    const viaEnv = resolveWitnessServeSettings({}, { TILELOG_WITNESS_CONFIG: f });
    expect(viaEnv.stateDir).toBe('/w/state');
    const defaults = resolveWitnessServeSettings({ state: 's', key: 'k' }, {});
    expect(defaults).toMatchObject({ host: '127.0.0.1', port: 7380, logLevel: 'info', configFile: null });
  });

  it("ignores the log's variables", () => {
    const s = resolveWitnessServeSettings({ state: 's', key: 'k' }, { TILELOG_LISTEN: ':1', TILELOG_STATE: '/log' });
    expect(s).toMatchObject({ stateDir: 's', port: 7380 });
  });

  it('names the file field and the fix for each mistake', () => {
    expect(usage(() => resolveWitnessServeSettings({ config: file({ state: 's', key: 'k', listen: 'nope' }) }, {}))).toMatch(
      /field "listen" must be host:port/,
    );
    expect(usage(() => resolveWitnessServeSettings({ config: file({ state: 's', key: 'k', 'log-level': 'loud' }) }, {}))).toMatch(
      /field "log-level" must be one of/,
    );
    expect(usage(() => resolveWitnessServeSettings({ config: file({ state: 's', key: 'k', logLevel: 'info' }) }, {}))).toMatch(
      /unknown field "logLevel"; did you mean "log-level"\?/,
    );
    expect(usage(() => resolveWitnessServeSettings({ config: file({ stat: 's' }) }, {}))).toMatch(/tilelog witness serve --help/);
    expect(usage(() => resolveWitnessServeSettings({ config: file({ state: ['s'], key: 'k' }) }, {}))).toMatch(/field "state" must be a string/);
    expect(usage(() => resolveWitnessServeSettings({ config: file('{"state": ') }, {}))).toMatch(/not valid JSON/);
    expect(usage(() => resolveWitnessServeSettings({ config: file({ key: 'k' }) }, {}))).toMatch(/--state is required/);
  });
});

describe('tilelog witness serve --config (child processes)', () => {
  it('prints the effective configuration and serves from the file alone', async () => {
    const root = dir;
    const keyFile = path.join(root, 'witness.key');
    const kg = await runCli(['witness', 'keygen', '--name', 'cfg.witness.example', '--out', keyFile]);
    expect(kg.code).toBe(0);
    const f = file({ state: path.join(root, 'wstate'), key: keyFile, listen: '127.0.0.1:0', 'log-level': 'warn' });
    const printed = await runCli(['witness', 'serve', '--config', f, '--print-config']);
    expect(printed.code).toBe(0);
    expect(JSON.parse(printed.stdout)).toEqual({
      configFile: path.resolve(f),
      state: path.join(root, 'wstate'),
      key: keyFile,
      listen: '127.0.0.1:0',
      'log-level': 'warn',
    });
    expect(printed.stdout).not.toContain('PRIVATE');

    const child = spawnCli(['witness', 'serve', '--config', f, '--json']);
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('\n')) resolve(out.split('\n')[0]!);
        });
        child.once('exit', (code) => reject(new Error(`witness exited with ${code}`)));
      });
      const summary = JSON.parse(line) as { url: string; name: string };
      expect(summary.name).toBe('cfg.witness.example');
      const res = await fetch(`${summary.url}/metrics`);
      expect(res.status).toBe(200);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });
});
