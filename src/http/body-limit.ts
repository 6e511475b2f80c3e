// Reading a request body with a hard cap, refusing oversized bodies before
// reading them whole:
//   1. a Content-Length above the cap (or not a canonical decimal) is refused
//      at once, without reading a byte of the body;
//   2. otherwise the stream is read chunk by chunk, and cancelled as soon as
//      the running total exceeds the cap (chunked uploads have no length).
// Memory is therefore bounded by maxBytes plus one chunk.

import { httpError } from './errors.js';

const DECIMAL = /^(0|[1-9][0-9]*)$/;

/** The part of node's IncomingMessage used here (present under @hono/node-server). */
interface NodeIncoming {
  headers: Record<string, string | string[] | undefined>;
  on(event: 'data', fn: (chunk: Buffer) => void): unknown;
  on(event: 'end', fn: () => void): unknown;
  on(event: 'error', fn: (err: Error) => void): unknown;
  pause(): unknown;
}

/**
 * Reads the request body into one buffer of at most maxBytes bytes;
 * HTTP_TOO_LARGE beyond. Under @hono/node-server the node stream is read
 * directly (no web-stream adapter: this is the /add hot path).
 */
export function readBodyCapped(req: Request, maxBytes: number, incoming?: unknown): Promise<Uint8Array> {
  if (isNodeIncoming(incoming)) return readNodeBody(incoming, maxBytes);
  return readWebBody(req, maxBytes);
}

function isNodeIncoming(x: unknown): x is NodeIncoming {
  return typeof x === 'object' && x !== null && typeof (x as NodeIncoming).on === 'function' && 'headers' in x;
}

function checkDeclaredLength(declared: string | null | undefined, maxBytes: number): void {
  if (declared === null || declared === undefined) return;
  if (!DECIMAL.test(declared)) throw httpError('HTTP_BAD_REQUEST', 'malformed Content-Length header');
  if (Number(declared) > maxBytes) throw tooLarge(maxBytes);
}

function readNodeBody(incoming: NodeIncoming, maxBytes: number): Promise<Uint8Array> {
  const declared = incoming.headers['content-length'];
  checkDeclaredLength(Array.isArray(declared) ? declared.join(',') : declared, maxBytes);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let failed = false;
    incoming.on('data', (chunk) => {
      if (failed) return;
      total += chunk.byteLength;
      if (total > maxBytes) {
        failed = true;
        incoming.pause(); // read no further; the answer closes the connection
        reject(tooLarge(maxBytes));
        return;
      }
      chunks.push(chunk);
    });
    incoming.on('end', () => {
      if (failed) return;
      const buf = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
      resolve(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
    });
    // The client went away mid-body (node reports ECONNRESET 'aborted'): a
    // client problem, not a server one, so it must not be logged as internal.
    incoming.on('error', () => {
      if (!failed) reject(httpError('HTTP_BAD_REQUEST', 'the client closed the connection before sending the whole body'));
      failed = true;
    });
  });
}

async function readWebBody(req: Request, maxBytes: number): Promise<Uint8Array> {
  checkDeclaredLength(req.headers.get('content-length'), maxBytes);
  const stream = req.body;
  if (stream === null) return new Uint8Array(0);
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

function tooLarge(maxBytes: number) {
  return httpError('HTTP_TOO_LARGE', `request body is larger than ${maxBytes} bytes`);
}
