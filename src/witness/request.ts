// The body of POST /add-checkpoint (c2sp.org/tlog-witness, PROTOCOLS.md 6.1):
//
//   old <decimal size> LF
//   <b64 32-byte hash> LF          ×0..63, the consistency proof old → size
//   LF
//   <signed checkpoint note>
//
// The first LF LF ends the header (as torchwood splits it); everything after it
// is the note, which note.parseNote checks on its own. Here the header is
// strict: canonical decimal, canonical padded base64 of exactly 32 bytes, no
// CR, no blank or extra lines. Every deviation is WITNESS_BAD_REQUEST (400).

import { TilelogError } from '../errors.js';
import { fromBase64Strict, toBase64, type Hash } from '../merkle/index.js';

/** Most proof lines a request may carry: the spec's cap (PROTOCOLS.md pitfall 10). */
export const MAX_PROOF_LINES = 63;

/**
 * Largest add-checkpoint body we read, in bytes: 64 KiB. The header is at most
 * `old ` + 20 digits + 63 × 45 bytes ≈ 2.9 KB, which leaves about 61 KiB for
 * the note: its text plus the log's signature(s) and any cosignatures already
 * on it (an Ed25519 line is ~150 bytes, an ML-DSA-44 line ~3.3 KB).
 */
export const MAX_REQUEST_BYTES = 64 * 1024;

const OLD_LINE = /^old (0|[1-9][0-9]*)$/;
const HASH_B64 = /^[A-Za-z0-9+/]{43}=$/;

export interface AddCheckpointRequest {
  /** The size the submitter believes we last cosigned (0 if never). */
  oldSize: number;
  /** Consistency proof from oldSize to the checkpoint's size. */
  proof: Hash[];
  /** The signed checkpoint note, bytes as received (parsed later). */
  note: Uint8Array;
}

/** Parses an add-checkpoint body. Throws WITNESS_BAD_REQUEST with a message for humans. */
export function parseAddCheckpointRequest(body: Uint8Array): AddCheckpointRequest {
  if (!(body instanceof Uint8Array)) throw new TypeError('witness: body must be a Uint8Array');
  if (body.length > MAX_REQUEST_BYTES) throw bad(`request is ${body.length} bytes; at most ${MAX_REQUEST_BYTES} are allowed`);
  const split = findBlankLine(body);
  if (split < 0) throw bad('no empty line after the "old" line and the proof lines');
  // The header is ASCII by construction (checked line by line below).
  const header = new TextDecoder('latin1').decode(body.subarray(0, split));
  const lines = header.split('\n');
  const first = lines[0] as string;
  const m = OLD_LINE.exec(first);
  if (m === null) {
    throw bad(`first line must be "old <size>" with a canonical decimal size, got ${JSON.stringify(first.slice(0, 40))}`);
  }
  const oldSize = Number(m[1]);
  if (!Number.isSafeInteger(oldSize)) throw bad(`old size ${m[1]} exceeds 2^53-1, which this witness does not support`);
  const proofLines = lines.slice(1);
  if (proofLines.length > MAX_PROOF_LINES) {
    throw bad(`${proofLines.length} proof lines; at most ${MAX_PROOF_LINES} are allowed`);
  }
  const proof = proofLines.map((line, i) => {
    if (!HASH_B64.test(line)) {
      throw bad(`proof line ${i + 1} is not the standard base64 of a 32-byte hash: ${JSON.stringify(line.slice(0, 60))}`);
    }
    try {
      return fromBase64Strict(line, 32);
    } catch {
      throw bad(`proof line ${i + 1} is not canonical base64 (non-zero padding bits): ${JSON.stringify(line)}`);
    }
  });
  const note = body.subarray(split + 2);
  if (note.length === 0) throw bad('no checkpoint after the empty line');
  return { oldSize, proof, note };
}

/** Formats an add-checkpoint body (what a log sends); the inverse of parseAddCheckpointRequest. */
export function formatAddCheckpointRequest(oldSize: number, proof: readonly Hash[], note: string): string {
  if (!Number.isSafeInteger(oldSize) || oldSize < 0) throw new RangeError(`witness: old size ${oldSize} is not a size`);
  if (proof.length > MAX_PROOF_LINES) throw new RangeError(`witness: ${proof.length} proof hashes; at most ${MAX_PROOF_LINES}`);
  let out = `old ${oldSize}\n`;
  for (const h of proof) out += `${toBase64(h)}\n`;
  return `${out}\n${note}`;
}

// Index of the first LF of the first "LF LF", or -1.
function findBlankLine(body: Uint8Array): number {
  for (let i = 0; i + 1 < body.length; i++) {
    if (body[i] === 0x0a && body[i + 1] === 0x0a) return i;
  }
  return -1;
}

function bad(message: string): TilelogError {
  return new TilelogError('WITNESS_BAD_REQUEST', `add-checkpoint: ${message}`);
}
