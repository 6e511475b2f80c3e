// Test witnesses for the log's cosigner: a real src/witness Witness (SQLite in
// a temp dir) behind a node:http server on 127.0.0.1, with a switch that makes
// it misbehave: down (connection refused), slow, garbage, wrong key, 500, or a
// 409 naming a size larger than the log's tree.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { generateCosignerKey, parseCosignerKey, parseNote, type CosignatureVerifier } from '../../src/note/index.js';
import { parseCosignatureVerifierKey } from '../../src/note/cosignature.js';
import { addCheckpointErrorResponse, SqliteWitnessStore, Witness } from '../../src/witness/index.js';

export type Mode = 'ok' | 'slow' | 'garbage' | 'wrong-key' | '500' | 'big409';

export class TestWitness {
  readonly name: string;
  readonly vkey: string;
  readonly verifier: CosignatureVerifier;
  mode: Mode = 'ok';
  slowMs = 2000;
  /** Requests the slow mode has finished waiting on (and then answered). */
  slowAnswered = 0;
  requests = 0;
  port = 0;
  readonly #store: SqliteWitnessStore;
  readonly #witness: Witness;
  readonly #impostor: Witness;
  #server: http.Server | null = null;

  constructor(n: number, dir: string, origin: string, logVkey: string) {
    this.name = `w${n}.test`;
    const pair = generateCosignerKey(this.name, new Uint8Array(32).fill(40 + n));
    this.vkey = pair.verifierKey;
    this.verifier = parseCosignatureVerifierKey(pair.verifierKey);
    this.#store = new SqliteWitnessStore(path.join(dir, `witness${n}.db`));
    this.#store.addLog(origin, logVkey);
    this.#witness = new Witness({ store: this.#store, signer: parseCosignerKey(pair.signerKey) });
    // Same name, another key: its lines must be dropped by the log.
    const other = generateCosignerKey(this.name, new Uint8Array(32).fill(90 + n));
    const otherStore = new SqliteWitnessStore(path.join(dir, `impostor${n}.db`));
    otherStore.addLog(origin, logVkey);
    this.#impostor = new Witness({ store: otherStore, signer: parseCosignerKey(other.signerKey) });
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The size this witness last cosigned for origin, or null. */
  size(origin: string): number | null {
    return this.#store.latest(origin)?.size ?? null;
  }

  async start(): Promise<void> {
    const server = http.createServer((req, res) => void this.#handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  /** Down: the port refuses connections until start() again. */
  async stop(): Promise<void> {
    const s = this.#server;
    this.#server = null;
    if (s === null) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  async #handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = new Uint8Array(Buffer.concat(chunks));
    this.requests++;
    const reply = (status: number, text: string, type = 'text/plain; charset=utf-8') => {
      if (res.destroyed) return;
      res.writeHead(status, { 'Content-Type': type });
      res.end(text);
    };
    switch (this.mode) {
      case 'garbage':
        return reply(200, 'this is not a cosignature\n');
      case '500':
        return reply(500, 'internal server error\n');
      case 'big409':
        return reply(409, '1000000\n', 'text/x.tlog.size');
      case 'slow':
        await new Promise((r) => setTimeout(r, this.slowMs));
        this.slowAnswered++;
        break;
      default:
        break;
    }
    const w = this.mode === 'wrong-key' ? this.#impostor : this.#witness;
    try {
      reply(200, w.addCheckpoint(body));
    } catch (err) {
      const r = addCheckpointErrorResponse(err, () => undefined);
      reply(r.status, await r.text(), r.headers.get('content-type') ?? 'text/plain');
    }
  }

  close(): void {
    this.#store.close();
  }
}

/** The cosignature timestamps on a checkpoint note, by witness key name (valid or not: tests check validity separately). */
export function cosignatureTimestamps(note: string, witnesses: readonly TestWitness[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const sig of parseNote(note).signatures) {
    const w = witnesses.find((x) => x.verifier.name === sig.name && x.verifier.keyId === sig.keyId);
    if (w !== undefined) out.set(w.name, w.verifier.timestamp(sig.signature));
  }
  return out;
}

/** Polls cond every 20 ms until it holds or timeoutMs passes. */
export async function eventually(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
