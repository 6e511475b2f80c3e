// Errors of the verifier SDK. Every failure is a ClientError whose code names
// the step that failed (decode, checkpoint signature, cosignature quorum,
// cosignature timestamp, age, inclusion, consistency, tiles, fetch, policy).
// InconsistencyError also carries the evidence: both checkpoints and the proof.

import { TilelogError, type ErrorCode } from '../errors.js';
import type { Checkpoint } from '../note/checkpoint.js';

/** The CLIENT_* subset of ErrorCode. */
export type ClientErrorCode = Extract<ErrorCode, `CLIENT_${string}`>;

/** The verification step each code stands for, as printed by `tilelog verify`. */
export const CLIENT_STEPS: Readonly<Record<ClientErrorCode, string>> = {
  CLIENT_BAD_POLICY: 'policy',
  CLIENT_BUNDLE_DECODE: 'decode',
  CLIENT_CHECKPOINT_SIGNATURE: 'checkpoint signature',
  CLIENT_CHECKPOINT_QUORUM: 'cosignature quorum',
  CLIENT_CHECKPOINT_FUTURE: 'cosignature timestamp',
  CLIENT_CHECKPOINT_AGE: 'checkpoint age',
  CLIENT_BUNDLE_INCLUSION: 'inclusion',
  CLIENT_INCONSISTENT: 'consistency',
  CLIENT_TILE_INVALID: 'tiles',
  CLIENT_NOT_FOUND: 'fetch',
  CLIENT_FETCH: 'fetch',
};

export class ClientError extends TilelogError {
  declare readonly code: ClientErrorCode;
  constructor(code: ClientErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'ClientError';
  }
  /** The step that failed, e.g. "cosignature quorum". */
  get step(): string {
    return CLIENT_STEPS[this.code];
  }
}

/** Two checkpoints that are not consistent; carries both and the failing proof. */
export class InconsistencyError extends ClientError {
  readonly older: Checkpoint;
  readonly newer: Checkpoint;
  readonly proof: readonly Uint8Array[];
  constructor(message: string, older: Checkpoint, newer: Checkpoint, proof: readonly Uint8Array[], options?: { cause?: unknown }) {
    super('CLIENT_INCONSISTENT', message, options);
    this.name = 'InconsistencyError';
    this.older = older;
    this.newer = newer;
    this.proof = proof;
  }
}

/** True when err is a ClientError, optionally with the given code. */
export function isClientError(err: unknown, code?: ClientErrorCode): err is ClientError {
  return err instanceof ClientError && (code === undefined || err.code === code);
}

/** The message of any thrown value, for wrapping. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
