// startServer: binds an app on host:port (or a unix socket) with
// @hono/node-server and returns the bound address and a close function that
// stops accepting, lets in-flight requests finish for a grace period, then
// drops what is left. startListener does the same for a plain node:http
// request listener (a read worker's, which answers some requests itself).

import type { AddressInfo } from 'node:net';
import { createServer, type RequestListener, type Server } from 'node:http';
import { getRequestListener, type serve } from '@hono/node-server';
import { keepAnsweringInFlight } from './answer-in-flight.js';

export interface StartServerOptions {
  /** Interface to bind (default 127.0.0.1). */
  host?: string;
  /** Port (default 8080; 0 picks a free one). */
  port?: number;
  /** Listen on this unix socket path instead of host:port (the url is then http://unix:<path>). */
  socketPath?: string;
  /** How long close() waits for in-flight requests before cutting them (default 5000). */
  closeGraceMs?: number;
  /** Upper bound on receiving one whole request, against slow clients (default 30000). */
  requestTimeoutMs?: number;
  /**
   * Answer requests in flight after the peer half-closes (default true:
   * answer-in-flight.ts). False where the peer is our own forwarder, whose
   * closing means it abandoned the request: Node then aborts it.
   */
  answerAfterHalfClose?: boolean;
}

export interface RunningServer {
  /** e.g. http://127.0.0.1:8080 (IPv6 hosts in brackets). */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Anything with a fetch handler: a Hono or OpenAPIHono app. */
export interface FetchApp {
  fetch: Parameters<typeof serve>[0]['fetch'];
}

/** How often Node checks connections against headersTimeout and requestTimeout. */
export const CONNECTION_SWEEP_MS = 2_000;

export async function startServer(app: FetchApp, options: StartServerOptions = {}): Promise<RunningServer> {
  // The hostname stands in for a missing Host header, as @hono/node-server's serve() does.
  return startListener(getRequestListener(app.fetch, { hostname: options.host ?? '127.0.0.1' }), options);
}

export async function startListener(listener: RequestListener, options: StartServerOptions = {}): Promise<RunningServer> {
  const { host = '127.0.0.1', port = 8080, closeGraceMs = 5_000, requestTimeoutMs = 30_000 } = options;
  // Node enforces headersTimeout/requestTimeout only when it sweeps its
  // connections (every 30 s by default), so a slowloris client could hold a
  // socket ~30 s past the limit; sweep every 2 s instead.
  const server = createServer({ connectionsCheckingInterval: CONNECTION_SWEEP_MS }, listener);
  server.requestTimeout = requestTimeoutMs;
  server.headersTimeout = Math.min(requestTimeoutMs, 10_000);
  // A request acted on (an entry added) is answered even after a half-close or pipelined garbage.
  if (options.answerAfterHalfClose !== false) keepAnsweringInFlight(server);
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.once('listening', () => {
      server.off('error', onError);
      resolve();
    });
    if (options.socketPath !== undefined) server.listen(options.socketPath);
    else server.listen(port, host);
  });
  if (options.socketPath !== undefined) return running(server, `http://unix:${options.socketPath}`, options.socketPath, 0, closeGraceMs);
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return running(server, `http://${shownHost}:${address.port}`, address.address, address.port, closeGraceMs);
}

function running(server: Server, url: string, host: string, port: number, closeGraceMs: number): RunningServer {
  let closing: Promise<void> | undefined;
  return {
    url,
    host,
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.closeIdleConnections();
        const timer = setTimeout(() => server.closeAllConnections(), closeGraceMs);
        timer.unref();
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      return closing;
    },
  };
}
