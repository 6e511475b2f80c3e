// Witness: the add-checkpoint decision of c2sp.org/tlog-witness, in the check
// order of PROTOCOLS.md 6.1:
//
//   1. parse the request and the note                    400 WITNESS_BAD_REQUEST / NOTE_MALFORMED
//   2. the origin is configured                          404 WITNESS_UNKNOWN_LOG
//   3. a trusted log key signed it, none failed          403 WITNESS_UNVERIFIED
//   4. old <= size                                       400 WITNESS_BAD_REQUEST
//   5. old == the size we last cosigned (0 if never)     409 WITNESS_OLD_SIZE (carries our size)
//   6. size 0 has the empty-tree root                    422 WITNESS_INCONSISTENT
//   7. old 0 comes with an empty proof                   422
//   8. same size: same root; else the proof verifies     422
//   9. cosign (cosignature/v1 at now(), never 0), then compare-and-swap
//      the stored checkpoint against the one checked in 5-8     409 if it moved meanwhile
//  10. reply with the cosignature line(s)                200
//
// During a key transition (C2SP: a new witness name and key announced beside
// the old one) the witness has a next signer too and answers one cosignature
// line per key, each with its own name and key ID over the same note and
// timestamp. Logs and clients keep the line of the key they are configured
// for and ignore the other (log/witness-client.ts verifiedLines).
//
// Steps 6-8 on a validly signed checkpoint record evidence, as does a 409 for
// a checkpoint whose root differs from one we cosigned at that size.
// The whole decision is synchronous (SQLite, Ed25519 and hashing are), so in
// one process no two requests interleave; the CAS also guards other processes.

import { TilelogError, isTilelogError } from '../errors.js';
import { EMPTY_ROOT, fromBase64Strict, hashEqual, toBase64, verifyConsistency, type Hash } from '../merkle/index.js';
import {
  formatSignatureLine,
  parseCheckpoint,
  parseNote,
  parseVerifierKey,
  verifyNote,
  type Checkpoint,
  type CosignatureSigner,
  type Note,
  type NoteSignature,
} from '../note/index.js';
import { parseAddCheckpointRequest, type AddCheckpointRequest } from './request.js';
import type { CosignedCheckpoint, EvidenceReason, WitnessStore } from './store.js';

/** 409: `old` is not the size we last cosigned; the reply body is `${size}\n`. */
export class OldSizeError extends TilelogError {
  readonly size: number;
  constructor(size: number, message: string) {
    super('WITNESS_OLD_SIZE', message);
    this.name = 'OldSizeError';
    this.size = size;
  }
}

export interface WitnessOptions {
  store: WitnessStore;
  /** Our cosigner key (cosignature/v1). */
  signer: CosignatureSigner;
  /** A second key served beside signer during a transition (see the header). */
  nextSigner?: CosignatureSigner;
  /** Clock in POSIX seconds; default Math.floor(Date.now() / 1000). Must never return 0. */
  now?: () => number;
}

export interface LogStatus {
  origin: string;
  keys: string[];
  /** Our latest cosigned size, or null if we never cosigned this log. */
  size: number | null;
  /** Timestamp of that cosignature. */
  timestamp: number | null;
}

const EMPTY_ROOT_B64 = toBase64(EMPTY_ROOT);

export class Witness {
  readonly store: WitnessStore;
  readonly signer: CosignatureSigner;
  readonly nextSigner: CosignatureSigner | null;
  readonly #now: () => number;

  constructor({ store, signer, nextSigner, now = () => Math.floor(Date.now() / 1000) }: WitnessOptions) {
    if (nextSigner !== undefined && nextSigner.name === signer.name && nextSigner.keyId === signer.keyId) {
      throw new TilelogError('WITNESS_CONFIG', `witness: the next key is the current one (${signer.name}); make a new key, with a new name (C2SP)`);
    }
    this.store = store;
    this.signer = signer;
    this.nextSigner = nextSigner ?? null;
    this.#now = now;
  }

