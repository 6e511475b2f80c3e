// The public checkpoint writer: the ONLY code that writes `checkpoint` (the
// checkpointer's steps 0 and 5, the cosigner's publications and recovery's
// republish all come here). One per Log, never shared: it remembers the ETag
// of the version it last saw or wrote, and replaces the object only if the
// store still holds that version (TileStore.replaceIfMatch: S3 `If-Match`,
// and `If-None-Match: *` while there is none). So a stale or paused writer can
// never move the public checkpoint backwards: its write is refused.
//
// On a refusal (STORAGE_PRECONDITION) it reads what the store holds now and
// reconciles (judgePublic):
//   - one of this log's checkpoints that our database signed, no larger than
//     the one being published: adopt its ETag and retry (at most
//     MAX_ATTEMPTS writes per publication);
//   - a larger one, or one of this log whose (size, root) our database never
//     signed: another writer is ahead, or forked the log: stop (LOG_SUPERSEDED);
//   - another log's, or text that does not verify: stop (LOG_FOREIGN_TILES);
//   - none at all, after we had seen one: stop (LOG_CORRUPT).
// Stopped is final for this process: every later write throws the same error
// without touching the store, and onStopped tells the log once (its fatal
// path). Writes are serialized, so the log's own writes never race each other.
//
// States: open (etag: the version last seen or written, null: none yet) ->
// stopped (the error).

import { TilelogError, isTilelogError, type ErrorCode } from '../errors.js';
import type { Hash } from '../merkle/hash.js';
import { openCheckpoint, parseCheckpoint } from '../note/checkpoint.js';
import { formatKeyId, type NoteVerifier } from '../note/keys.js';
import { parseNote } from '../note/note.js';
import type { SequenceStore } from '../storage/log-store.js';
import { CHECKPOINT_PATH, type TileStore } from '../storage/tile-store.js';
import type { PublishedCheckpoint } from './publisher.js';
import { hashEqual, toHexSafe } from './util.js';

/** Write attempts per publication (the first plus reconciled retries). */
export const MAX_ATTEMPTS = 4;

/** Why a process stopped publishing (the `reason` label of tilelog_publication_stopped). */
export type PublicationStopReason = 'superseded' | 'foreign' | 'corrupt' | 'tile_conflict';
export const PUBLICATION_STOP_REASONS: readonly PublicationStopReason[] = ['superseded', 'foreign', 'corrupt', 'tile_conflict'];

/** This process stopped publishing the log for good (until restarted); the message says why and what to do. */
export class PublicationStoppedError extends TilelogError {
  readonly reason: PublicationStopReason;
  /** With a shared lease: a newer checkpoint this log's database signed replaced ours (the next leader's): a step-down, not a fault. */
  readonly byNewLeader: boolean;
  constructor(code: ErrorCode, reason: PublicationStopReason, message: string, options?: { cause?: unknown; byNewLeader?: boolean }) {
    super(code, message, options);
    this.name = 'PublicationStoppedError';
    this.reason = reason;
    this.byNewLeader = options?.byNewLeader ?? false;
  }
}

/** What a public checkpoint that is not ours says about itself (nothing verified). */
export interface ForeignCheckpoint {
  origin: string | null;
  size: number | null;
  /** `<name>+<key ID hex>` of each signature line. */
  signedBy: string[];
}

/** A public checkpoint judged against this log: its origin, key and database. */
export type PublicVerdict =
  /** Ours, and the database signed this (size, root). */
  | { kind: 'ours'; size: number; root: Hash }
  /** Our origin and a valid signature by our key, but the database has another root for size (known) or none (null). */
  | { kind: 'unsigned'; size: number; root: Hash; known: Hash | null }
  /** Another origin, no valid signature by our key, or not a checkpoint. */
  | { kind: 'foreign'; found: ForeignCheckpoint; cause: unknown };

// judgePublic(text): whose checkpoint text is, for this log (origin, key, store).
export async function judgePublic(text: string, origin: string, verifier: NoteVerifier, store: SequenceStore): Promise<PublicVerdict> {
  let size: number;
  let root: Hash;
  try {
    ({ size, root } = openCheckpoint(text, origin, [verifier]).checkpoint);
  } catch (err) {
    return { kind: 'foreign', found: describeForeign(text), cause: err };
  }
  const known = await store.rootForSize(size);
  if (known !== null && hashEqual(known, root)) return { kind: 'ours', size, root };
  return { kind: 'unsigned', size, root, known };
}

