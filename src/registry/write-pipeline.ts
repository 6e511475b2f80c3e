// WritePipeline: the registry's write path. Many writes are in flight at
// once and share the log's batches and checkpoints; only admission is
// serialised, and it is short (no wait for durability or a checkpoint).
//
// One write:
//   1. admission, one at a time (#admission):
//      a. catch up: fold published leaves [index.nextIndex, checkpoint.size)
//         and rebuild the overlay (overlay.ts) of writes still pending;
//      b. plan: the caller builds its entry from the overlay (a change follows
//         the newest head, published or pending), or answers at once
//         (idempotent), or asks to wait for a pending write first;
//      c. dedup: an identical leaf applied is answered with its index; an
//         identical leaf pending is waited for, then planned again;
//      d. the rules against the overlay; a refusal that holds only because of
//         pending writes (the index alone admits it) waits for them and plans
//         again, so a write that later fails never refuses another;
//      e. in one synchronous step: record the write in the overlay and hand
//         the leaf to log.add (the sequencer pools in call order, so log
//         order = admission order);
//   2. log.add resolves: durable (a failed add leaves the overlay at once);
//   3. wait for a checkpoint covering it, then catch up: the fold applies it;
//   4. the answer is the fold's outcome at its index, as before: a leaf that
//      reached the log around ours (raw POST /add, another submitter) and
//      made ours inapplicable gives 409 with the fold's reason, never success.
// A crash anywhere leaves durable entries the index has not applied; the
// next catch-up applies them (as before). Nothing here is durable itself:
// the overlay is rebuilt from the pending writes of this process only.

import { TilelogError } from '../errors.js';
import { hashEqual, leafHash as hashLeaf } from '../merkle/hash.js';
import { decodeEntry, type Entry } from './entries/envelope.js';
import { checkTransition } from './rules.js';
import { Overlay, PendingWrite } from './overlay.js';
import type { StateIndex } from './state-index.js';
import type { RegistryLog, WriteResult } from './registry.js';

/**
 * What a writer does, decided against the overlay during admission:
 * submit a leaf, answer without writing, or wait for pending writes and plan again.
 * signatureVerified: the leaf was signed here by the registry's own key.
 */
export type Plan<T> = { leaf: Uint8Array; signatureVerified?: boolean } | { answer: T } | { waitFor: readonly PendingWrite[] };

/** Leaves read and applied per transaction during catch-up. */
const FOLD_CHUNK = 1000;

export class WritePipeline {
  readonly overlay: Overlay;
  #tail: Promise<unknown> = Promise.resolve();
  #folding: Promise<void> | null = null;
  /** Pending writes by log index, so the fold can skip re-verifying our own leaves. */
  readonly #byIndex = new Map<number, PendingWrite>();

  constructor(
    private readonly log: RegistryLog,
    private readonly index: StateIndex,
    private readonly waitTimeoutMs: number,
  ) {
    this.overlay = new Overlay(index);
  }

  /**
   * Applies every published leaf the index has not seen. Concurrent callers
   * share one pass (a leaf is applied once), then a caller that came during
   * it runs again to see what was published meanwhile.
   */
  async catchUp(): Promise<void> {
    while (this.#folding !== null) await this.#folding;
    this.#folding = this.#fold().finally(() => (this.#folding = null));
    return this.#folding;
  }

  // Chunk by chunk: read the leaves, then apply them and rebuild the overlay
  // with no await between, so nobody ever sees the index ahead of the overlay
  // built on it. Chunks bound the memory of a long catch-up (a rebuilt index).
  async #fold(): Promise<void> {
    const size = this.log.checkpoint().size;
    if (this.index.nextIndex > size) {
      throw new TilelogError('REGISTRY_CONFIG', `registry: the index has applied ${this.index.nextIndex} leaves but the log has ${size}; it belongs to another log: delete it to rebuild`);
    }
    for (let start = this.index.nextIndex; start < size; start = this.index.nextIndex) {
      const end = Math.min(size, start + FOLD_CHUNK);
      const leaves = await Promise.all(Array.from({ length: end - start }, (_, k) => this.log.entry(start + k)));
      if (this.index.nextIndex !== start) throw new Error(`registry: bad math: the index moved during a fold (${start} -> ${this.index.nextIndex})`);
      const hashes = leaves.map((l) => hashLeaf(l));
      const ours = hashes.map((_, k) => this.#byIndex.get(start + k) ?? null);
      // Our leaves' signatures were verified at admission (or made here): the same bytes, the same leaf hash.
      const verified = ours.map((p, k) => p !== null && hashEqual(p.leafHash, hashes[k]!));
      this.index.applyAll(start, leaves, hashes, verified);
      ours.forEach((p, k) => {
        if (p !== null) (this.#byIndex.delete(start + k), p.settle());
      });
      this.overlay.rebuild();
    }
  }

  /** Runs one write through the steps in the header; plan is called during admission. */
  async write<T>(plan: (view: Overlay) => Plan<T>): Promise<WriteResult | T> {
    const step = await this.#serial(async () => {
      // A write that must wait holds admission meanwhile: writes that came
      // after it are not admitted before it, so the log keeps arrival order
      // and the answers are those of applying the writes one by one in that
      // order. Only conflicting writes wait (about one checkpoint).
      for (;;) {
        const s = await this.#admit(plan);
        if (!('waitFor' in s)) return s;
        await this.#settle(s.waitFor);
      }
    });
    if ('answer' in step) return step.answer;
    return this.#finish(step.pending, step.entry);
  }

