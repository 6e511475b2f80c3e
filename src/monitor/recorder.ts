// A fetch wrapper for the monitor's TileClient and its own requests: it
// counts requests, gives each one a timeout, and keeps the bodies fetched
// since the last capture() so an alert can save the exact bytes (tiles,
// bundles, checkpoints) the log served. Bodies are kept up to a byte budget.

import type { FetchLike } from '../client/index.js';

/** Default per-request timeout: 30 s. */
export const REQUEST_TIMEOUT_MS = 30_000;
const CAPTURE_BUDGET = 16 * 1024 * 1024;

export class FetchRecorder {
  /** Requests made, whatever their outcome. */
  requests = 0;
  readonly #inner: FetchLike;
  readonly #timeoutMs: number;
  #captured = new Map<string, Uint8Array>();
  #capturedBytes = 0;

  constructor(inner: FetchLike = (url, init) => fetch(url, init), timeoutMs = REQUEST_TIMEOUT_MS) {
    this.#inner = inner;
    this.#timeoutMs = timeoutMs;
  }

  /** Forgets captured bodies; later fetches are captured afresh. */
  capture(): void {
    this.#captured = new Map();
    this.#capturedBytes = 0;
  }

  /** The body last fetched from url since capture(), if kept. */
  body(url: string): Uint8Array | undefined {
    return this.#captured.get(url);
  }

  /** Every (url, body) since capture(). */
  captured(): [string, Uint8Array][] {
    return [...this.#captured];
  }

  readonly fetch: FetchLike = async (url, init) => {
    this.requests++;
    const res = await this.#inner(url, { ...init, signal: init?.signal ?? AbortSignal.timeout(this.#timeoutMs) });
    if (!res.ok || (init?.method !== undefined && init.method !== 'GET')) return res;
    const body = new Uint8Array(await res.arrayBuffer());
    if (this.#capturedBytes + body.length <= CAPTURE_BUDGET) {
      this.#captured.set(url, body);
      this.#capturedBytes += body.length;
    }
    return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
}