export function describeForeign(text: string): ForeignCheckpoint {
  try {
    const note = parseNote(text);
    const signedBy = note.signatures.map((s) => `${s.name}+${formatKeyId(s.keyId)}`);
    try {
      const c = parseCheckpoint(note.text);
      return { origin: c.origin, size: c.size, signedBy };
    } catch {
      return { origin: null, size: null, signedBy };
    }
  } catch {
    return { origin: null, size: null, signedBy: [] };
  }
}

/** "the tree of origin X, size N, signed by K" or "a checkpoint that does not parse". */
export function describeClaims(found: ForeignCheckpoint): string {
  if (found.origin === null) return 'a checkpoint that does not parse';
  const by = found.signedBy.length > 0 ? found.signedBy.join(', ') : 'no key';
  return `the tree of origin ${found.origin}, size ${found.size}, signed by ${by}`;
}

export interface PublicCheckpointConfig {
  tiles: TileStore;
  store: SequenceStore;
  origin: string;
  /** The log's verifier (checks what the store holds). */
  verifier: NoteVerifier;
  /** The log's verifier key string, for messages. */
  verifierKey: string;
  /** Called once when this writer stops publishing (the log's fatal path). */
  onStopped?(err: TilelogError): void;
  /** Called after each refused write that was reconciled and retried (a warning, metrics). */
  onReconciled?(found: number, publishing: number): void;
  /** Several processes take turns leading (a shared lease): a newer checkpoint of ours means the next leader published. */
  shared?: boolean;
}

export class PublicCheckpoint {
  readonly #cfg: PublicCheckpointConfig;
  #etag: string | null = null;
  /** The largest size this process wrote or adopted: it never writes a smaller one. */
  #floor = 0;
  #stopped: TilelogError | null = null;
  #queue: Promise<unknown> = Promise.resolve();
  readonly counters = { writes: 0, reconciled: 0 };

  constructor(cfg: PublicCheckpointConfig) {
    this.#cfg = cfg;
  }

  /** Recovery: the version the store held at open (null: none) and its size if it is ours. */
  seed(etag: string | null, size: number | null): void {
    this.#etag = etag;
    this.#floor = Math.max(this.#floor, size ?? 0);
  }

  /** The ETag this writer will present next (null: it expects no object). */
  get etag(): string | null {
    return this.#etag;
  }

  /** Why this writer stopped, or null while it publishes. */
  get stopped(): TilelogError | null {
    return this.#stopped;
  }

