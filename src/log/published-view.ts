// PublishedView: this process's copy of the log's public checkpoint, and the
// waiters for a checkpoint that covers an index. It is what Log.checkpoint()
// returns and what reads are bounded by, whether this process signs (its
// checkpointer advances it after every publication) or not (a poller advances
// it from the store's published state, SequenceStore.published()). It only
// moves forward: a smaller size is ignored, so no reader of this process ever
// sees the tree shrink, whichever source answers first.

import { IndexWaiters } from './index-waiters.js';
import type { PublishedCheckpoint } from './publisher.js';

export class PublishedView {
  #current: PublishedCheckpoint | null;
  readonly #waiters = new IndexWaiters();
  #failed: unknown = null;
  readonly #onAdvance: (cp: PublishedCheckpoint) => void;

  constructor(initial: PublishedCheckpoint | null, onAdvance: (cp: PublishedCheckpoint) => void = () => undefined) {
    this.#current = initial;
    this.#onAdvance = onAdvance;
  }

  /** The newest checkpoint seen, or null before the first one. */
  get current(): PublishedCheckpoint | null {
    return this.#current;
  }

  /** Published size (0 before the first checkpoint). */
  get size(): number {
    return this.#current?.size ?? 0;
  }

  // advance(cp): cp is public now. Ignored when older than what is held (the
  // same size again replaces it: new cosignatures). Returns whether it moved.
  advance(cp: PublishedCheckpoint): boolean {
    if (this.#current !== null && cp.size < this.#current.size) return false;
    const grew = this.#current === null || cp.size > this.#current.size;
    this.#current = cp;
    if (grew) this.#onAdvance(cp);
    this.#waiters.resolveCovered(cp);
    return grew;
  }

  // waitFor(index): the first checkpoint with size > index.
  waitFor(index: number, signal?: AbortSignal): Promise<PublishedCheckpoint> {
    if (this.#current !== null && index < this.#current.size) return Promise.resolve(this.#current);
    if (this.#failed !== null) return Promise.reject(this.#failed);
    return this.#waiters.wait(index, signal);
  }

  // fail(err): reject every waiter, and every later wait, with err (the log stopped or closed).
  fail(err: unknown): void {
    this.#failed ??= err;
    this.#waiters.rejectAll(() => err);
  }
}
