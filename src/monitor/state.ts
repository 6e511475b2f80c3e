// The monitor's durable state, <state>/state.json, and its lock.
//
//   {"version":1, "origin":..., "logKey":..., "trusted":<note>|null,
//    "audited":<n>, "edge":"<b64>", "updatedAt":<iso>,
//    "registryKeys":<KeyHistoryJson>}          (with a registry watch only)
//
// trusted  the newest checkpoint whose log signature, cosignature quorum,
//          consistency with the one trusted before and agreement with the
//          compare sources all checked out. Never replaced by one that failed.
// audited  entries [0, audited) were downloaded and each matched its leaf
//          hash in tiles authenticated against a trusted root; audited <=
//          the trusted size. Never advanced past an entry that failed.
// edge     the right edge of the tree of those entries (merkle TreeEdge
//          bytes: the hashes of every level's partial tile, < 8 KiB), so the
//          audit resumes without downloading a single audited bundle again
//          and recomputes each new root from entries alone.
// registryKeys  the submitter keys folded from entries [0, audited)
//          (registry-watch.ts); saved with the edge, so they move together.
//
// Writes are atomic: the JSON goes to state.json.tmp, is fsynced, renamed over
// state.json, and the directory fsynced. A crash leaves the old or the new
// state, never a mix. state.lock (storage/state-lock.ts, a kernel lock
// released when its process dies) keeps a second monitor off the directory.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { TilelogError } from '../errors.js';
import { fromBase64Strict, toBase64, TreeEdge } from '../merkle/index.js';
import { openCheckpoint, parseVerifierKey, type Checkpoint } from '../note/index.js';
import { takeStateLock } from '../storage/state-lock.js';
import { KeyHistory, type KeyHistoryJson } from '../registry/key-history.js';

export const STATE_VERSION = 1;

export interface MonitorState {
  origin: string;
  logKey: string;
  /** The trusted signed note, or null before the first good poll. */
  trusted: string | null;
  /** Its parsed checkpoint (not stored; derived on load). */
  trustedCheckpoint: Checkpoint | null;
  /** The audit's right edge; edge.size = entries audited. */
  edge: TreeEdge;
  /** The registry watch's key history, or null when the state has none. */
  registryKeys?: KeyHistory | null;
}

interface StateFile {
  version: number;
  origin: string;
  logKey: string;
  trusted: string | null;
  audited: number;
  edge: string;
  updatedAt: string;
  registryKeys?: KeyHistoryJson;
}

function stateError(message: string, cause?: unknown): TilelogError {
  return new TilelogError('MONITOR_STATE', message, cause === undefined ? undefined : { cause });
}

export class StateStore {
  readonly dir: string;
  readonly #file: string;
  readonly #lock: string;
  #release: (() => void) | null = null;

  constructor(dir: string) {
    this.dir = path.resolve(dir);
    this.#file = path.join(this.dir, 'state.json');
    this.#lock = path.join(this.dir, 'state.lock');
  }

  /** Creates the directory and takes the lock. MONITOR_STATE if another live monitor holds it. */
  lock(): void {
    fs.mkdirSync(this.dir, { recursive: true });
    let lock;
    try {
      lock = takeStateLock(this.#lock);
    } catch (err) {
      throw stateError(`cannot lock ${this.#lock}: ${(err as Error).message}`, err);
    }
    if ('heldBy' in lock) {
      throw stateError(`another monitor (${lock.heldBy === null ? 'pid unknown' : `pid ${lock.heldBy}`}) uses ${this.dir}; stop it or pick another --state`);
    }
    this.#release = lock.release;
  }

  unlock(): void {
    const release = this.#release;
    this.#release = null;
    release?.();
  }

  /**
   * Loads the state for this log, or a fresh one. MONITOR_STATE when the file
   * is unreadable or belongs to another origin or key (re-verified here).
   */
  load(origin: string, logKey: string): MonitorState {
    let raw: string;
    try {
      raw = fs.readFileSync(this.#file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { origin, logKey, trusted: null, trustedCheckpoint: null, edge: TreeEdge.empty(), registryKeys: null };
      throw stateError(`cannot read ${this.#file}: ${(err as Error).message}`, err);
    }
    let f: StateFile;
    try {
      f = JSON.parse(raw) as StateFile;
    } catch (err) {
      throw stateError(`${this.#file} is not JSON; move it away to start over`, err);
    }
    if (f.version !== STATE_VERSION) throw stateError(`${this.#file} has version ${String(f.version)}, this monitor reads ${STATE_VERSION}`);
    if (f.origin !== origin || f.logKey !== logKey) {
      throw stateError(`${this.dir} holds the state of ${JSON.stringify(f.origin)} (key ${f.logKey}), not of this log; pick another --state`);
    }
    let trustedCheckpoint: Checkpoint | null = null;
    let edge: TreeEdge;
    let registryKeys: KeyHistory | null = null;
    try {
      if (f.registryKeys !== undefined) registryKeys = KeyHistory.fromJSON(f.registryKeys);
      if (f.trusted !== null) trustedCheckpoint = openCheckpoint(f.trusted, origin, [parseVerifierKey(logKey)]).checkpoint;
      const bytes = fromBase64Strict(f.edge);
      if (!Number.isSafeInteger(f.audited) || f.audited < 0 || f.audited > (trustedCheckpoint?.size ?? 0)) throw new Error(`audited ${f.audited} is beyond the trusted size`);
      edge = TreeEdge.fromBytes(f.audited, bytes);
    } catch (err) {
      throw stateError(`${this.#file} does not check out (${(err as Error).message}); move it away to start over`, err);
    }
    return { origin, logKey, trusted: f.trusted, trustedCheckpoint, edge, registryKeys };
  }

  /** Writes the state atomically (temp file, fsync, rename, fsync of the directory). */
  save(state: MonitorState, now: Date = new Date()): void {
    const f: StateFile = {
      version: STATE_VERSION,
      origin: state.origin,
      logKey: state.logKey,
      trusted: state.trusted,
      audited: state.edge.size,
      edge: toBase64(state.edge.toBytes()),
      updatedAt: now.toISOString(),
      ...(state.registryKeys != null && { registryKeys: state.registryKeys.toJSON() }),
    };
    const tmp = `${this.#file}.tmp`;
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeSync(fd, `${JSON.stringify(f)}\n`);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, this.#file);
    const dfd = fs.openSync(this.dir, 'r');
    try {
      fs.fsyncSync(dfd);
    } finally {
      fs.closeSync(dfd);
    }
  }
}
