// deploy/tilelog.service, deploy/Containerfile and deploy/config.json: what
// can be checked without root or a container runtime (docker/podman cannot
// run here). The unit passes `systemd-analyze verify` when that exists; its
// ExecStart and the container's ENTRYPOINT + CMD are parsed with serve's own
// flag table and resolve with the example config; every file the
// Containerfile copies from the build context exists.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseFlags } from '../../src/cli/common.js';
import { envNameFor } from '../../src/cli/config-file.js';
import { resolveServeSettings, SERVE_FLAGS } from '../../src/cli/serve-config.js';
import { REPO, runCli } from '../cli/helpers.js';

const read = (f: string) => fs.readFileSync(path.join(REPO, 'deploy', f), 'utf8');
const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { bin: Record<string, string> };
const CONFIG = path.join(REPO, 'deploy/config.json');

/** The serve flags after `<node> <main.js> serve`, checked against the CLI's entry point. */
function serveArgs(argv: string[], installDir: string): string[] {
  expect(path.basename(argv[0]!)).toBe('node');
  expect(argv[1]).toBe(path.posix.join(installDir, pkg.bin.tilelog!));
  expect(argv[2]).toBe('serve');
  return argv.slice(3);
}

/** Replaces the install-time config path with the repo's example. */
const withRepoConfig = (args: string[]) => args.map((a) => (a === '/etc/tilelog/config.json' ? CONFIG : a));

describe('deploy/config.json', () => {
  test('is valid for tilelog serve and names only known flags', () => {
    const s = resolveServeSettings({ config: CONFIG }, {});
    expect(s.serve).toMatchObject({ stateDir: '/var/lib/tilelog/state', tilesDir: '/var/lib/tilelog/tiles', host: '127.0.0.1', port: 8080 });
  });
});

describe('deploy/tilelog.service', () => {
  const unit = read('tilelog.service');
  const service = (key: string) =>
    unit
      .split('\n')
      .filter((l) => l.startsWith(`${key}=`))
      .map((l) => l.slice(key.length + 1));

  test('ExecStart runs tilelog serve with flags the CLI accepts', async () => {
    const exec = service('ExecStart');
    expect(exec).toHaveLength(1);
    const args = serveArgs(exec[0]!.split(/\s+/), '/opt/tilelog');
    const { values, positionals } = parseFlags(withRepoConfig(args), SERVE_FLAGS, true);
    expect(positionals).toEqual([]);
    const env = Object.fromEntries(service('Environment').map((e) => e.split('=', 2) as [string, string]));
    for (const name of Object.keys(env)) expect(Object.keys(SERVE_FLAGS).map(envNameFor)).toContain(name);
    expect(resolveServeSettings(values, env).serve.logLevel).toBe('info');
    // The real CLI agrees (it prints the configuration and exits 0 without starting).
    const r = await runCli(['serve', ...withRepoConfig(args), '--print-config'], { env });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ tiles: '/var/lib/tilelog/tiles', 'log-level': 'info' });
    // It may write where the config keeps state and tiles.
    expect(service('ReadWritePaths')[0]).toBe('/var/lib/tilelog');
    expect(service('KillSignal')[0]).toBe('SIGTERM');
  });

  const analyze = spawnSync('systemd-analyze', ['--version']).error === undefined;
  test.skipIf(!analyze)('systemd-analyze verify accepts it', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tilelog-unit-'));
    try {
      const f = path.join(dir, 'tilelog.service');
      // verify checks that the program exists: use this machine's node.
      fs.writeFileSync(f, unit.replace(/^ExecStart=\S+/m, `ExecStart=${process.execPath}`));
      const r = spawnSync('systemd-analyze', ['verify', f], { encoding: 'utf8' });
      expect(r.stderr.split('\n').filter((l) => l.includes('tilelog.service'))).toEqual([]);
      expect(r.status).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('deploy/Containerfile (not built here: no container runtime)', () => {
  const text = read('Containerfile');
  const lines = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  const json = (instr: string) => JSON.parse(lines.find((l) => l.startsWith(`${instr} `))!.slice(instr.length + 1)) as string[];

  test('every file copied from the build context exists', () => {
    const copies = lines.filter((l) => l.startsWith('COPY ') && !l.includes('--from='));
    expect(copies.length).toBeGreaterThan(0);
    for (const c of copies) {
      const parts = c.split(/\s+/).slice(1);
      for (const src of parts.slice(0, -1)) expect(fs.existsSync(path.join(REPO, src)), `${src} in ${c}`).toBe(true);
    }
  });

  test('ENTRYPOINT + CMD run tilelog serve with its environment', async () => {
    const argv = [...json('ENTRYPOINT'), ...json('CMD')];
    const args = serveArgs(argv, '/opt/tilelog');
    expect(parseFlags(args, SERVE_FLAGS, true).positionals).toEqual([]);
    const envLine = text.slice(text.indexOf('ENV ') + 4).split('\n\n')[0]!.split('\n').slice(0, 2).join(' ');
    const env = Object.fromEntries([...envLine.matchAll(/(TILELOG_[A-Z_]+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]));
    expect(Object.keys(env).sort()).toEqual(['TILELOG_CONFIG', 'TILELOG_LISTEN']);
    expect(env.TILELOG_CONFIG).toBe('/etc/tilelog/config.json');
    // The image's config is deploy/config.json; the env var beats its listen address.
    const r = await runCli(['serve', ...args, '--print-config'], { env: { ...env, TILELOG_CONFIG: CONFIG } });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ listen: '0.0.0.0:8080', state: '/var/lib/tilelog/state' });
    expect(text).toMatch(/^VOLUME \["\/var\/lib\/tilelog"\]$/m);
    expect(text).toMatch(/^EXPOSE 8080$/m);
  });
});
