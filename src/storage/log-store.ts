// The trusted state of one log, split by who uses it, asynchronous so a
// networked database (PostgreSQL) can sit behind it as well as SQLite:
//
//   SequenceStore   what every frontend needs: sequence adds, read entries,
//                   look up hashes, read the signed history. Several
//                   processes may hold one at once; the store itself makes
//                   their indexes dense and their dedup exact.
//   TreeStateStore  what only the signer writes: the integration state and
//                   its compare-and-swap, the collector's cursor, witness
//                   hints. Every write is fenced by the signer's epoch, so a
//                   signer that lost its lease (paused, partitioned) changes
//                   nothing and learns it must step down.
//   LeaderLease     who signs. Safety never depends on it (the fence does);
//                   it only decides which candidate works.
//
// SQLite implements all three for one process (the lease is always held and
// the epoch never changes), so the single-machine log keeps one code path.
// The contract is the synchronous SequenceDB's (sequence-db.ts), with these
// differences: every call returns a promise; nextIndex() is read from the
// store, not cached, because other frontends insert; and commitState answers
// 'lost' instead of throwing when the fence no longer holds.

import type { Hash } from '../merkle/hash.js';
import type { CheckpointRecord, EntryRange, SequencedEntry, SequenceResult, TreeState } from './sequence-db.js';

export type { CheckpointRecord, EntryRange, SequencedEntry, SequenceResult, TreeState } from './sequence-db.js';

/** The frontend's view of the trusted state. */
export interface SequenceStore {
  /** The log this store belongs to (one store per origin). */
  readonly origin: string;

  /**
   * Whether the store itself fixes deduplication (PostgreSQL: chosen when the
   * log was created); undefined when each call chooses (SQLite). A log opened
   * with another LogOptions.dedup is refused (LOG_CONFIG).
   */
  readonly dedup?: boolean;

  /**
   * What the signer last recorded as the public checkpoint (setPublished):
   * how processes that do not sign learn of new checkpoints. null: nothing yet.
   */
  published(): Promise<PublishedState | null>;

  /**
   * Optional prompt news of setPublished from any process (PostgreSQL:
   * LISTEN/NOTIFY). A hint only: notifications can be missed (a reconnect),
   * so readers still poll published(). Returns the unsubscribe function.
   */
  watchPublished?(onChange: () => void): Promise<() => Promise<void>>;

  /** Number of durable entries: indexes [0, nextIndex()) exist. Read from the store (other frontends insert). */
  nextIndex(): Promise<number>;

  /**
   * Sequence a batch in ONE transaction. With dedup, an entry whose leaf hash
   * is already in the sequence (or earlier in this batch) gets that earlier
   * index and is not stored again; dedup is exact across every process
   * sharing the store. Results are in input order. Durable when it resolves.
   * On a rejection the outcome is unknown unless the error says otherwise:
   * the caller answers "may have been stored; retry", never an index.
   */
  sequence(batch: readonly SequencedEntry[], dedup: boolean): Promise<SequenceResult[]>;

  /** Entries [start, end) with their leaf hashes; end <= nextIndex(). */
  readEntries(start: number, end: number): Promise<EntryRange>;

  /** Entry bytes at index, or null beyond the sequence. */
  entry(index: number): Promise<Uint8Array | null>;

  /** The lowest index whose leaf hash is leafHash, or null. */
  lookup(leafHash: Hash): Promise<number | null>;

  /** Total bytes of entries [start, end) (without length prefixes). */
  entryBytes(start: number, end: number): Promise<number>;

  /** The size of a signed checkpoint with this root, or null. */
  sizeForRoot(root: Hash): Promise<number | null>;

  /** The root signed for this size, or null. */
  rootForSize(size: number): Promise<Hash | null>;

  /** The newest `limit` signed checkpoints of size <= maxSize, ascending by size. */
  checkpointHistory(limit: number, maxSize: number): Promise<CheckpointRecord[]>;

  /** Up to `limit` signed checkpoints of size >= minSize, ascending by size. */
  checkpointsFrom(minSize: number, limit: number): Promise<CheckpointRecord[]>;

  close(): Promise<void>;
}

/** The public checkpoint as the signer last wrote it: its size, signed text and the bucket's version (ETag). */
export interface PublishedState {
  readonly size: number;
  readonly text: string;
  readonly etag: string | null;
}

/** Proof that the caller leads: the epoch its lease was granted with, and who it is. */
export interface Fence {
  readonly epoch: number;
  readonly holder: string;
}

/** The signer's view of the trusted state. Every write carries the fence. */
export interface TreeStateStore {
  /** The current tree state, or null for a log that never signed anything. */
  state(): Promise<TreeState | null>;

  /**
   * Compare-and-swap the tree state, iff the fence still holds and the stored
   * size is expectedSize (null: no state yet). 'lost': the fence no longer
   * holds (another signer took over); nothing changed; step down. Throws
   * TilelogError('LOG_FORK') (nothing changed) when the fence holds but the
   * state is not at expectedSize, next.size is smaller, or another root was
   * ever recorded for next.size. Records (size, root) in the history.
   * Durable when it resolves.
   */
  commitState(fence: Fence, expectedSize: number | null, next: TreeState): Promise<'ok' | 'lost'>;

  /**
   * Records the public checkpoint just written (or found by recovery), iff
   * the fence holds and the recorded size is <= p.size (it never moves back).
   * 'lost': the fence no longer holds; a smaller p is ignored ('ok').
   */
  setPublished(fence: Fence, p: PublishedState): Promise<'ok' | 'lost'>;

  /** The partial-tile collector's durable cursor (0 for a new log). */
  gcCursor(): Promise<number>;

  /** Moves the collector's cursor forward; 'lost' when the fence no longer holds. */
  setGcCursor(fence: Fence, size: number): Promise<'ok' | 'lost'>;

  /** The size the witness (by its verifier key) last cosigned for this log, or null. A hint only. */
  witnessSize(witness: string): Promise<number | null>;

  /** Remembers the size a witness last cosigned (a hint: not fenced). */
  setWitnessSize(witness: string, size: number): Promise<void>;
}

/** Leadership among signer candidates. */
export interface LeaderLease {
  /**
   * True when several processes compete for this lease (PostgreSQL): a term
   * that ends sends this process back to being a candidate, and while it does
   * not lead it learns of checkpoints from SequenceStore.published(). Absent
   * or false: only this process ever leads (SQLite), so a lost term is final.
   */
  readonly shared?: boolean;
  /** Resolves once this process leads; rejects when the signal aborts. Call again after losing it. */
  acquire(signal: AbortSignal): Promise<Leadership>;
}

/** One term of leadership. */
export interface Leadership {
  readonly fence: Fence;
  /** Aborts when this term ends: a renewal failed, the local deadline passed, or release(). */
  readonly lost: AbortSignal;
  /** Ends the term (clean shutdown), so another candidate need not wait for the lease to lapse. */
  release(): Promise<void>;
}
