// IndexWaiters: the callers waiting for the first checkpoint that covers an
// index (size > index), each one abortable. The checkpointer (the signer's
// view) and PublishedView (a follower's) both hold one.

import type { PublishedCheckpoint } from './publisher.js';

interface Waiter {
  index: number;
  resolve(cp: PublishedCheckpoint): void;
  reject(err: unknown): void;
}

export class IndexWaiters {
  #waiters: Waiter[] = [];

  /** A promise for the first checkpoint with size > index; an abort rejects it with the signal's reason. */
  wait(index: number, signal?: AbortSignal): Promise<PublishedCheckpoint> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<PublishedCheckpoint>((resolve, reject) => {
      const waiter: Waiter = { index, resolve, reject };
      if (signal !== undefined) {
        const onAbort = (): void => {
          this.#waiters = this.#waiters.filter((w) => w !== waiter);
          reject(signal.reason);
        };
        signal.addEventListener('abort', onAbort, { once: true });
        waiter.resolve = (cp) => {
          signal.removeEventListener('abort', onAbort);
          resolve(cp);
        };
      }
      this.#waiters.push(waiter);
    });
  }

  /** Answers every waiter whose index cp covers; the others keep waiting. */
  resolveCovered(cp: PublishedCheckpoint): void {
    if (this.#waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const w of this.#waiters) {
      if (w.index < cp.size) w.resolve(cp);
      else still.push(w);
    }
    this.#waiters = still;
  }

  /** Rejects every waiter with errorFor(its index). */
  rejectAll(errorFor: (index: number) => unknown): void {
    const ws = this.#waiters;
    this.#waiters = [];
    for (const w of ws) w.reject(errorFor(w.index));
  }
}