  /** The signers that cosign each checkpoint: the key, then the next one during a transition. */
  get signers(): CosignatureSigner[] {
    return this.nextSigner === null ? [this.signer] : [this.signer, this.nextSigner];
  }

  get name(): string {
    return this.signer.name;
  }

  get verifierKey(): string {
    return this.signer.verifierKey;
  }

  /** Handles one add-checkpoint body; returns the cosignature line(s), each ending in LF. */
  addCheckpoint(body: Uint8Array): string {
    // 1. Parse.
    const req = parseAddCheckpointRequest(body);
    const note = parseNote(req.note);
    const { checkpoint, emptyRootMismatch } = parseSubmittedCheckpoint(note.text);
    const { origin, size, root } = checkpoint;

    // 2-3. Configured origin, signed by a trusted key.
    const logSignatures = this.verifyLogSignatures(origin, note);

    // 4-5. Sizes.
    if (req.oldSize > size) {
      throw new TilelogError('WITNESS_BAD_REQUEST', `add-checkpoint: old size ${req.oldSize} is larger than the checkpoint size ${size}`);
    }
    const stored = this.store.latest(origin);
    const storedSize = stored?.size ?? 0;
    const storedRoot = stored?.root ?? EMPTY_ROOT;
    if (req.oldSize !== storedSize) {
      const earlier = this.store.cosignedRoot(origin, size);
      if (earlier !== null && !hashEqual(earlier, root)) {
        this.recordEvidence(req, origin, stored, 'same-size-other-root', `we cosigned another root at size ${size}`);
      }
      throw new OldSizeError(storedSize, `add-checkpoint: old size ${req.oldSize}, but the last size cosigned for this log is ${storedSize}`);
    }

    // 6-8. Consistency with what we cosigned.
    const refuse = (reason: EvidenceReason, message: string): never => {
      this.recordEvidence(req, origin, stored, reason, message);
      throw new TilelogError('WITNESS_INCONSISTENT', `add-checkpoint: ${message}`);
    };
    if (emptyRootMismatch) refuse('empty-tree-root', `size 0 with a root other than the empty-tree hash ${EMPTY_ROOT_B64}`);
    if (req.oldSize === 0 && req.proof.length > 0) refuse('proof-from-zero', `old size 0 needs an empty proof, got ${req.proof.length} hashes`);
    if (req.oldSize === size && !hashEqual(root, storedRoot)) {
      refuse('same-size-other-root', `size ${size} with root ${toBase64(root)}, but we cosigned root ${toBase64(storedRoot)} at that size`);
    }
    try {
      verifyConsistency(undefined, req.oldSize, size, req.proof, storedRoot, root);
    } catch (err) {
      if (!isTilelogError(err, 'MERKLE_PROOF_INVALID')) throw err;
      refuse('inconsistent-proof', `consistency proof from size ${req.oldSize} to ${size} does not verify (${err.message})`);
    }

    // 9. Cosign, then store.
    const timestamp = this.#now();
    if (!Number.isSafeInteger(timestamp) || timestamp <= 0) throw new Error(`witness: bad clock: now() returned ${timestamp}`);
    const textBytes = new TextEncoder().encode(note.text);
    const lines = this.signers.map((k) => `${formatSignatureLine(k.name, k.keyId, k.signAt(textBytes, timestamp))}\n`).join('');
    const cosigned: CosignedCheckpoint = {
      origin,
      size,
      root,
      note: `${note.text}\n${logSignatures.map((s) => `${s.line}\n`).join('')}${lines}`,
      timestamp,
    };
    // No fork: compare-and-swap against the (size, root) checked above, in one
    // IMMEDIATE transaction; a concurrent advance makes this a 409, never a rollback.
    const result = this.store.advance(stored === null ? null : { size: stored.size, root: stored.root }, cosigned);
    if (!result.ok) {
      const now = result.current?.size ?? 0;
      throw new OldSizeError(now, `add-checkpoint: the last size cosigned for this log changed to ${now} while this request was checked`);
    }
    // Durable: advance() committed with synchronous=FULL; only now may the cosignature leave.
    return lines;
  }

