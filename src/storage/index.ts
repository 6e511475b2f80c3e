export type { TileStore } from './tile-store.js';
export { CHECKPOINT_PATH, assertPublicPath } from './tile-store.js';
export { FileTileStore } from './file-tile-store.js';
export { MemoryTileStore } from './memory-tile-store.js';
export type { SequenceDB, SequencedEntry, SequenceResult, TreeState, EntryRange, CheckpointRecord } from './sequence-db.js';
export { SqliteSequenceDB, type SqliteSequenceDBOptions } from './sqlite-sequence-db.js';
