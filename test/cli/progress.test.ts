// Progress lines: the final count is printed once. The CLI case starts
// `tilelog registry reindex` more than one line interval (5 s) after its
// process began, which is what made the last update and finish() both print.
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Progress } from '../../src/cli/progress.js';
import { runCli, startServe, tempDir } from './helpers.js';

function collect(tty: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  let text = '';
  const stream = { isTTY: tty, write: (s: string) => ((text += s), true) } as unknown as NodeJS.WriteStream;
  return { stream, text: () => text };
}

describe('Progress', () => {
  it('prints the final line once when the last update already printed it', () => {
    const out = collect(false);
    const p = new Progress({ total: 3, unit: 'entries', stream: out.stream, lineIntervalS: 0 });
    p.update(3);
    p.finish();
    expect(out.text().split('\n').filter((l) => l.includes('3/3 entries'))).toHaveLength(1);
  });

  it('still prints the final line when the last update printed an earlier count, and ends a TTY bar', () => {
    const out = collect(false);
    const p = new Progress({ total: 3, unit: 'entries', stream: out.stream, lineIntervalS: 0 });
    p.update(2);
    p.finish(); // done stays 2: already drawn
    expect(out.text().match(/2\/3 entries/g)).toHaveLength(1);

    const tty = collect(true);
    const bar = new Progress({ total: 1, unit: 'entries', stream: tty.stream });
    bar.update(1);
    bar.finish();
    expect(tty.text().endsWith('\n')).toBe(true);
    expect(tty.text().split('\n')).toHaveLength(2);
  });
});

describe('tilelog registry reindex progress', () => {
  it('prints its progress line once, even when it starts long after its process did', async () => {
    const dir = tempDir('tilelog-reindex-progress-');
    const state = path.join(dir, 'state');
    const srv = await startServe(['--state', state, '--tiles', path.join(dir, 'tiles'), '--origin', 'reindex.example/log'], { env: { TILELOG_LISTEN: '127.0.0.1:0' } });
    const add = await runCli(['add', '--url', srv.url, '--lines', '-'], { input: 'not a registry entry\nnor this\n' });
    expect(add.code, add.stderr).toBe(0);
    expect((await srv.stop()).code).toBe(0);

    // Sleep 5.2 s (no CPU) before the CLI runs: past the non-TTY line interval.
    const sleep = '--import=data:text/javascript,Atomics.wait(new%20Int32Array(new%20SharedArrayBuffer(4)),0,0,5200)';
    const r = await runCli(['registry', 'reindex', '--state', state], { env: { NODE_OPTIONS: sleep } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('reindexed');
    expect(r.stderr.split('\n').filter((l) => l.includes('2/2 entries'))).toHaveLength(1);
  });
});
