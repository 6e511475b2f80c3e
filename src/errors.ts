// Named errors for tilelog. This module imports nothing, so every layer
// (including the browser-safe client) can use it.
//
// Caller mistakes and bad input throw TilelogError with a stable code; the
// HTTP layer maps codes to statuses in one table. Broken internal invariants
// throw a plain Error('<module>: bad math ...'): a bug gets no code.

export type ErrorCode =
  // merkle: pure tree math and tile layout
  | 'MERKLE_RANGE' // an index or size out of range, or beyond 2^53-1
  | 'MERKLE_BAD_HASH' // a hash that is not 32 bytes
  | 'MERKLE_PROOF_INVALID' // a proof that does not verify
  | 'MERKLE_BAD_BUNDLE' // an entry bundle that does not parse
  | 'MERKLE_BAD_ENCODING' // hex or base64 text that is not canonical
  | 'LAYOUT_BAD_PATH' // a non-canonical or invalid tile path
  // note: signed notes, keys, checkpoints
  | 'NOTE_MALFORMED' // a note or checkpoint that does not parse
  | 'NOTE_BAD_SIGNATURE' // a known key's signature did not verify
  | 'NOTE_UNVERIFIED' // no signature from a known key
  | 'NOTE_BAD_KEY' // a key string that does not parse or whose ID mismatches
  | 'NOTE_AMBIGUOUS_KEY' // two verifiers with the same name and ID
  | 'NOTE_WRONG_ORIGIN' // a checkpoint for another log (origin line differs)
  | 'NOTE_BAD_POLICY' // a tlog-policy text that does not parse or breaks a rule
  // log: the engine
  | 'LOG_ENTRY_SIZE' // an entry outside 1..65535 bytes
  | 'LOG_PUSHBACK' // too many pending entries; retry later
  | 'LOG_CLOSED' // the log is shut down
  | 'LOG_NOT_FOUND' // no such entry, size or checkpoint
  | 'LOG_FORK' // an attempt to sign a second root for a size, or a smaller tree
  | 'LOG_CORRUPT' // stored state contradicts itself; refuse to run
  | 'LOG_FOREIGN_TILES' // the tiles directory holds another log's tree; refuse to write to it
  | 'LOG_SUPERSEDED' // another writer published a newer (or forked) checkpoint of this log; this process stopped publishing
  | 'LOG_UNKNOWN_OUTCOME' // the state store failed mid-commit: the entries may have been stored; retry (503; with dedup the retry gets the stored index)
  | 'LOG_NOT_LEADER' // this process lost (or never held) the signer lease: another one signs now; retry (503)
  | 'LOG_CONFIG' // invalid configuration
  // storage
  | 'STORAGE_CONFLICT' // an immutable object exists with other bytes
  | 'STORAGE_IO' // an I/O failure
  | 'STORAGE_PRECONDITION' // a conditional replace found another version of the object (someone else wrote it)
  | 'STORAGE_NO_CONDITIONAL_WRITES' // an object store that ignores If-None-Match / If-Match; refuse to write to it
  | 'STORAGE_UNSAFE_PATH' // a symlink or non-directory on the way to a file the store would write
  | 'STORAGE_LOCKED' // another process (or open) holds the state directory's lock
  | 'STORAGE_UNAVAILABLE' // the disk is full, read-only or failing (ENOSPC, EIO, EDQUOT, EROFS, SQLITE_FULL, SQLITE_IOERR); retry later (503)
  // signer: private keys in files or PKCS#11 tokens (src/note/signer.ts, src/hsm)
  | 'SIGNER_CONFIG' // a key that cannot be used: a bad pkcs11: URI, no such token or key, a wrong PIN, a missing module (refuse to start)
  | 'SIGNER_UNAVAILABLE' // the key cannot sign right now (token removed, session lost); nothing was signed; retry later (503)
  // witness: c2sp.org/tlog-witness add-checkpoint answers (PROTOCOLS.md 6.1)
  | 'WITNESS_BAD_REQUEST' // a malformed add-checkpoint body, or old > size (400)
  | 'WITNESS_UNKNOWN_LOG' // the checkpoint's origin is not configured (404)
  | 'WITNESS_UNVERIFIED' // no valid signature by the log's key, or a known key's fails (403)
  | 'WITNESS_OLD_SIZE' // old is not the size last cosigned for the origin (409)
  | 'WITNESS_INCONSISTENT' // bad consistency proof, or another root at a cosigned size (422)
  | 'WITNESS_CONFIG' // invalid witness configuration (a log key that does not parse, ...)
  // client: the verifier SDK (src/client); each code names the step that failed
  | 'CLIENT_BAD_POLICY' // a trust policy that is incomplete or contradicts itself
  | 'CLIENT_BUNDLE_DECODE' // a proof bundle that does not decode (version, field, type)
  | 'CLIENT_CHECKPOINT_SIGNATURE' // no valid log signature, a bad one, a wrong origin or a malformed note
  | 'CLIENT_CHECKPOINT_QUORUM' // fewer than the required distinct valid witness cosignatures
  | 'CLIENT_CHECKPOINT_FUTURE' // a cosignature timestamp beyond the allowed clock skew
  | 'CLIENT_CHECKPOINT_AGE' // the newest cosignature is older than the policy's maximum age
  | 'CLIENT_BUNDLE_INCLUSION' // the entry is not proven included in the checkpoint
  | 'CLIENT_INCONSISTENT' // two checkpoints that are not consistent (or a rollback)
  | 'CLIENT_TILE_INVALID' // a tile or entry bundle that does not match the signed root
  | 'CLIENT_NOT_FOUND' // the server has no such checkpoint, tile or entry (404)
  | 'CLIENT_FETCH' // a network failure or an unexpected HTTP status
  // monitor: alerts name what a watched log got wrong (spec/MONITOR.md)
  | 'MONITOR_SPLIT_VIEW' // another source shows a checkpoint of the same log that is not consistent with ours
  | 'MONITOR_ROLLBACK' // the log now shows a smaller tree than one it signed before
  | 'MONITOR_BAD_SIGNATURE' // the checkpoint is malformed, for another origin, or not validly signed by the log key
  | 'MONITOR_QUORUM' // too few valid witness cosignatures (or one dated in the future)
  | 'MONITOR_TILE_MISMATCH' // a hash tile does not hash to its parent tile or to the signed root
  | 'MONITOR_BUNDLE_MISMATCH' // an entry bundle's leaf hashes differ from the authenticated hash tile
  | 'MONITOR_INCONSISTENT' // the new checkpoint is not consistent with the one trusted before (fork)
  | 'MONITOR_REGISTRY_SIGNER' // a registry entry signed by a key that was not an active submitter key at its index (a finding: the audit goes on)
  | 'MONITOR_REGISTRY_KEY' // a registry key entry the index skips (added twice, revoked twice, out of chain) (a finding)
  | 'MONITOR_FETCH' // the log could not be reached, or a checkpointed tile or bundle is missing
  | 'MONITOR_STATE' // the state directory is unreadable or belongs to another log
  // registry: the agent name registry (spec/ENTRIES.md, spec/REGISTRY.md)
  | 'REGISTRY_BAD_ENTRY' // an entry that is not canonical CBOR, of an unknown version or type, or whose body breaks its schema (400)
  | 'REGISTRY_BAD_NAME' // an ANS name or alias outside the grammar (400)
  | 'REGISTRY_BAD_REQUEST' // a malformed registry API request (400)
  | 'REGISTRY_UNAUTHORIZED' // a write without a known API key (401)
  | 'REGISTRY_FORBIDDEN' // a known API key acting on another owner's agent (403)
  | 'REGISTRY_SIGNATURE' // an entry signed by an unknown or revoked submitter key, or a bad signature (403)
  | 'REGISTRY_NOT_FOUND' // no such agent or key (404)
  | 'REGISTRY_CONFLICT' // prev/seq is not the subject's head, the name or alias is taken, or the change is not allowed in this state (409)
  | 'REGISTRY_DNS_FAILED' // the _ans-challenge TXT record is missing, wrong, or the name does not exist (422)
  | 'REGISTRY_RATE_LIMITED' // too many writes for this API key or address (429 + Retry-After)
  | 'REGISTRY_DNS_UNAVAILABLE' // the DNS resolver timed out or failed; retry later (503)
  | 'REGISTRY_CONFIG' // invalid registry configuration
  // ca: the private certificate authority (spec/CA.md)
  | 'CA_BAD_CSR' // a CSR that does not parse, whose signature does not verify, or with an unsupported key (400)
  | 'CA_BAD_REQUEST' // a malformed certificate, chain or OCSP request (400)
  | 'CA_CONFIG' // CA keys or certificates that do not load or do not match
  | 'CA_UNAUTHORIZED' // a CA admin request without a known admin key (401)
  | 'CA_FORBIDDEN' // a CA admin request with a key that is not an admin key (a registry API key) (403)
  | 'CA_ROTATION_CONFLICT' // another rotation of the intermediate is running, or won (409)
  | 'CA_NOT_FOUND' // no such intermediate, or a retired one no longer served (every certificate it issued expired) (404)
  | 'CA_KEY_UNAVAILABLE' // this process lacks the key of a logged intermediate (another process rotated): copy the files (503)
  // http
  | 'HTTP_BAD_REQUEST'
  | 'HTTP_NOT_FOUND'
  | 'HTTP_TOO_LARGE'
  | 'HTTP_METHOD';

export class TilelogError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TilelogError';
    this.code = code;
  }
}

/** True when err is a TilelogError, optionally with the given code. */
export function isTilelogError(err: unknown, code?: ErrorCode): err is TilelogError {
  return err instanceof TilelogError && (code === undefined || err.code === code);
}
