// Bounded retries for object-store requests, and the classification of their
// errors. Pure apart from timers: no SDK import, so it is testable alone and
// the SDK stays a lazy, optional load (s3-tile-store.ts).
//
// The SDK's own retries are off (maxAttempts 1): one loop here owns the bound,
// so a pass never waits longer than `totalMs` on one object, whatever fails.

export interface RetryOptions {
  /** Attempts per request, first included (>= 1). */
  readonly maxAttempts: number;
  /** First backoff ceiling; doubles per retry (full jitter below it). */
  readonly baseDelayMs: number;
  /** Largest backoff ceiling. */
  readonly maxDelayMs: number;
  /** Bound on one request's attempts and waits together. */
  readonly totalMs: number;
  /** Each attempt is aborted after this long (a hung store is a transient error). */
  readonly requestTimeoutMs: number;
}

/**
 * Defaults: a bundle (≤ 16 MiB) has 30 s per attempt; 8 attempts with backoff
 * ceilings 100 ms … 5 s, all within one minute, ride out an S3 throttling
 * burst (SlowDown asks for backoff) without stalling the log for long.
 */
export const DEFAULT_RETRY: RetryOptions = {
  maxAttempts: 8,
  baseDelayMs: 100,
  maxDelayMs: 5_000,
  totalMs: 60_000,
  requestTimeoutMs: 30_000,
};

// assertRetryOptions(r): every field a positive finite number, attempts an
// integer; RangeError naming the field otherwise.
export function assertRetryOptions(r: RetryOptions): void {
  for (const [name, v] of Object.entries(r)) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
      throw new RangeError(`s3: retry option ${name} must be a positive number, got ${String(v)}`);
    }
  }
  if (!Number.isInteger(r.maxAttempts)) throw new RangeError(`s3: retry option maxAttempts must be an integer, got ${r.maxAttempts}`);
}

// backoffMs(retry, r, random): "full jitter" backoff before retry number
// `retry` (1-based): uniform in [0, min(maxDelayMs, baseDelayMs · 2^(retry-1))).
// Jitter spreads writers that failed together so they do not retry together.
export function backoffMs(retry: number, r: RetryOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(r.maxDelayMs, r.baseDelayMs * 2 ** Math.min(retry - 1, 30));
  return Math.floor(random() * ceiling);
}

/** What an object-store error means for the caller. */
export type ErrorKind =
  | 'transient' // retry: 5xx, throttling, 409 conditional conflict, timeout, network
  | 'precondition' // 412: If-None-Match / If-Match refused
  | 'not-found' // 404 on an object
  | 'fatal'; // anything else (403, NoSuchBucket, 400): retrying will not help

/** The fields of an SDK (smithy) error this module looks at. */
export interface StoreErrorShape {
  readonly name?: string;
  readonly code?: string;
  readonly $metadata?: { readonly httpStatusCode?: number };
}

const TRANSIENT_NAMES = new Set([
  'SlowDown',
  'ConditionalRequestConflict', // 409: a concurrent conditional write; AWS says retry
  'OperationAborted', // 409: a conflicting operation on the same object
  'RequestTimeout',
  'RequestTimeTooSkewed', // the clock steps; the SDK corrects its offset from the answer
  'InternalError',
  'ServiceUnavailable',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'TimeoutError',
  'AbortError',
]);

const FATAL_NAMES = new Set([
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'NoSuchBucket',
  'CredentialsProviderError', // no credentials in the chain: waiting will not make some
]);

// errorKind(err): how to treat an error from one S3 request. An error without
// an HTTP status that carries a system error code (ECONNRESET, ECONNREFUSED,
// ...) or is a timeout/abort never got a store's answer: transient, and a write
// may or may not have been applied. One without status or code is the SDK
// refusing its input or configuration (no region, say): fatal.
export function errorKind(err: unknown): ErrorKind {
  const e = (typeof err === 'object' && err !== null ? err : {}) as StoreErrorShape;
  const status = e.$metadata?.httpStatusCode;
  const name = e.name ?? '';
  if (status === 412 || name === 'PreconditionFailed') return 'precondition';
  if (FATAL_NAMES.has(name)) return 'fatal';
  if (TRANSIENT_NAMES.has(name)) return 'transient';
  if (status === undefined) return typeof e.code === 'string' ? 'transient' : 'fatal';
  if (status >= 500 || status === 429) return 'transient';
  if (status === 404 && (name === 'NoSuchKey' || name === 'NotFound')) return 'not-found';
  return 'fatal';
}

/** A short description of an error for messages: "503 SlowDown: Please reduce your request rate". */
export function describeError(err: unknown): string {
  const e = (typeof err === 'object' && err !== null ? err : {}) as StoreErrorShape & { message?: string };
  const status = e.$metadata?.httpStatusCode;
  const message = e.message ?? String(err);
  return `${status === undefined ? 'no answer' : status} ${e.name ?? e.code ?? 'Error'}: ${message}`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
