// A TCP proxy between one client process and PostgreSQL that can black-hole
// it: blackhole() stops forwarding in both directions on every connection,
// open and new, without closing any (like a dropped network: no FIN, no RST;
// the client's OS still sees a live socket, so only the client's own
// deadlines can notice); heal() forwards again. Bytes sent meanwhile are held
// (paused sockets, as TCP would retransmit them) and delivered after heal(),
// unless an end closed its connection first.

import * as net from 'node:net';

export interface PgProxy {
  /** The proxy's port on 127.0.0.1. */
  readonly port: number;
  /** url with its port replaced by the proxy's. */
  via(url: string): string;
  blackhole(): void;
  heal(): void;
  readonly blackholed: boolean;
  /** Connections accepted so far. */
  readonly accepted: number;
  close(): Promise<void>;
}

export async function startPgProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<PgProxy> {
  let blackholed = false;
  let accepted = 0;
  const pairs = new Set<{ client: net.Socket; server: net.Socket | null; connect(): void }>();
  const pause = (s: net.Socket | null): void => void s?.pause();
  const resume = (s: net.Socket | null): void => void s?.resume();

  const proxy = net.createServer((client) => {
    accepted++;
    const pair = {
      client,
      server: null as net.Socket | null,
      // The upstream is opened only while healed: a connection attempt into
      // the black hole gets no answer at all, as when SYNs are dropped.
      connect(): void {
        if (pair.server !== null || client.destroyed) return;
        const server = net.connect(targetPort, targetHost);
        pair.server = server;
        client.pipe(server);
        server.pipe(client);
        server.on('error', () => client.destroy());
        server.on('close', () => client.destroy());
      },
    };
    pairs.add(pair);
    client.on('error', () => pair.server?.destroy());
    client.on('close', () => {
      pair.server?.destroy();
      pairs.delete(pair);
    });
    if (blackholed) client.pause();
    else pair.connect();
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const port = (proxy.address() as net.AddressInfo).port;

  return {
    port,
    via: (url) => {
      const u = new URL(url);
      u.port = String(port);
      u.hostname = '127.0.0.1';
      return u.toString();
    },
    blackhole() {
      blackholed = true;
      for (const p of pairs) {
        // Unpipe so a full buffer cannot resume the other side; paused sockets read nothing.
        p.client.unpipe();
        p.server?.unpipe();
        pause(p.client);
        pause(p.server);
      }
    },
    heal() {
      blackholed = false;
      for (const p of pairs) {
        if (p.server === null) {
          p.connect();
        } else {
          p.client.pipe(p.server);
          p.server.pipe(p.client);
        }
        resume(p.client);
        resume(p.server);
      }
    },
    get blackholed() {
      return blackholed;
    },
    get accepted() {
      return accepted;
    },
    async close() {
      for (const p of pairs) {
        p.client.destroy();
        p.server?.destroy();
      }
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    },
  };
}
