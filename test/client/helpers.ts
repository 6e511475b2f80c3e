// Test helpers for test/client: the shared golden vectors, and a static HTTP
// server over a tlog-tiles directory that counts requests, can hide paths
// (answering 404, as if a partial tile had been deleted) and can gzip.
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as zlib from 'node:zlib';
import { expect } from 'vitest';
import { isTilelogError } from '../../src/errors.js';
import { fromBase64Strict } from '../../src/merkle/index.js';

export const VECTORS = fileURLToPath(new URL('../golden/', import.meta.url));
export const TREE = path.join(VECTORS, 'tree');
export const vector = (p: string): string => fs.readFileSync(path.join(VECTORS, p), 'utf8');
export const LOG_VKEY = vector('log.vkey').trim();
export const LOG_SKEY = vector('log.skey').trim();
export const WITNESS_VKEY = vector('witness.vkey').trim();
export const WITNESS_SKEY = vector('witness.skey').trim();
export const COSIGNED_1000 = vector('cosigned-1000.checkpoint');
/** The witness's timestamp on cosigned-1000.checkpoint. */
export const COSIGNED_1000_TIME = 1795312610;
export const ORIGIN = 'vectors.tilelog.example/log';

let entries: Uint8Array[] | null = null;
/** The 70,000 golden entries. */
export function goldenEntries(): Uint8Array[] {
  entries ??= vector('entries.b64')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => fromBase64Strict(l));
  return entries;
}

export interface StaticServer {
  url: string;
  /** Paths requested (without the leading slash), in order. */
  requests: string[];
  /** Paths answered 404 even if the file exists. */
  hidden: Set<string>;
  /** Gzip every entry bundle (Content-Encoding: gzip, sent without negotiation). */
  gzipBundles: boolean;
  close(): Promise<void>;
}

export async function serveDir(root: string): Promise<StaticServer> {
  const s: Omit<StaticServer, 'url' | 'close'> = { requests: [], hidden: new Set(), gzipBundles: false };
  const server = http.createServer((req, res) => {
    const p = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\/+/, '');
    s.requests.push(p);
    const file = path.join(root, ...p.split('/'));
    if (s.hidden.has(p) || p.includes('..') || !file.startsWith(root) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      return;
    }
    let body: Buffer = fs.readFileSync(file);
    const headers: Record<string, string> = { 'Content-Type': 'application/octet-stream', 'Access-Control-Allow-Origin': '*' };
    if (s.gzipBundles && p.startsWith('tile/entries/')) {
      body = zlib.gzipSync(body);
      headers['Content-Encoding'] = 'gzip';
    }
    res.writeHead(200, headers).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(s, {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

/** Asserts fn (sync or async) throws a TilelogError with the given code, and returns it. */
export async function expectCode(fn: () => unknown, code: string): Promise<Error> {
  try {
    await fn();
  } catch (err) {
    expect(isTilelogError(err), String(err)).toBe(true);
    expect((err as { code: string }).code, String(err)).toBe(code);
    return err as Error;
  }
  throw new Error(`expected a TilelogError ${code}, but nothing was thrown`);
}
