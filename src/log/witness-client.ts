// WitnessClient: the log's side of c2sp.org/tlog-witness add-checkpoint with
// one witness (PROTOCOLS.md 6.1 "Log behaviour"). It remembers the size the
// witness last cosigned (persist() writes it to the TreeStateStore, so it survives
// restarts), sends
//
//   old <that size> LF  <consistency proof old -> size, one b64 hash per line>  LF  <log-signed note>
//
// and sorts every answer into one outcome, counted per witness:
//   200  cosignature lines, each verified against the note with this witness's
//        key before it is kept (none valid: a bad response);
//   409  text/x.tlog.size s: s <= our size, retry once from s; s > our size is
//        an incident (the witness saw a bigger tree) and is not retried;
//   403, 404  misconfiguration (the witness does not know our key or origin);
//   400, 422  refused: our request is malformed, or the witness sees a fork;
//   other statuses, garbage, a timeout or a refused connection.
// Nothing here throws: a witness can only fail to cosign, never stop the log.
// Requests go through node's fetch (undici), which keeps connections alive.

import { toBase64, type Hash } from '../merkle/index.js';
import { parseCosignatureVerifierKey, type CosignatureVerifier } from '../note/cosignature.js';
import { parseNote } from '../note/note.js';
import type { PolicyWitness } from '../note/policy.js';
import type { TreeStateStore } from '../storage/log-store.js';
import type { LogLogger } from './options.js';

/** Largest answer we read from a witness: cosignature lines are ~150 bytes each (ML-DSA ~3.3 KB). */
const MAX_RESPONSE_BYTES = 64 * 1024;
const SIZE_CONTENT_TYPE = 'text/x.tlog.size';

/** The checkpoint to cosign: the log-signed note and its tree. */
export interface SignedTree {
  readonly size: number;
  readonly text: string;
}

export interface WitnessCounters {
  /** add-checkpoint requests sent. */
  requests: number;
  /** Requests answered with at least one valid cosignature. */
  cosigned: number;
  /** 409s with a size <= ours (retried from that size). */
  conflicts: number;
  /** 409s with a size > ours: the witness saw a bigger tree. Never retried blindly. */
  incidents: number;
  /** 403 and 404: the witness does not trust our key or know our origin. */
  misconfigured: number;
  /** 400 and 422: a request the witness calls malformed, or a fork / bad proof. */
  refused: number;
  /** 200s without a valid cosignature (wrong key, garbage), bad 409 bodies. */
  badResponses: number;
  /** 5xx and other unexpected statuses. */
  serverErrors: number;
  /** No complete answer within the timeout. */
  timeouts: number;
  /** Connection refused, reset, DNS failure. */
  unreachable: number;
}

export interface WitnessStatus {
  name: string;
  url: string;
  verifierKey: string;
  /** The size we believe the witness last cosigned for us, or null if unknown. */
  size: number | null;
  counters: WitnessCounters;
  lastError: string | null;
  /** Milliseconds since the epoch of the last valid cosignature, or null. */
  lastCosignedAt: number | null;
}

export interface WitnessClientConfig {
  witness: PolicyWitness & { url: string };
  store: TreeStateStore;
  /** The size the store remembers this witness last cosigned (read before the log starts), or null. */
  storedSize: number | null;
  logger: LogLogger;
  /** Consistency proof from oldSize to newSize over the log's signed (not only published) tiles. */
  proof(oldSize: number, newSize: number): Promise<Hash[]>;
}

type Answer =
  | { kind: 'cosigned'; lines: string[] }
  | { kind: 'conflict'; size: number }
  | { kind: 'failed' };

export class WitnessClient {
  readonly name: string;
  readonly url: string;
  readonly verifier: CosignatureVerifier;
  readonly #vkey: string;
  readonly #cfg: WitnessClientConfig;
  #size: number | null;
  #stored: number | null;
  #lastError: string | null = null;
  #lastCosignedAt: number | null = null;
  readonly counters: WitnessCounters = {
    requests: 0,
    cosigned: 0,
    conflicts: 0,
    incidents: 0,
    misconfigured: 0,
    refused: 0,
    badResponses: 0,
    serverErrors: 0,
    timeouts: 0,
    unreachable: 0,
  };

