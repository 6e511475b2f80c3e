// The origin a first run invents is unique per log (hostname plus a random
// suffix), kept across restarts as the key's name, and comes with advice to
// choose a real one.
import * as os from 'node:os';
import { describe, expect, it } from 'vitest';
import { defaultOrigin } from '../../src/cli/serve-config.js';
import { startServe, tempDir } from './helpers.js';

const env = { TILELOG_LISTEN: '127.0.0.1:0', TILELOG_ORIGIN: '', TILELOG_KEY: '', TILELOG_STATE: '', TILELOG_TILES: '', TILELOG_CONFIG: '' };

describe('the invented default origin', () => {
  it('is <hostname>/tilelog-<8 hex>, drawn anew each call', () => {
    expect(defaultOrigin('Build-Box_7.local', 'abcdef01')).toBe('build-box7.local/tilelog-abcdef01');
    expect(defaultOrigin('---', '00000000')).toBe('localhost/tilelog-00000000');
    const host = defaultOrigin(os.hostname(), '').slice(0, -'/tilelog-'.length);
    const drawn = new Set(Array.from({ length: 20 }, () => defaultOrigin()));
    expect(drawn.size).toBe(20);
    for (const o of drawn) expect(o).toMatch(new RegExp(`^${host.replace(/\./g, '\\.')}/tilelog-[0-9a-f]{8}$`));
  });

  it('two logs on one host get different origins; a restart keeps its own; the first run says to choose one', async () => {
    const [a, b] = [tempDir('tilelog-origin-a-'), tempDir('tilelog-origin-b-')];
    const first = await startServe([], { cwd: a, env });
    const other = await startServe([], { cwd: b, env });
    const [firstRun, otherRun] = [await first.stop(), await other.stop()];
    expect(first.origin).toMatch(/\/tilelog-[0-9a-f]{8}$/);
    expect(other.origin).toMatch(/\/tilelog-[0-9a-f]{8}$/);
    expect(other.origin).not.toBe(first.origin);
    for (const [run, origin] of [[firstRun, first.origin], [otherRun, other.origin]] as const) {
      expect(run.stderr).toContain(`note: ${origin} is an invented origin`);
      expect(run.stderr).toContain('Choose a real one with --origin');
    }

    const again = await startServe([], { cwd: a, env });
    const againRun = await again.stop();
    expect(again.origin).toBe(first.origin);
    expect(again.verifierKey).toBe(first.verifierKey);
    expect(againRun.stderr).not.toContain('invented origin');

    // A first run given --origin invents nothing, so it gives no advice.
    const named = await startServe(['--origin', 'named.example/log'], { cwd: tempDir('tilelog-origin-c-'), env });
    const namedRun = await named.stop();
    expect(named.origin).toBe('named.example/log');
    expect(namedRun.stderr).toContain('created a new log: origin named.example/log');
    expect(namedRun.stderr).not.toContain('invented origin');
  });
});
