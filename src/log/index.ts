// tilelog/log: the engine's public API.
export { Log, openLog, type LogStats } from './log.js';
export { openFileLog, TILE_SUMMARIES_DIR, type FileLogOptions } from './file-log.js';
export type { LogOptions, LogLogger } from './options.js';
export type { LogObserver } from './observer.js';
export { nodeSha256 } from './options.js';
export type { AddResult } from './sequencer.js';
export type { PublishedCheckpoint } from './publisher.js';
export type { TileStore, SequenceDB, TreeState, SequenceStore, TreeStateStore, LeaderLease, Leadership, Fence } from '../storage/index.js';
export { FileTileStore, MemoryTileStore, SqliteSequenceDB, SqliteLogStore, SqliteWorkerStore, HeldLease } from '../storage/index.js';
export { storageFailure, type StorageFailure, type StorageComponent } from '../storage/storage-failure.js';
export type { StorageFault } from './storage-health.js';
export type { TileGcRun, TileGcCounters } from './tile-gc.js';
export { DEFAULT_PARTIAL_GRACE_MS } from './options.js';
export { DEFAULT_TILE_CACHE_BYTES, TileCache } from './tile-cache.js';
export { PublicationStoppedError, PUBLICATION_STOP_REASONS, type PublicationStopReason } from './public-checkpoint.js';