  constructor(cfg: WitnessClientConfig) {
    this.#cfg = cfg;
    this.name = cfg.witness.name;
    this.url = cfg.witness.url.replace(/\/+$/, '');
    this.#vkey = cfg.witness.vkey;
    this.verifier = parseCosignatureVerifierKey(cfg.witness.vkey);
    this.#size = cfg.storedSize;
    this.#stored = this.#size;
  }

  // persist(): write the remembered size to the store if it changed. The
  // cosigner calls it after publishing, off the path that wakes waiters: the
  // size is only a hint (losing it in a crash costs one 409 round trip).
  async persist(): Promise<void> {
    if (this.#size === null || this.#size === this.#stored) return;
    const size = this.#size;
    try {
      await this.#cfg.store.setWitnessSize(this.#vkey, size);
      this.#stored = size;
    } catch (err) {
      this.#cfg.logger.warn(`witness ${this.name}: cannot store its size ${size}`, err);
    }
  }

  status(): WitnessStatus {
    return {
      name: this.name,
      url: this.url,
      verifierKey: this.#vkey,
      size: this.#size,
      counters: { ...this.counters },
      lastError: this.#lastError,
      lastCosignedAt: this.#lastCosignedAt,
    };
  }

  // cosign(tree, signal): the verified cosignature lines (each ending in LF)
  // for tree, or null. At most two requests (one 409 retry), all under signal.
  async cosign(tree: SignedTree, signal: AbortSignal): Promise<string[] | null> {
    let answer = await this.#exchange(tree, signal);
    if (answer.kind === 'conflict') {
      this.counters.conflicts++;
      this.#remember(answer.size);
      answer = await this.#exchange(tree, signal);
      if (answer.kind === 'conflict') {
        // The witness moved again between our two requests: try next round.
        this.#fail(`409 again (size ${answer.size}) after retrying from the size it reported`);
        if (answer.size <= tree.size) this.#remember(answer.size);
        return null;
      }
    }
    if (answer.kind !== 'cosigned') return null;
    this.counters.cosigned++;
    this.#lastCosignedAt = Date.now();
    this.#lastError = null;
    this.#remember(tree.size);
    return answer.lines;
  }

  // #exchange: one request, one classified answer (counted here).
  async #exchange(tree: SignedTree, signal: AbortSignal): Promise<Answer> {
    const old = this.#size ?? 0;
    if (old > tree.size) {
      // Only a 409 could have told us this, and we never remember those sizes.
      this.#fail(`remembered size ${old} is beyond our tree (${tree.size}); not sending`);
      return { kind: 'failed' };
    }
    let body: string;
    try {
      const proof = old === 0 || old === tree.size ? [] : await this.#cfg.proof(old, tree.size);
      body = `old ${old}\n${proof.map((h) => `${toBase64(h)}\n`).join('')}\n${tree.text}`;
    } catch (err) {
      this.#fail(`cannot build the consistency proof ${old} -> ${tree.size}: ${(err as Error).message}`);
      return { kind: 'failed' };
    }
    this.counters.requests++;
    let res: Response;
    let text: string;
    try {
      res = await fetch(`${this.url}/add-checkpoint`, {
        method: 'POST',
        body,
        headers: { 'Content-Type': 'text/plain; charset=utf-8' },
        signal,
      });
      text = await readCapped(res, MAX_RESPONSE_BYTES);
    } catch (err) {
      if (err instanceof TooLargeError) {
        this.counters.badResponses++;
        this.#fail(err.message);
        return { kind: 'failed' };
      }
      return this.#networkFailure(err, signal);
    }
    return this.#classify(tree, old, res, text);
  }

