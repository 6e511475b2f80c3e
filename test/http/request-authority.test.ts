// A guard on the class of issue 11 item 6: nothing the server publishes or
// signs may come from the request's authority (Host, X-Forwarded-*,
// Forwarded, Origin, or the host part of the request URL), since a client
// chooses those. The server code is scanned for every way to read them;
// each use must be listed here with why it is safe. A new use fails this
// test until it is reviewed.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
/** Browser code (client SDK, log browser) runs in the reader's page, not the server. */
const BROWSER = ['client/', 'explorer/'];
const READS_AUTHORITY = /\breq\.url\b|\.raw\.url\b|\bheaders\.host\b|header\(\s*['"`](host|origin|forwarded|x-forwarded-[a-z-]+)['"`]|x-forwarded-|\bForwarded\b/i;

/** file -> why its use is safe. */
const REVIEWED: Record<string, string> = {
  'http/tiles.ts': 'reads the raw path after the authority (no percent-decoding); @hono/node-server refuses a Host that is not a bare host[:port]',
  'http/percent-escapes.ts': 'checks the escapes of the raw request target (path and query) and answers 400; nothing is published from it',
  'http/read-worker.ts': 'a read worker maps the raw path (after the authority) to a tile path, as tiles.ts does; nothing is published from the request',
  'http/tile-fast-path.ts': "reads the raw path and checks that Host is plain only to decide whether the cached answer applies (else the normal routes answer); neither goes into an answer",
  'http/proof-fast-path.ts': 'matches the raw path against the two proof routes (decimals only) and checks that Host is plain only to decide whether to answer here (else the app answers); the answer is built from the log alone',
  'http/forward.ts': "passes the raw request target and headers on unchanged to the log's process, whose app applies every check above; it overwrites the client's address header (forwarded-for.ts) with the socket's peer",
  'http/forwarded-for.ts': "the client's address for rate limits only, accepted solely on the log process's private socket that only read workers reach; never published",
  'cli/serve-workers.ts': 'imports acceptForwarded (forwarded-for.ts) for the private socket; reads nothing of the request itself',
  'registry/http/app.ts': 'imports clientAddressOf (forwarded-for.ts) to key its rate limits by client address; the _ans-badge URL comes from configuration, never the request',
};

function serverFiles(dir: string, rel = ''): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const r = `${rel}${e.name}${e.isDirectory() ? '/' : ''}`;
    if (e.isDirectory()) return BROWSER.includes(r) ? [] : serverFiles(path.join(dir, e.name), r);
    return e.name.endsWith('.ts') ? [r] : [];
  });
}

describe('the request authority is never a source of published data', () => {
  it('server code reads the request URL or Host/Forwarded/Origin headers only where reviewed', () => {
    const users = serverFiles(SRC).filter((f) => READS_AUTHORITY.test(fs.readFileSync(path.join(SRC, f), 'utf8').replace(/^\s*\/\/.*$/gm, '')));
    expect(users.sort()).toEqual(Object.keys(REVIEWED).sort());
  });

  it('the scan sees what it looks for (the registry used to read c.req.url for _ans-badge)', () => {
    for (const s of ["new URL(c.req.url).origin", "c.req.header('host')", "c.req.header('X-Forwarded-Host')", 'c.req.raw.url', "req.headers.host"]) {
      expect(s.match(READS_AUTHORITY), s).not.toBeNull();
    }
  });
});
