// Test helpers for test/monitor: logs built in process with the engine
// (big add batches), a static HTTP server over a tiles directory that counts
// requests and can answer with other bytes, a webhook receiver, witness keys
// and cosigning, and the CLI as a child process.
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { openFileLog } from '../../src/log/index.js';
import { generateCosignerKey, generateSignerKey, parseCosignerKey, parseNote, parseSignerKey, signNote } from '../../src/note/index.js';

export const ORIGIN = 'monitor.test.tilelog.example/log';
export const LOG_KEY = generateSignerKey(ORIGIN, new Uint8Array(32).fill(41));
export const LOG_VKEY = LOG_KEY.verifierKey;
/** Same name, another key: signs checkpoints the monitor must refuse. */
export const IMPOSTOR_KEY = generateSignerKey(ORIGIN, new Uint8Array(32).fill(42));
export const WITNESSES = [1, 2].map((i) => generateCosignerKey(`witness${i}.test.tilelog.example`, new Uint8Array(32).fill(50 + i)));

export const quietLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

export function tempDir(prefix = 'tilelog-monitor-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export const entry = (i: number, tag = 'a'): Uint8Array => new TextEncoder().encode(`entry ${tag} ${i}`);

export interface BuiltLog {
  tilesDir: string;
  /** The signed checkpoint note at each requested size. */
  checkpoints: Map<number, string>;
}

/**
 * Builds a log in dir (tiles in dir/tiles) by adding entries in batches, and
 * keeps the published checkpoint at each size in `sizes` (increasing; the
 * last is the final size). Entries are entry(i, tagOf(i)), tag by default.
 */
export async function buildLog(dir: string, sizes: number[], tag = 'a', tagOf: (i: number) => string = () => tag): Promise<BuiltLog> {
  const tilesDir = path.join(dir, 'tiles');
  const log = await openFileLog({
    origin: ORIGIN,
    signer: parseSignerKey(LOG_KEY.signerKey),
    stateDir: path.join(dir, 'state'),
    tilesDir,
    logger: quietLogger,
    dedup: false,
  });
  const checkpoints = new Map<number, string>();
  try {
    let n = 0;
    for (const size of sizes) {
      while (n < size) {
        const batch: Promise<unknown>[] = [];
        const end = Math.min(size, n + 16384);
        for (; n < end; n++) batch.push(log.add(entry(n, tagOf(n))));
        await Promise.all(batch);
      }
      await log.waitForCheckpoint(size - 1);
      checkpoints.set(size, fs.readFileSync(path.join(tilesDir, 'checkpoint'), 'utf8'));
    }
  } finally {
    await log.close();
  }
  return { tilesDir, checkpoints };
}

/** Adds witness cosignatures (at `time`) to a signed checkpoint note. */
export function cosign(note: string, witnessSkeys: string[], time = Math.floor(Date.now() / 1000)): string {
  const parsed = parseNote(note);
  const signers = witnessSkeys.map((k) => parseCosignerKey(k, { now: () => time }));
  return signNote(parsed.text, signers, parsed.signatures);
}

/** The same checkpoint text signed by another key with the log's name. */
export function forge(note: string): string {
  return signNote(parseNote(note).text, [parseSignerKey(IMPOSTOR_KEY.signerKey)]);
}

export interface StaticServer {
  url: string;
  /** Paths requested, without the leading slash. */
  requests: string[];
  /** Paths answered with these bytes instead of the file (null: 404). */
  override: Map<string, Uint8Array | string | null>;
  /**
   * Holds every bundle request after the first n until release() (for
   * stopping a monitor mid-audit without timing); reached resolves when the
   * first held request arrives.
   */
  holdBundlesAfter(n: number): { reached: Promise<void>; release(): void };
  close(): Promise<void>;
}

/** Serves root over HTTP on 127.0.0.1. */
export async function serveDir(root: string): Promise<StaticServer> {
  const s = { requests: [] as string[], override: new Map<string, Uint8Array | string | null>() };
  let hold: { after: number; seen: number; held: (() => void)[]; reached: () => void; released: boolean } | null = null;
  const server = http.createServer((req, res) => {
    const p = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\/+/, '');
    if (hold !== null && !hold.released && p.startsWith('tile/entries/') && ++hold.seen > hold.after) {
      hold.held.push(() => answer(p, res));
      hold.reached();
      return;
    }
    answer(p, res);
  });
  const answer = (p: string, res: http.ServerResponse) => {
    s.requests.push(p);
    if (s.override.has(p)) {
      const o = s.override.get(p);
      if (o === null || o === undefined) res.writeHead(404).end();
      else res.writeHead(200, { 'Content-Type': 'application/octet-stream' }).end(o);
      return;
    }
    const file = path.join(root, ...p.split('/'));
    if (p.includes('..') || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/octet-stream' }).end(fs.readFileSync(file));
  };
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(s, {
    url: `http://127.0.0.1:${port}`,
    holdBundlesAfter(n: number) {
      let reached!: () => void;
      const p = new Promise<void>((resolve) => (reached = resolve));
      const h = { after: n, seen: 0, held: [] as (() => void)[], reached, released: false };
      hold = h;
      return {
        reached: p,
        release() {
          h.released = true;
          for (const f of h.held.splice(0)) f();
        },
      };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

export interface WebhookServer {
  url: string;
  bodies: Record<string, unknown>[];
  close(): Promise<void>;
}

/** Collects JSON POST bodies. */
export async function webhookServer(): Promise<WebhookServer> {
  const bodies: Record<string, unknown>[] = [];
  const server = http.createServer((req, res) => {
    let data = '';
    req.setEncoding('utf8').on('data', (d: string) => (data += d));
    req.on('end', () => {
      bodies.push(JSON.parse(data) as Record<string, unknown>);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    bodies,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Copies a directory tree (a built log's tiles) so a test can tamper with it. */
export function copyDir(from: string, to: string): string {
  fs.cpSync(from, to, { recursive: true });
  return to;
}

/** The evidence directories under a state dir. */
export function evidenceDirs(stateDir: string): string[] {
  const root = path.join(stateDir, 'evidence');
  return fs.existsSync(root) ? fs.readdirSync(root).sort().map((d) => path.join(root, d)) : [];
}
