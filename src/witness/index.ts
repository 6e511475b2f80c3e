// Public API of tilelog's witness (c2sp.org/tlog-witness): the add-checkpoint
// decision, its state store, and the HTTP app.

export { createWitnessApp, type WitnessAppOptions } from './app.js';
export { addCheckpointErrorResponse, witnessStatus } from './errors.js';
export { originHash } from './origin-hash.js';
export {
  MAX_PROOF_LINES,
  MAX_REQUEST_BYTES,
  formatAddCheckpointRequest,
  parseAddCheckpointRequest,
  type AddCheckpointRequest,
} from './request.js';
export { SqliteWitnessStore } from './sqlite-store.js';
export type {
  AdvanceResult,
  CosignedCheckpoint,
  EvidenceFilter,
  EvidenceInput,
  EvidenceReason,
  EvidenceRecord,
  HistoryRecord,
  LogConfig,
  WitnessStore,
} from './store.js';
export { OldSizeError, Witness, type LogStatus, type WitnessOptions } from './witness.js';