  // Step 1.
  async #admit<T>(plan: (view: Overlay) => Plan<T>): Promise<{ answer: WriteResult | T } | { waitFor: readonly PendingWrite[] } | { pending: PendingWrite; entry: Entry }> {
    await this.catchUp();
    const foldedAt = this.index.nextIndex;
    const p = plan(this.overlay);
    if (!('leaf' in p)) return p;
    const entry = decodeEntry(p.leaf);
    const lh = hashLeaf(p.leaf);
    const same = this.overlay.pendingLeaf(lh);
    if (same !== null) return { waitFor: [same] };
    const earlier = await this.log.lookup(lh);
    if (earlier !== null && this.index.outcome(earlier)?.applied === true) {
      return { answer: { index: earlier, leafHash: lh, duplicate: true, entry } };
    }
    // The lookup awaited: if a fold ran meanwhile, the plan may rest on an older head; plan again.
    if (this.index.nextIndex !== foldedAt) return { waitFor: [] };
    try {
      this.overlay.check(entry, { signatureVerified: p.signatureVerified === true });
    } catch (err) {
      if (!(err instanceof TilelogError) || this.overlay.pending.length === 0) throw err;
      // A refusal is final only if the published state refuses too.
      try {
        checkTransition(this.index, entry, { signatureVerified: p.signatureVerified === true });
      } catch {
        throw err;
      }
      return { waitFor: [...this.overlay.pending] };
    }
    const pending = new PendingWrite(entry, lh, this.log.add(p.leaf));
    this.overlay.commit(pending);
    return { pending, entry };
  }

  // Steps 2-4.
  async #finish(p: PendingWrite, entry: Entry): Promise<WriteResult> {
    const index = await p.durable;
    if (index === null) {
      p.settle();
      this.overlay.rebuild();
      // The log's own error (pushback, closed, disk), as before.
      throw p.addError;
    }
    if (index < this.index.nextIndex) {
      // Already folded (the checkpoint came before this continuation ran).
      p.settle();
      this.overlay.rebuild();
    } else {
      this.#byIndex.set(index, p);
    }
    await this.#waitForCheckpoint(index);
    await this.catchUp();
    const outcome = this.index.outcome(index);
    if (outcome === null || !outcome.applied) {
      throw new TilelogError('REGISTRY_CONFLICT', `registry: entry ${index} is in the log but another entry for ${entry.subject} came first: ${outcome?.reason ?? 'not applied'}`);
    }
    return { index, leafHash: p.leafHash, duplicate: false, entry };
  }

  // Waits until each write has been folded (or failed to reach the log),
  // driving the fold itself rather than relying on the writer's own wait.
  async #settle(ws: readonly PendingWrite[]): Promise<void> {
    for (const w of ws) {
      if (w.isSettled) continue;
      const index = await w.durable;
      if (index === null) continue;
      await this.#waitForCheckpoint(index);
      await this.catchUp();
    }
  }

  async #waitForCheckpoint(index: number): Promise<void> {
    try {
      await this.log.waitForCheckpoint(index, AbortSignal.timeout(this.waitTimeoutMs));
    } catch (err) {
      if (err instanceof TilelogError) throw err;
      throw new TilelogError('LOG_PUSHBACK', `registry: entry ${index} is durable but no checkpoint covered it within ${this.waitTimeoutMs} ms; it will apply when one does`, { cause: err });
    }
  }

  // Admissions run one at a time, in arrival order; a failure does not block the next.
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(fn, fn);
    this.#tail = run.catch(() => undefined);
    return run;
  }
}
