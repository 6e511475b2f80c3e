// SequenceDB: the TRUSTED state of one log. Everything a client could hold us
// to lives here, and the public TileStore is rebuilt from it:
//   - the durable sequence: entry i's bytes and leaf hash for i in [0, size),
//     with a leaf-hash index for deduplication and lookup;
//   - the integration state: the size the tree was built to and the tree's
//     right edge (TreeEdge bytes), plus the edge one step earlier, so recovery
//     can replay the last integration step and repair its tiles;
//   - the last signed checkpoint (size, root, signed text) and the history of
//     every published (size, root) pair;
//   - the partial-tile collector's cursor (tile-gc.ts in src/log);
//   - for each witness, the size it last cosigned for this log (a hint: a
//     wrong value costs one 409 round trip, never a wrong checkpoint).
//
// One SequenceDB instance serves exactly one log (the origin is its key;
// opening a database that belongs to another origin fails). Nothing here is
// module-level state, so a process may run many logs.
//
// The interface is synchronous because better-sqlite3 is and the engine's hot
// path benefits; a networked backend (PostgreSQL) would need these methods to
// return promises (the engine calls them in few places: see src/log).

import type { Hash } from '../merkle/hash.js';

/** An entry to sequence, with its RFC 6962 leaf hash (computed by the caller). */
export interface SequencedEntry {
  readonly bytes: Uint8Array;
  readonly leafHash: Hash;
}

/** Where an entry landed: a new index, or the earlier index of an identical entry. */
export interface SequenceResult {
  readonly index: number;
  readonly duplicate: boolean;
}

/** The trusted tree state, replaced as a whole by each checkpoint commit. */
export interface TreeState {
  /** The integrated size, which is also the last signed checkpoint's size. */
  readonly size: number;
  /** MTH of entries [0, size). */
  readonly root: Hash;
  /** The signed checkpoint note for (size, root). */
  readonly text: string;
  /** TreeEdge.toBytes() at size. */
  readonly edge: Uint8Array;
  /** The previous state's size and edge (0 and empty for the first). */
  readonly prevSize: number;
  readonly prevEdge: Uint8Array;
}

/** One signed checkpoint in the history: its size, root and when it was committed. */
export interface CheckpointRecord {
  readonly size: number;
  readonly root: Hash;
  /** Unix milliseconds of the commit; null for checkpoints recorded before times were kept. */
  readonly time: number | null;
}

/** A range of the durable sequence: entries[k] is index start + k. */
export interface EntryRange {
  readonly entries: Uint8Array[];
  readonly leafHashes: Hash[];
}

export interface SequenceDB {
  /** The log this database belongs to. */
  readonly origin: string;

  /** Number of durable entries: indexes [0, sequencedSize()) exist. */
  sequencedSize(): number;

  /**
   * Sequence a batch in ONE transaction (one fsync). With dedup, an entry
   * whose leaf hash is already in the sequence (or earlier in this batch)
   * gets that earlier index and is not stored again. Results are in input
   * order. Durable when it returns; on a throw nothing was stored.
   */
  sequence(batch: readonly SequencedEntry[], dedup: boolean): SequenceResult[];

  /** Entries [start, end) with their leaf hashes; end <= sequencedSize(). */
  readEntries(start: number, end: number): EntryRange;

  /** Entry bytes at index, or null beyond the sequence. */
  entry(index: number): Uint8Array | null;

  /** The lowest index whose leaf hash is leafHash, or null. */
  lookup(leafHash: Hash): number | null;

  /** The current tree state, or null for a log that never signed anything. */
  state(): TreeState | null;

  /**
   * Compare-and-swap the tree state. Succeeds only if the current state's size
   * is expectedSize (null: no state yet), next.size >= that size, and no
   * different root was ever recorded for next.size; records (size, root) in the
   * published history. Otherwise throws TilelogError('LOG_FORK') and changes
   * nothing. Durable when it returns.
   */
  commitState(expectedSize: number | null, next: TreeState): void;

  /** The size of a published checkpoint with this root, or null. */
  sizeForRoot(root: Hash): number | null;

  /** The root published for this size, or null. */
  rootForSize(size: number): Hash | null;

  /**
   * The newest `limit` recorded checkpoints of size <= maxSize, in ascending
   * size order: the log's growth over time (the explorer's chart).
   */
  checkpointHistory(limit: number, maxSize: number): CheckpointRecord[];

  /**
   * Up to `limit` recorded checkpoints of size >= minSize, in ascending size
   * order (the partial-tile collector walks the history with it).
   */
  checkpointsFrom(minSize: number, limit: number): CheckpointRecord[];

  /** Total bytes of entries [start, end) (without length prefixes); end <= sequencedSize(). */
  entryBytes(start: number, end: number): number;

  /**
   * The partial-tile collector's durable cursor: the partials of every
   * checkpoint of a smaller size are gone (0 for a new log).
   */
  gcCursor(): number;

  /** Moves the collector's cursor (it never needs to move back). Durable when it returns. */
  setGcCursor(size: number): void;

  /**
   * Tells the database that a checkpoint of this size is public. It costs no
   * write of its own: the next commitState records the largest size noted,
   * in the same transaction, so the record may lag the public tree by one
   * checkpoint but is never ahead of it.
   */
  notePublished(size: number): void;

  /**
   * The largest public size recorded by a commitState (null: none recorded,
   * e.g. a database from before the record existed). Offline tools that must
   * not run ahead of what the server will serve (registry reindex) stop here.
   */
  publishedSize(): number | null;

  /** The size the witness (by its verifier key) last cosigned for this log, or null if unknown. */
  witnessSize(witness: string): number | null;

  /** Remembers the size a witness last cosigned (or reported in a 409). Durable when it returns. */
  setWitnessSize(witness: string, size: number): void;

  close(): void;
}
