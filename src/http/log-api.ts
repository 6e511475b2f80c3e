// The part of the engine's Log that the HTTP layer uses. Written as a
// structural interface so the app can be tested against any implementation;
// src/log's Log class satisfies it (test/http checks that at compile time).

export interface PublishedCheckpointLike {
  readonly size: number;
  readonly root: Uint8Array;
  /** The signed note text, as served at /checkpoint. */
  readonly text: string;
}

export interface LogApi {
  readonly origin: string;
  readonly verifierKey: string;
  /** Whether an identical entry gets the earlier index (absent: not said). */
  readonly dedup?: boolean;
  /** Resolves once the entry is durable. */
  add(entry: Uint8Array): Promise<{ index: number; duplicate: boolean }>;
  /** Resolves with the first published checkpoint whose size is > index. */
  waitForCheckpoint(index: number, signal?: AbortSignal): Promise<PublishedCheckpointLike>;
  /** The latest published checkpoint. */
  checkpoint(): PublishedCheckpointLike;
  /** The size of a published checkpoint with this root, or null. */
  sizeForRoot(root: Uint8Array): Promise<number | null>;
  treeHash(size: number): Promise<Uint8Array>;
  inclusionProof(index: number, size: number): Promise<Uint8Array[]>;
  consistencyProof(oldSize: number, newSize: number): Promise<Uint8Array[]>;
  entry(index: number): Promise<Uint8Array>;
  /** The leaf hash of entry index in the tree of size, from the tree itself (absent: the handler hashes entry(index)). */
  leafHash?(index: number, size: number): Promise<Uint8Array>;
  lookup(leafHash: Uint8Array): Promise<number | null>;
  readPublic(path: string): Promise<Uint8Array | null>;
  /** The newest checkpoint signed by the log alone (ahead of checkpoint() while witnesses cosign). */
  logSignedCheckpoint?(): PublishedCheckpointLike;
  /** The newest `limit` published checkpoints, ascending by size (GET /v1/log/checkpoints). */
  checkpointHistory?(limit: number): Promise<readonly { size: number; root: Uint8Array; time: number | null }[]>;
  /** Witness cosigning status as JSON, or null without witnesses. */
  witnessStatus?(): object | null;
}
