export type { TileStore } from './tile-store.js';
export { CHECKPOINT_PATH, assertPublicPath } from './tile-store.js';
export { FileTileStore } from './file-tile-store.js';
export { MemoryTileStore } from './memory-tile-store.js';
export type { SequenceDB, SequencedEntry, SequenceResult, TreeState, EntryRange, CheckpointRecord } from './sequence-db.js';
export { SqliteSequenceDB, type SqliteSequenceDBOptions } from './sqlite-sequence-db.js';
export type { SequenceStore, TreeStateStore, LeaderLease, Leadership, Fence } from './log-store.js';
export { SqliteLogStore, HeldLease } from './sqlite-log-store.js';
export { SqliteWorkerStore, type SqliteWorkerStoreOptions } from './sqlite-worker-store.js';
// The S3 store's module imports the AWS SDK only inside openS3TileStore.
export {
  S3TileStore,
  openS3TileStore,
  type S3TileStoreOptions,
  type S3Credentials,
  type S3Counters,
  type SelfTestResult,
} from './s3-tile-store.js';
export { DEFAULT_RETRY, type RetryOptions } from './s3-retry.js';
export { parseTileLocation, formatTileLocation, openTileStore, type TileLocation, type S3Settings } from './tile-location.js';
export { objectHeaders, type ObjectHeaders } from './cache-policy.js';
