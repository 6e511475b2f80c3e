// Reading a request body with a hard cap, refusing oversized bodies before
// reading them whole:
//   1. a Content-Length above the cap (or not a canonical decimal) is refused
//      at once, without reading a byte of the body;
//   2. otherwise the stream is read chunk by chunk, and cancelled as soon as
//      the running total exceeds the cap (chunked uploads have no length).
// Memory is therefore bounded by maxBytes plus one chunk.

import { httpError } from './errors.js';

const DECIMAL = /^(0|[1-9][0-9]*)$/;

/** Reads req's body into one buffer of at most maxBytes bytes; HTTP_TOO_LARGE beyond. */
export async function readBodyCapped(req: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = req.headers.get('content-length');
  if (declared !== null) {
    if (!DECIMAL.test(declared)) throw httpError('HTTP_BAD_REQUEST', 'malformed Content-Length header');
    if (Number(declared) > maxBytes) throw tooLarge(maxBytes);
  }
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
