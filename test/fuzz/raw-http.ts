// A raw-socket HTTP/1.1 exchange for the fuzzer: we write exactly the bytes we
// want (bad framing included) and read what the server sends back, split into
// responses. The exchange ends when the server closes the connection, when
// every expected response has arrived complete, or after a bound (a hang).
import * as net from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export interface Exchange {
  responses: RawResponse[];
  /** The server closed (or reset) the connection. */
  closed: boolean;
  /** Neither a complete answer nor a close within the bound. */
  hung: boolean;
  /** Bytes after the last complete response (a response cut short). */
  rest: Buffer;
}

export interface ExchangeOptions {
  /** Bytes to send, or chunks sent one after another. */
  send: Buffer | Buffer[];
  /** Stop once this many complete responses arrived (default 1). */
  expect?: number;
  /** Half-close our side after sending (the server sees EOF). */
  halfClose?: boolean;
  /** HEAD request: the responses carry no body. */
  head?: boolean;
  /** The bound; generous, not a performance figure (default 10 s). */
  boundMs?: number;
}

/** Splits buf into complete responses; returns them and the unconsumed rest. */
export function parseResponses(buf: Buffer, head: boolean): { responses: RawResponse[]; rest: Buffer } {
  const responses: RawResponse[] = [];
  let at = 0;
  for (;;) {
    const end = buf.indexOf('\r\n\r\n', at);
    if (end < 0) break;
    const lines = buf.subarray(at, end).toString('latin1').split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
    if (m === null) throw new Error(`not an HTTP response: ${JSON.stringify(lines[0])}`);
    const headers: Record<string, string> = {};
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
    }
    const status = Number(m[1]);
    let bodyStart = end + 4;
    let body: Buffer;
    if (status >= 100 && status < 200) {
      // Interim (100 Continue): not an answer; the final one follows.
      at = end + 4;
      continue;
    } else if (head || status === 204 || status === 304) {
      body = Buffer.alloc(0);
    } else if (headers['transfer-encoding']?.toLowerCase() === 'chunked') {
      const chunks: Buffer[] = [];
      let p = bodyStart;
      let done = false;
      for (;;) {
        const nl = buf.indexOf('\r\n', p);
        if (nl < 0) break;
        const size = parseInt(buf.subarray(p, nl).toString('latin1'), 16);
        if (Number.isNaN(size)) throw new Error('bad chunk size from the server');
        if (size === 0) {
          const fin = buf.indexOf('\r\n\r\n', nl);
          if (fin < 0) break;
          p = fin + 4;
          done = true;
          break;
        }
        if (buf.length < nl + 2 + size + 2) break;
        chunks.push(buf.subarray(nl + 2, nl + 2 + size));
        p = nl + 2 + size + 2;
      }
      if (!done) break;
      body = Buffer.concat(chunks);
      bodyStart = p;
      responses.push({ status, headers, body });
      at = bodyStart;
      continue;
    } else if (headers['content-length'] !== undefined) {
      const n = Number(headers['content-length']);
      if (buf.length < bodyStart + n) break;
      body = buf.subarray(bodyStart, bodyStart + n);
      bodyStart += n;
    } else {
      // Delimited by close: complete only once the server closed (the caller decides).
      body = buf.subarray(bodyStart);
      bodyStart = buf.length;
    }
    responses.push({ status, headers, body });
    at = bodyStart;
  }
  return { responses, rest: buf.subarray(at) };
}

export function exchange(port: number, o: ExchangeOptions): Promise<Exchange> {
  const expectCount = o.expect ?? 1;
  const boundMs = o.boundMs ?? 10_000;
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const received: Buffer[] = [];
    let settled = false;
    const finish = (closed: boolean, hung: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const { responses, rest } = parseResponses(Buffer.concat(received), o.head === true);
      resolve({ responses, closed, hung, rest });
    };
    const timer = setTimeout(() => finish(false, true), boundMs);
    socket.on('data', (d: Buffer) => {
      received.push(d);
      const { responses } = parseResponses(Buffer.concat(received), o.head === true);
      if (responses.length >= expectCount && responses.every((r) => r.headers['content-length'] !== undefined || r.headers['transfer-encoding'] !== undefined || o.head === true)) {
        finish(false, false);
      }
    });
    socket.on('error', () => finish(true, false)); // ECONNRESET and the like: the server dropped us
    socket.on('close', () => finish(true, false));
    socket.on('connect', () => {
      const parts = Array.isArray(o.send) ? o.send : [o.send];
      for (const p of parts) socket.write(p);
      if (o.halfClose === true) socket.end();
    });
  });
}
