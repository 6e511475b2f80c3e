// tilelog add when the connection breaks mid-request: a real TCP proxy in
// front of a real `tilelog serve` passes every request through, except that it
// breaks the POST /add connection either after the server has the request
// (the entry is stored, its answer lost) or before (nothing reaches the
// server). The client says whether the entry is in the log and whether a
// re-run is safe.
import * as net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startServe, tempDir, type ServeHandle } from './helpers.js';

type Drop = 'none' | 'before-server' | 'after-server' | 'then-gone';

interface Proxy {
  url: string;
  drop: Drop;
  close(): Promise<void>;
}

async function proxyTo(upstream: string): Promise<Proxy> {
  const { hostname, port } = new URL(upstream);
  const state: { drop: Drop } = { drop: 'none' };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.once('data', (first: Buffer) => {
      const isAdd = first.toString('latin1').startsWith('POST /add');
      if (isAdd && (state.drop === 'before-server' || state.drop === 'then-gone')) {
        if (state.drop === 'then-gone') server.close(); // and later connections are refused
        client.destroy(); // the server never sees this request
        return;
      }
      const up = net.connect(Number(port), hostname, () => up.write(first));
      sockets.add(up);
      up.on('error', () => client.destroy());
      client.on('error', () => up.destroy());
      client.pipe(up);
      if (isAdd && state.drop === 'after-server') {
        // The server has the request; break the client's connection as its answer arrives.
        up.once('data', () => {
          client.destroy();
          up.destroy();
        });
      } else {
        up.pipe(client);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: own } = server.address() as net.AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${own}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  }) as Proxy;
}

let srv: ServeHandle;
let cwd: string;
beforeAll(async () => {
  cwd = tempDir('tilelog-add-lost-');
  srv = await startServe(['--origin', 'lost.example/log'], { cwd, env: { TILELOG_LISTEN: '127.0.0.1:0' } });
});
afterAll(async () => {
  await srv?.stop();
});

describe('tilelog add over a connection that breaks', () => {
  it('after the server has the entry: says it is in the log, at which index, and not to add it again', async () => {
    const proxy = await proxyTo(srv.url);
    try {
      proxy.drop = 'after-server';
      const r = await runCli(['add', '--url', proxy.url, '-'], { cwd, input: 'stored, answer lost' });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`stdin: the connection to ${proxy.url}/add was lost before the answer`);
      const index = Number(/stdin is in the log at index (\d+) \(found by its leaf hash\); do not add it again/.exec(r.stderr)?.[1]);
      expect(Number.isSafeInteger(index)).toBe(true);
      // It really is: the server gives that index back for the same bytes.
      const again = await runCli(['add', '--url', srv.url, '-'], { cwd, input: 'stored, answer lost' });
      expect(again.stdout).toBe(`${index}\tstdin\t(already in the log)\n`);
    } finally {
      await proxy.close();
    }
  });

  it('before the server has it: says it is not in the log now, and when a re-run is safe', async () => {
    const proxy = await proxyTo(srv.url);
    try {
      proxy.drop = 'before-server';
      const r = await runCli(['add', '--url', proxy.url, '-'], { cwd, input: 'never arrived' });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('the server may or may not have stored the entry');
      expect(r.stderr).toMatch(/It is not in the log now \(http:\/\/127\.0\.0\.1:\d+\/v1\/log\/lookup\/[0-9a-f]{64} answers 404\)/);
      // The server says it deduplicates (/v1/log/info), so the advice is definite.
      expect(r.stderr).toContain('Re-running is safe: this log deduplicates, so a re-run answers the same index if the entry was stored.');
      expect(r.stderr).not.toContain('--no-dedup');
    } finally {
      await proxy.close();
    }
  });

  it('from a log that does not deduplicate: warns that a re-run may store the entry twice', async () => {
    const noDedupCwd = tempDir('tilelog-add-lost-nodedup-');
    const plain = await startServe(['--origin', 'lost-nodedup.example/log', '--no-dedup'], { cwd: noDedupCwd, env: { TILELOG_LISTEN: '127.0.0.1:0' } });
    const proxy = await proxyTo(plain.url);
    try {
      const info = (await (await fetch(`${plain.url}/v1/log/info`)).json()) as { dedup?: boolean };
      expect(info.dedup).toBe(false);
      proxy.drop = 'before-server';
      const r = await runCli(['add', '--url', proxy.url, '-'], { cwd: noDedupCwd, input: 'never arrived either' });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('This log does not deduplicate (--no-dedup): a re-run may store the entry twice');
      expect(r.stderr).not.toContain('Re-running is safe');
    } finally {
      await proxy.close();
      await plain.stop();
    }
  });

  it('when the server cannot be asked afterwards: says how to check once it is back', async () => {
    const proxy = await proxyTo(srv.url);
    try {
      proxy.drop = 'then-gone';
      const r = await runCli(['add', '--url', proxy.url, '-'], { cwd, input: 'lost, and no one to ask' });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/The server cannot be asked now; once it is back, check with: curl http:\/\/127\.0\.0\.1:\d+\/v1\/log\/lookup\/[0-9a-f]{64}/);
      expect(r.stderr).toContain("Re-running is safe if the log deduplicates (tilelog's default)");
    } finally {
      await proxy.close();
    }
  });

  it('a server that cannot be reached at all is not a lost connection: nothing was sent', async () => {
    const proxy = await proxyTo(srv.url);
    const url = proxy.url;
    await proxy.close();
    const r = await runCli(['add', '--url', url, '-'], { cwd, input: 'x' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot reach');
    expect(r.stderr).not.toContain('lost');
  });
});
