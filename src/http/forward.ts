// forwardTo: a read worker hands every request it does not answer itself to
// the log's process over a private unix socket, streaming both ways: the
// method, target (raw, so the app's own path checks see what the client
// sent), headers and body go up as they arrive; the status, headers and body
// come back as they are produced. A client that goes away aborts the
// upstream request (a POST /add?wait=checkpoint stops waiting), and an
// upstream that fails mid-answer cuts the client's connection instead of
// ending the answer as if it were whole.
//
// Hop-by-hop headers (RFC 9110 §7.6.1) stay on their own hop: each side's
// node:http sets its own Connection, Keep-Alive and framing. One exception:
// an upstream `Connection: close` (the app's 413, whose body was never read)
// closes the client's connection too.
//
// The client's address travels in FORWARDED_FOR_HEADER, always overwritten
// here, so a client cannot forge it; the log's process trusts that header
// only on its private socket (forwarded-for.ts).

import { Agent, request, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';

import { FORWARDED_FOR_HEADER } from './forwarded-for.js';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

export interface Forwarder {
  (req: IncomingMessage, res: ServerResponse): void;
  /** Closes the idle upstream connections (at shutdown). */
  close(): void;
}

/** The headers to send upstream: the client's minus hop-by-hop ones (and those its Connection names), plus its address. */
function upstreamHeaders(req: IncomingMessage): IncomingHttpHeaders {
  const named = new Set((req.headers.connection ?? '').split(',').map((s) => s.trim().toLowerCase()));
  const out: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (!HOP_BY_HOP.has(name) && !named.has(name)) out[name] = value;
  }
  out[FORWARDED_FOR_HEADER] = req.socket.remoteAddress ?? 'unknown';
  return out;
}

/** The answer's headers as the log's process sent them (names, order, repeats), minus hop-by-hop ones. */
function downstreamHeaders(up: IncomingMessage): string[] {
  const raw = up.rawHeaders;
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (!HOP_BY_HOP.has(raw[i]!.toLowerCase())) out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}

export function forwardTo(socketPath: string, onUnreachable: (res: ServerResponse, err: Error) => void): Forwarder {
  const agent = new Agent({ keepAlive: true });
  const forward = function forward(req: IncomingMessage, res: ServerResponse): void {
    // setHost false: a request without Host reaches the app without one, as it would have directly.
    const up = request({ socketPath, agent, method: req.method, path: req.url, headers: upstreamHeaders(req), setHost: false });
    let answered = false;
    up.on('response', (upRes) => {
      answered = true;
      const headers = downstreamHeaders(upRes);
      if (/\bclose\b/i.test(upRes.headers.connection ?? '')) headers.push('Connection', 'close');
      res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, headers);
      upRes.pipe(res);
      upRes.on('error', () => res.destroy());
      upRes.on('aborted', () => res.destroy());
    });
    up.on('error', (err) => {
      if (!answered && !res.headersSent) onUnreachable(res, err);
      else res.destroy();
    });
    // The client left before its answer was complete: abandon the upstream request. The log's private
    // listener reads the end of a worker's connection as an abort (serve-workers.ts: no half-close there).
    res.on('close', () => {
      if (!res.writableFinished) up.destroy();
    });
    req.pipe(up);
  };
  return Object.assign(forward, { close: () => agent.destroy() });
}