  // stop(err): no write ever again (the log failed, or reconciling decided so).
  // Idempotent; tells onStopped once.
  stop(err: TilelogError): void {
    if (this.#stopped !== null) return;
    this.#stopped = err;
    this.#cfg.onStopped?.(err);
  }

  /** Make cp (committed to the DB; its tiles exist) the public checkpoint. Serialized; throws the stop error once stopped. */
  write(cp: PublishedCheckpoint): Promise<PublishedCheckpoint> {
    const next = this.#queue.then(() => this.#write(cp));
    this.#queue = next.catch(() => undefined);
    return next;
  }

  async #write(cp: PublishedCheckpoint): Promise<PublishedCheckpoint> {
    if (cp.size < this.#floor) {
      throw new Error(`log: bad math: publishing size ${cp.size} after size ${this.#floor}`);
    }
    const data = new TextEncoder().encode(cp.text);
    for (let attempt = 1; ; attempt++) {
      if (this.#stopped !== null) throw this.#stopped;
      try {
        this.#etag = await this.#cfg.tiles.replaceIfMatch(CHECKPOINT_PATH, data, this.#etag);
        this.#floor = cp.size;
        this.counters.writes++;
        return { size: cp.size, root: cp.root, text: cp.text };
      } catch (err) {
        if (!isTilelogError(err, 'STORAGE_PRECONDITION')) throw err;
      }
      const found = await this.#cfg.tiles.readWithEtag(CHECKPOINT_PATH);
      if ((found?.etag ?? null) === this.#etag) throw staleRead(this.#cfg.tiles.description, this.#etag);
      const size = await this.#reconcile(cp, found?.data ?? null, attempt);
      this.#etag = found?.etag ?? null;
      this.counters.reconciled++;
      this.#cfg.onReconciled?.(size, cp.size);
    }
  }

  // #reconcile: the store refused our version; found is what it holds now.
  // Returns the size found when we may retry over it; otherwise stops and throws.
  async #reconcile(cp: PublishedCheckpoint, found: Uint8Array | null, attempt: number): Promise<number> {
    const { origin, verifier, store, tiles } = this.#cfg;
    const where = tiles.description;
    if (found === null) {
      this.#halt('LOG_CORRUPT', 'corrupt', `the public checkpoint vanished from ${where} while this process was publishing size ${cp.size} (deleted, or the store was emptied). ${RESTART}`);
    }
    const text = new TextDecoder().decode(found);
    const v = await judgePublic(text, origin, verifier, store);
    const keyId = this.#cfg.verifierKey.split('+').slice(0, 2).join('+');
    if (v.kind === 'foreign') {
      this.#halt(
        'LOG_FOREIGN_TILES',
        'foreign',
        `${where} now holds ${describeClaims(v.found)}, but this process is the log of origin ${origin}, key ${keyId}: ` +
          `another log writes to the same store. Give each log its own tiles directory or bucket prefix, then restart this one`,
        v.cause,
      );
    }
    if (v.size > cp.size && v.kind === 'ours' && this.#cfg.shared === true) {
      this.#halt(
        'LOG_SUPERSEDED',
        'superseded',
        `another process leads now: it published a newer checkpoint of this log in ${where} (size ${v.size}; this term was publishing size ${cp.size})`,
        undefined,
        true,
      );
    }
    if (v.size > cp.size) {
      this.#halt('LOG_SUPERSEDED', 'superseded', `another writer published a newer checkpoint of this log in ${where} (size ${v.size}; this process was publishing size ${cp.size})${ONE_WRITER}`);
    }
    if (v.kind === 'unsigned') {
      const what = v.known === null ? `size ${v.size}, which this process's database never signed` : `root ${toHexSafe(v.root)} for size ${v.size}, which this process's database signed with root ${toHexSafe(v.known)}`;
      this.#halt(
        'LOG_SUPERSEDED',
        'superseded',
        `another writer published a checkpoint of this log in ${where} with ${what} (the log was forked)${ONE_WRITER}`,
      );
    }
    if (attempt >= MAX_ATTEMPTS) {
      this.#halt('LOG_SUPERSEDED', 'superseded', `another writer keeps replacing the checkpoint in ${where} (${attempt} writes refused while publishing size ${cp.size})${ONE_WRITER}`);
    }
    return v.size;
  }

  #halt(code: ErrorCode, reason: PublicationStopReason, why: string, cause?: unknown, byNewLeader = false): never {
    const err = byNewLeader
      ? new PublicationStoppedError(code, reason, `log: ${why}`, { byNewLeader })
      : new PublicationStoppedError(code, reason, `log: this process stopped publishing: ${why}`, cause === undefined ? undefined : { cause });
    this.stop(err);
    throw err;
  }
}

// staleRead: the store refused our write as not at ETag etag (null: as not
// absent), then a read returned that very version (or no object): the read
// lags the store's writes (an eventually consistent store or a cache
// between), or the object was deleted and re-created meanwhile. That says
// nothing about another writer, so it is a transient failure of this pass
// (retried with backoff; at open, the open fails with "retry later"), never a
// reason to stop publishing.
function staleRead(where: string, etag: string | null): TilelogError {
  const version = etag === null ? 'absent' : `at version ${etag}`;
  return new TilelogError(
    'STORAGE_UNAVAILABLE',
    `log: ${where} refused the checkpoint write because the checkpoint was not ${version}, yet reading it back shows it ${version}: its reads lag its writes; retry later`,
  );
}

const ONE_WRITER =
  '. Only one process may write a log: look for a second tilelog process on this log, or a restored copy of its state directory ' +
  '(the newest state wins; stop the others), then restart this one';
const RESTART = 'Check that only one process writes this log, then restart it: recovery republishes the checkpoint from the state database';