  #classify(tree: SignedTree, old: number, res: Response, text: string): Answer {
    const first = text.split('\n', 1)[0]!.slice(0, 200);
    switch (res.status) {
      case 200: {
        const lines = verifiedLines(tree.text, text, this.verifier);
        if (lines.length === 0) {
          this.counters.badResponses++;
          this.#fail(`200 without a valid cosignature by ${this.verifier.name}: ${JSON.stringify(first)}`);
          return { kind: 'failed' };
        }
        return { kind: 'cosigned', lines };
      }
      case 409: {
        const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
        const m = /^(0|[1-9][0-9]{0,15})\n?$/.exec(text);
        const size = m === null ? NaN : Number(m[1]);
        if (type !== SIZE_CONTENT_TYPE || !Number.isSafeInteger(size)) {
          this.counters.badResponses++;
          this.#fail(`409 without a ${SIZE_CONTENT_TYPE} size: ${JSON.stringify(first)}`);
          return { kind: 'failed' };
        }
        if (size > tree.size) {
          this.counters.incidents++;
          this.#fail(
            `INCIDENT: witness ${this.name} reports it cosigned size ${size} of this log, larger than our tree (${tree.size}); ` +
              'someone may be presenting another tree under our key, or our state database was rolled back. Not retrying.',
            'error',
          );
          return { kind: 'failed' };
        }
        if (size === old) {
          // It claims the size we sent: nothing to retry from.
          this.counters.badResponses++;
          this.#fail(`409 naming the size we sent (${old})`);
          return { kind: 'failed' };
        }
        return { kind: 'conflict', size };
      }
      case 403:
      case 404:
        this.counters.misconfigured++;
        this.#fail(`${res.status}: the witness does not accept this log (add our origin and key there): ${first}`);
        return { kind: 'failed' };
      case 400:
      case 422:
        this.counters.refused++;
        this.#fail(
          `${res.status} refused old ${old} -> size ${tree.size}${res.status === 422 ? ' (a fork or a bad proof: investigate)' : ''}: ${first}`,
          'error',
        );
        return { kind: 'failed' };
      default:
        this.counters.serverErrors++;
        this.#fail(`HTTP ${res.status}: ${first}`);
        return { kind: 'failed' };
    }
  }

  #networkFailure(err: unknown, signal: AbortSignal): Answer {
    if (signal.aborted) {
      this.counters.timeouts++;
      this.#fail('no answer within the timeout');
    } else {
      this.counters.unreachable++;
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      this.#fail(`unreachable: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
    }
    return { kind: 'failed' };
  }

  #remember(size: number): void {
    this.#size = size;
  }

  #fail(message: string, level: 'warn' | 'error' = 'warn'): void {
    this.#lastError = message;
    this.#cfg.logger[level](`witness ${this.name} (${this.url}): ${message}`);
  }
}

/**
 * The lines of a witness answer that are valid cosignatures of `noteText` by
 * `verifier` (a nonzero timestamp, the right key name and ID, and a signature
 * that verifies), each ending in LF. Anything else in the answer is dropped.
 */
export function verifiedLines(noteText: string, answer: string, verifier: CosignatureVerifier): string[] {
  if (answer.length === 0 || !answer.endsWith('\n')) return [];
  let parsed;
  try {
    // Appending the lines to the note makes them its last signatures.
    parsed = parseNote(noteText + answer);
  } catch {
    return [];
  }
  const textBytes = new TextEncoder().encode(parsed.text);
  const count = answer.slice(0, -1).split('\n').length;
  const out: string[] = [];
  for (const sig of parsed.signatures.slice(-count)) {
    if (sig.name !== verifier.name || sig.keyId !== verifier.keyId) continue;
    if (!verifier.verify(textBytes, sig.signature)) continue;
    if (verifier.timestamp(sig.signature) === 0) continue;
    if (out.some((l) => l === `${sig.line}\n`)) continue;
    out.push(`${sig.line}\n`);
  }
  return out;
}

class TooLargeError extends Error {}

// readCapped: the body as text; TooLargeError beyond max bytes.
async function readCapped(res: Response, max: number): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > max) {
    await res.body?.cancel().catch(() => undefined);
    throw new TooLargeError(`an answer of ${declared} bytes (at most ${max} are read)`);
  }
  if (res.body === null) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > max) {
      await reader.cancel().catch(() => undefined);
      throw new TooLargeError(`an answer of more than ${max} bytes`);
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}
