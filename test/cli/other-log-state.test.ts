// serve --key <a key of another log> (or --origin <another origin>) over a
// state dir that holds a log: the refusal names both logs and the flags for
// serving the existing one or starting the new one elsewhere.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startServe, tempDir } from './helpers.js';

const env = { TILELOG_LISTEN: '127.0.0.1:0', TILELOG_ORIGIN: '', TILELOG_KEY: '', TILELOG_STATE: '', TILELOG_TILES: '', TILELOG_CONFIG: '' };

describe('serve over a state dir of another log', () => {
  it('says which log the directory holds, and which flags serve it or start the new log elsewhere', async () => {
    const cwd = tempDir('tilelog-other-log-');
    const first = await startServe(['--origin', 'first.example/log'], { cwd, env });
    expect((await first.stop()).code).toBe(0);
    const kg = await runCli(['keygen', '--origin', 'second.example/log', '--out', 'log.key'], { cwd });
    expect(kg.code, kg.stderr).toBe(0);
    const state = path.join(cwd, '.tilelog');
    const before = fs.readFileSync(path.join(cwd, 'tiles', 'checkpoint'), 'utf8');

    const r = await runCli(['serve', '--key', 'log.key'], { cwd, env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${state} holds the log first.example/log, but the key log.key is named second.example/log.`);
    expect(r.stderr).toContain(`to serve first.example/log: use its key, ${path.join(state, 'log.key')}: drop --key`);
    expect(r.stderr).toContain(`to start a new log second.example/log: give it directories of its own, e.g. --state ${state}-2 --tiles ${path.join(cwd, 'tiles')}-2`);
    expect(fs.readFileSync(path.join(cwd, 'tiles', 'checkpoint'), 'utf8')).toBe(before);

    const byOrigin = await runCli(['serve', '--origin', 'third.example/log'], { cwd, env });
    expect(byOrigin.code).toBe(1);
    expect(byOrigin.stderr).toContain(`${state} holds the log first.example/log, but --origin (or TILELOG_ORIGIN) says third.example/log.`);
    expect(byOrigin.stderr).toContain('drop --origin (or pass --origin first.example/log)');

    // The advice works: the suggested directories start the new log, and dropping --key serves the old one.
    const second = await startServe(['--key', 'log.key', '--state', `${state}-2`, '--tiles', `${path.join(cwd, 'tiles')}-2`], { cwd, env });
    expect(second.origin).toBe('second.example/log');
    await second.stop();
    const again = await startServe([], { cwd, env });
    expect(again.origin).toBe('first.example/log');
    await again.stop();
  });
});
