// Public API of tilelog's note package: Go-compatible note keys, signed notes,
// checkpoints and cosignature/v1. Pure and browser-safe (no node: imports).

export {
  KEY_TYPE_COSIGNATURE_V1,
  KEY_TYPE_ED25519,
  MAX_KEY_NAME_BYTES,
  formatKeyId,
  formatVerifierKey,
  generateSignerKey,
  isValidKeyName,
  keyId,
  noteSigner,
  parseSignerKey,
  parseVerifierKey,
  signerKeyType,
} from './keys.js';
export type { Ed25519Signer, Ed25519Verifier, KeyPair, NoteSigner, NoteVerifier } from './keys.js';
export { seedSigner } from './signer.js';
export type { Signer } from './signer.js';

export {
  MAX_NOTE_SIGNATURES,
  MAX_NOTE_SIZE,
  formatNote,
  formatSignatureLine,
  openNote,
  parseNote,
  signNote,
  verifyNote,
} from './note.js';
export type { Note, NoteSignature, OpenedNote } from './note.js';

export { formatCheckpoint, openCheckpoint, parseCheckpoint, signCheckpoint } from './checkpoint.js';
export type { Checkpoint, OpenedCheckpoint } from './checkpoint.js';

export {
  MAX_COSIGNATURE_TIMESTAMP,
  cosignatureMessage,
  cosignatureSigner,
  generateCosignerKey,
  parseCosignature,
  parseCosignatureVerifierKey,
  parseCosignerKey,
} from './cosignature.js';
export type { CosignatureSigner, CosignatureVerifier, CosignerKeyOptions, CosignerOptions } from './cosignature.js';

export { MAX_POLICY_ITEMS, cosignersOf, formatPolicy, parsePolicy, policySatisfied, simplePolicy } from './policy.js';
export type { PolicyGroup, PolicyLog, PolicyWitness, WitnessPolicy } from './policy.js';
