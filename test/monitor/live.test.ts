// The monitor as a long-running process following a live `tilelog serve`
// child: one JSON line per poll as the log grows, then a clean SIGTERM.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { spawnCli, startServe, tempDir, type ServeHandle } from '../cli/helpers.js';

let srv: ServeHandle;

beforeAll(async () => {
  srv = await startServe([], { cwd: tempDir(), env: { TILELOG_LISTEN: '127.0.0.1:0' } });
}, 60_000);

afterAll(async () => {
  await srv?.stop();
});

async function add(from: number, count: number): Promise<number> {
  let last = -1;
  for (let i = from; i < from + count; i += 100) {
    const answers = await Promise.all(
      Array.from({ length: Math.min(100, from + count - i) }, (_, j) =>
        fetch(`${srv.url}/add`, { method: 'POST', body: `live ${i + j}` }).then((r) => r.json() as Promise<{ index: number }>),
      ),
    );
    last = Math.max(last, ...answers.map((a) => a.index));
  }
  return last + 1;
}

it('follows a live tilelog serve as it grows, one JSON line per poll, and stops on SIGTERM', async () => {
  await add(0, 600);
  const state = tempDir();
  const child = spawnCli(['monitor', '--url', srv.url, '--log-key', srv.verifierKey, '--state', state, '--interval', '1', '--json']);
  const polls: { status: string; size: number; audited: number }[] = [];
  let buf = '';
  let stderr = '';
  const waiters: (() => void)[] = [];
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      polls.push(JSON.parse(buf.slice(0, nl)));
      buf = buf.slice(nl + 1);
      waiters.splice(0).forEach((w) => w());
    }
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const until = async (pred: () => boolean) => {
    while (!pred()) await new Promise<void>((resolve) => waiters.push(resolve));
  };

  await until(() => polls.some((p) => p.status === 'ok' && p.audited >= 600));
  const target = await add(600, 900);
  await until(() => polls.some((p) => p.status === 'ok' && p.audited >= target));
  child.kill('SIGTERM');
  expect(await exited, stderr).toBe(0);
  expect(polls.every((p) => p.status === 'ok')).toBe(true);
  const sizes = polls.map((p) => p.size);
  expect(sizes).toEqual([...sizes].sort((a, b) => a - b)); // never backwards
}, 60_000);
