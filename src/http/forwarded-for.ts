// The client's address behind a read worker (serve --read-workers): the
// worker sends it in FORWARDED_FOR_HEADER (overwriting any the client sent,
// forward.ts); the log's process accepts the header only on its private
// socket, which only the workers can reach, and takes it off the request
// before the app sees it.

import type { IncomingMessage, ServerResponse } from 'node:http';

export const FORWARDED_FOR_HEADER = 'x-tilelog-forwarded-for';

/** The client's address as forwarded by a read worker (set on requests the log's private socket received). */
const forwarded = new WeakMap<IncomingMessage, string>();

/** The address of the client behind a request (a read worker's client when forwarded, else the socket's peer). */
export function clientAddressOf(incoming: IncomingMessage | undefined): string {
  if (incoming === undefined) return 'unknown';
  return forwarded.get(incoming) ?? incoming.socket?.remoteAddress ?? 'unknown';
}

/**
 * Wraps the log process's private listener: takes FORWARDED_FOR_HEADER off
 * each request (only read workers can connect there) and records it for
 * clientAddressOf.
 */
export function acceptForwarded(listener: (req: IncomingMessage, res: ServerResponse) => void): (req: IncomingMessage, res: ServerResponse) => void {
  return function acceptForwarded(req, res) {
    const from = req.headers[FORWARDED_FOR_HEADER];
    if (typeof from === 'string') forwarded.set(req, from);
    delete req.headers[FORWARDED_FOR_HEADER];
    // The app builds its Request from rawHeaders.
    const raw = req.rawHeaders;
    for (let i = raw.length - 2; i >= 0; i -= 2) if (raw[i]!.toLowerCase() === FORWARDED_FOR_HEADER) raw.splice(i, 2);
    listener(req, res);
  };
}
