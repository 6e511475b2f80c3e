// Every request the server acted on gets its answer while the connection
// can still carry it. Node's http.Server, left to its defaults, drops two
// such answers (node lib/_http_server.js):
//
//   - half-close: a client that sends a complete POST /add and then shuts
//     down its write side (FIN) has its socket ended at once
//     (httpAllowHalfOpen false: abortIncoming + socket.end()), so the add
//     completes and its 200 is written to a closed socket;
//   - parse error after a complete request (pipelined garbage): the default
//     'clientError' handler writes a 400 and destroys the socket while the
//     first request's answer is still being computed.
//
// keepAnsweringInFlight sets httpAllowHalfOpen (Node then ends the socket
// after the last answer instead of before it) and handles 'clientError' by
// letting every complete in-flight request finish first, then sending the
// 400 (408/431) that Node would have sent and closing. A request whose body
// was not fully received (req.complete false) was never handed a whole body,
// so it cannot have been acted on: the socket is destroyed at once, as
// before, which aborts that request. (Node destroys the socket with such a
// request, so a complete request pipelined before it loses its answer too:
// a limit of node:http, not worked around here.)

import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** How long the answers before a parse error may take to flush to a peer that does not read. */
const FLUSH_GRACE_MS = 10_000;

/** Requests parsed on a socket whose responses have not closed yet. */
type InFlight = Map<IncomingMessage, ServerResponse>;

/** The status Node's default clientError handler answers for a parse error. */
function statusLine(err: NodeJS.ErrnoException): string {
  if (err.code === 'HPE_HEADER_OVERFLOW') return '431 Request Header Fields Too Large';
  if (err.code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW') return '413 Payload Too Large';
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return '408 Request Timeout';
  return '400 Bad Request';
}

export function keepAnsweringInFlight(server: Server): void {
  // A field of http.Server read by socketOnEnd (lib/_http_server.js), absent from @types/node.
  (server as Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  const inFlight = new WeakMap<Socket, InFlight>();
  /** Sockets whose parser failed, with the error to answer once nothing is in flight. */
  const failed = new WeakMap<Socket, NodeJS.ErrnoException>();

  server.on('request', function trackInFlight(req: IncomingMessage, res: ServerResponse) {
    const socket = req.socket;
    let set = inFlight.get(socket);
    if (set === undefined) inFlight.set(socket, (set = new Map()));
    set.set(req, res);
    res.once('close', () => {
      set.delete(req);
      const err = failed.get(socket);
      if (set.size === 0 && err !== undefined) answerParseError(socket, err);
    });
  });

  server.on('clientError', function answerAfterInFlight(err: NodeJS.ErrnoException, socket: Socket) {
    // llhttp stays in its error state: later bytes report the same error again.
    if (failed.has(socket)) return;
    failed.set(socket, err);
    const pending = inFlight.get(socket);
    if (!socket.writable || err.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    if (pending !== undefined && [...pending.keys()].some((r) => !r.complete)) {
      // As Node's default: the error status unless an answer has begun, then destroy.
      if (![...pending.values()].some((r) => r.headersSent)) socket.write(`HTTP/1.1 ${statusLine(err)}\r\nConnection: close\r\n\r\n`);
      socket.destroy();
      return;
    }
    if (pending === undefined || pending.size === 0) answerParseError(socket, err);
    // else: the last in-flight response's 'close' answers the error.
  });
}

/** Writes the error status Node would have written, then closes (what the default handler does, later). */
function answerParseError(socket: Socket, err: NodeJS.ErrnoException): void {
  if (socket.destroyed) return;
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(`HTTP/1.1 ${statusLine(err)}\r\nConnection: close\r\n\r\n`);
  // end() flushes the answers; then destroy, also if a peer that never reads keeps them from flushing.
  socket.once('finish', () => socket.destroy());
  setTimeout(() => socket.destroy(), FLUSH_GRACE_MS).unref();
}