  /** The latest cosigned note for the origin whose lowercase hex SHA-256 is hashHex, or null. */
  monitoringCheckpoint(hashHex: string): string | null {
    return this.store.latestByOriginHash(hashHex)?.note ?? null;
  }

  /** Configured logs with our latest cosigned size for each. */
  status(): LogStatus[] {
    return this.store.listLogs().map(({ origin, keys }) => {
      const latest = this.store.latest(origin);
      return { origin, keys, size: latest?.size ?? null, timestamp: latest?.timestamp ?? null };
    });
  }

  // Steps 2-3: the log's signature lines that verified. Unknown origin is 404;
  // no trusted signature, or a trusted (name, ID) whose signature fails, is 403.
  private verifyLogSignatures(origin: string, note: Note): NoteSignature[] {
    const keys = this.store.logKeys(origin);
    if (keys.length === 0) {
      throw new TilelogError('WITNESS_UNKNOWN_LOG', `add-checkpoint: unknown log origin ${JSON.stringify(origin)}`);
    }
    const verifiers = keys.map((k) => parseVerifierKey(k));
    try {
      return verifyNote(note, verifiers).verified;
    } catch (err) {
      if (isTilelogError(err, 'NOTE_BAD_SIGNATURE') || isTilelogError(err, 'NOTE_UNVERIFIED')) {
        throw new TilelogError('WITNESS_UNVERIFIED', `add-checkpoint: ${err.message}`);
      }
      throw err;
    }
  }

  private recordEvidence(
    req: AddCheckpointRequest,
    origin: string,
    stored: CosignedCheckpoint | null,
    reason: EvidenceReason,
    detail: string,
  ): void {
    this.store.recordEvidence({
      origin,
      reason,
      detail,
      oldSize: req.oldSize,
      proof: req.proof,
      note: new TextDecoder().decode(req.note),
      stored,
      receivedAt: this.#now(),
    });
  }
}

/**
 * parseCheckpoint, except that a size-0 checkpoint with a root other than the
 * empty-tree hash parses (flagged), because the spec answers it with 422 after
 * the signature check, not with 400. Detection: the same text with the root
 * line replaced by the empty-tree root parses.
 */
function parseSubmittedCheckpoint(text: string): { checkpoint: Checkpoint; emptyRootMismatch: boolean } {
  try {
    return { checkpoint: parseCheckpoint(text), emptyRootMismatch: false };
  } catch (err) {
    const lines = text.split('\n');
    if (!isTilelogError(err, 'NOTE_MALFORMED') || lines[1] !== '0' || lines.length < 4) throw asBadRequest(err);
    const fixed = [lines[0], lines[1], EMPTY_ROOT_B64, ...lines.slice(3)].join('\n');
    let checkpoint: Checkpoint;
    try {
      checkpoint = parseCheckpoint(fixed);
    } catch {
      throw asBadRequest(err);
    }
    const root = decodeRoot(lines[2] as string);
    if (root === null) throw asBadRequest(err);
    return { checkpoint: { ...checkpoint, root }, emptyRootMismatch: true };
  }
}

// A 32-byte root in canonical base64, or null.
function decodeRoot(line: string): Hash | null {
  try {
    return fromBase64Strict(line, 32);
  } catch {
    return null;
  }
}

// A checkpoint size beyond 2^53-1 (MERKLE_RANGE) is also a bad request here.
function asBadRequest(err: unknown): unknown {
  if (isTilelogError(err, 'MERKLE_RANGE')) return new TilelogError('WITNESS_BAD_REQUEST', `add-checkpoint: ${err.message}`);
  return err;
}
