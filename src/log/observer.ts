// LogObserver: events for metrics, each fired once per batch, checkpoint or
// witness answer, never once per add. The engine keeps no metrics library:
// src/http/metrics.ts turns these events and Log.stats() into Prometheus
// series. Observers must be cheap and must not throw (a throw is swallowed).

export interface LogObserver {
  /** A batch COMMITted: entries in it (duplicates included) and ms from its first submission to the COMMIT (its slowest add). */
  batchDurable?(entries: number, waitMs: number): void;
  /** The public checkpoint moved to size; for each batch it newly covers, ms from that batch's COMMIT to now. */
  checkpointPublished?(size: number, sinceDurableMs: readonly number[]): void;
  /** A witness round trip ended (cosigned or failed) after ms. */
  witnessAnswered?(witness: string, cosigned: boolean, ms: number): void;
}

/** Fan-out to the observers plus the bookkeeping between a batch's COMMIT and its first checkpoint. */
export class Observers {
  readonly #list: LogObserver[] = [];
  /** Durable batches not yet covered by a public checkpoint: [end, commit time), oldest first. */
  #uncovered: { end: number; atMs: number }[] = [];
  /** When the public checkpoint was last written by this process (or the log opened). */
  publishedAtMs = Date.now();

  add(o: LogObserver): () => void {
    this.#list.push(o);
    return () => {
      const i = this.#list.indexOf(o);
      if (i >= 0) this.#list.splice(i, 1);
    };
  }

  batchDurable(end: number, entries: number, waitMs: number): void {
    if (this.#list.length === 0) return;
    this.#uncovered.push({ end, atMs: performance.now() });
    for (const o of this.#list) call(() => o.batchDurable?.(entries, waitMs));
  }

  published(size: number): void {
    this.publishedAtMs = Date.now();
    if (this.#list.length === 0) return;
    const now = performance.now();
    const ages: number[] = [];
    let k = 0;
    while (k < this.#uncovered.length && this.#uncovered[k]!.end <= size) ages.push(now - this.#uncovered[k++]!.atMs);
    if (k > 0) this.#uncovered = this.#uncovered.slice(k);
    for (const o of this.#list) call(() => o.checkpointPublished?.(size, ages));
  }

  witnessAnswered(witness: string, cosigned: boolean, ms: number): void {
    for (const o of this.#list) call(() => o.witnessAnswered?.(witness, cosigned, ms));
  }
}

function call(f: () => void): void {
  try {
    f();
  } catch {
    // an observer must not break the log
  }
}
