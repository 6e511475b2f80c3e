// Overlay: the state admission checks against while writes are in flight:
// the state index (the fold of published leaves) plus, in admission order,
// every write admitted but not yet applied by the fold. It implements the
// rules' StateView, so the rules (rules.ts) judge a new write as if every
// write admitted before it had already been applied.
//
// The overlay is a prediction, never an answer: the answer to a write is
// always its outcome in the fold (state-index.ts). It is derived, not
// maintained: rebuild() replays the writes still pending over the current
// index through checkTransition, so a leaf that reached the log between ours
// (raw POST /add, another submitter) is accounted for as soon as the fold
// has applied it: a pending write it made inapplicable stops contributing
// (doomed) and later admissions no longer see its effect.
//
// What an applied entry changes in a StateView, mirrored from
// StateIndex.#write: the subject's head; key.added adds an active key
// (keyCount + 1); key.revoked deactivates one; agent.registered with an
// alias takes that alias.

import { TilelogError } from '../errors.js';
import { hashEqual } from '../merkle/hash.js';
import { keyIdOf, type Entry } from './entries/envelope.js';
import { checkTransition, type StateView, type SubjectHead } from './rules.js';

/** One write admitted by the pipeline and not yet applied by the fold. */
export class PendingWrite {
  /** Log index once durable (set when log.add resolves). */
  index: number | null = null;
  /** True when a rebuild found it inapplicable over the newer state: the fold will skip it. */
  doomed = false;
  #settled = false;
  #settle!: () => void;
  /** Resolves once the fold applied (or skipped) it, or it never reached the log. */
  readonly settled = new Promise<void>((r) => (this.#settle = r));
  /** The index once durable; null when log.add failed (addError says why). Never rejects. */
  readonly durable: Promise<number | null>;
  addError: unknown = null;

  constructor(
    readonly entry: Entry,
    readonly leafHash: Uint8Array,
    added: Promise<{ index: number }>,
  ) {
    this.durable = added.then(
      (r) => (this.index = r.index),
      (err: unknown) => ((this.addError = err), null),
    );
  }

  get isSettled(): boolean {
    return this.#settled;
  }

  settle(): void {
    this.#settled = true;
    this.#settle();
  }
}

type KeyView = { publicKey: Uint8Array; active: boolean };

export class Overlay implements StateView {
  #pending: PendingWrite[] = [];
  #heads = new Map<string, { head: SubjectHead; by: PendingWrite }>();
  #keys = new Map<string, KeyView>();
  #aliases = new Map<string, string>();
  #addedKeys = 0;
  #activeDelta = 0;

  constructor(private readonly base: StateView) {}

  // ---- StateView ----
  head(subject: string): SubjectHead | null {
    return this.#heads.get(subject)?.head ?? this.base.head(subject);
  }
  keyCount(): number {
    return this.base.keyCount() + this.#addedKeys;
  }
  activeKeyCount(): number {
    return this.base.activeKeyCount() + this.#activeDelta;
  }
  key(kid: string): KeyView | null {
    return this.#keys.get(kid) ?? this.base.key(kid);
  }
  aliasHolder(alias: string): string | null {
    return this.#aliases.get(alias) ?? this.base.aliasHolder(alias);
  }

  /** The pending write that set subject's head, or null when its head is published (or absent). */
  pendingHead(subject: string): PendingWrite | null {
    return this.#heads.get(subject)?.by ?? null;
  }

  /** A pending write of this exact leaf, or null. */
  pendingLeaf(leafHash: Uint8Array): PendingWrite | null {
    return this.#pending.find((p) => hashEqual(p.leafHash, leafHash)) ?? null;
  }

  /** Writes admitted and not yet settled, in admission (= log) order. */
  get pending(): readonly PendingWrite[] {
    return this.#pending;
  }

  /**
   * Checks e against the overlay; throws the rule's TilelogError. When it
   * passes, commit() the pending write in the same synchronous step that
   * hands the leaf to the log, so admission order and log order agree.
   */
  check(e: Entry, o: { signatureVerified?: boolean } = {}): void {
    checkTransition(this, e, o);
  }

  commit(p: PendingWrite): void {
    this.#pending.push(p);
    this.#effect(p);
  }

  /**
   * Forgets settled writes and replays the rest over the index as it is now.
   * Called after every fold pass and when an add fails: O(pending) rule
   * checks with signatures already verified (checkTransition's flag).
   */
  rebuild(): void {
    this.#pending = this.#pending.filter((p) => !p.isSettled);
    this.#heads.clear();
    this.#keys.clear();
    this.#aliases.clear();
    this.#addedKeys = 0;
    this.#activeDelta = 0;
    for (const p of this.#pending) {
      try {
        checkTransition(this, p.entry, { signatureVerified: true });
        p.doomed = false;
        this.#effect(p);
      } catch (err) {
        if (!(err instanceof TilelogError)) throw err;
        p.doomed = true;
      }
    }
  }

  #effect(p: PendingWrite): void {
    const e = p.entry;
    this.#heads.set(e.subject, { head: { seq: e.seq, leafHash: p.leafHash, time: e.time, entry: e }, by: p });
    if (e.type === 'key.added') {
      this.#keys.set(keyIdOf(e.body.publicKey), { publicKey: e.body.publicKey, active: true });
      this.#addedKeys++;
      this.#activeDelta++;
    } else if (e.type === 'key.revoked') {
      const kid = e.subject.slice('key:'.length);
      const k = this.key(kid);
      if (k !== null) this.#keys.set(kid, { publicKey: k.publicKey, active: false });
      this.#activeDelta--;
    } else if (e.type === 'agent.registered' && e.body.alias !== undefined) {
      this.#aliases.set(e.body.alias, e.subject);
    }
  }
}
