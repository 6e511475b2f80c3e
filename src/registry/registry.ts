// Registry: the agent name registry as a thin submitter over a Log. Every
// change is a signed entry (entries/); the state index (state-index.ts) is a
// fold of the log's published entries through the rules (rules.ts).
//
// Writes go through a pipeline (write-pipeline.ts, whose header has the
// steps): many writes are in flight and share the log's batches and
// checkpoints. Each is admitted, one at a time, against the index plus the
// writes admitted before it and not yet published (overlay.ts); log.add
// makes it durable; once a checkpoint covers it the fold applies it, and its
// answer is the fold's outcome: success only when applied, 409 with the
// fold's reason when a leaf that reached the log around ours (POST /add
// bypasses admission) made it inapplicable.
// This file builds the entries: a change follows the newest head, published
// or pending, so concurrent changes of one agent chain by seq and prev.
// A crash after log.add leaves a durable entry the index has not applied;
// the next catch-up applies it. The registry's submitter key is added to the
// log by a self-signed key.added at the first start (the log's first
// registry entry).
//
// Key rotation (rotateKey, or open with nextKey), each step resumable:
//   1. key.added(next), signed by the current key (skipped if next is in);
//   2. from here on every entry is signed by next;
//   3. key.revoked(current, superseded), signed by next (skipped if done).
// A crash after 1 leaves both keys active: open with the same nextKey does 3.
// A crash after 3 leaves the old key revoked: open with nextKey signs with next.
// The index and every KeyHistory (key-history.ts) refuse an entry signed by
// the old key after step 3.

import { TilelogError } from '../errors.js';
import type { Hash } from '../merkle/hash.js';
import type { ProofBundle } from '../client/bundle.js';
import { encodeEntry, isAgentType, keySubject, type Entry, type SubmitterKey, type UnsignedEntry } from './entries/envelope.js';
import type { AgentBody, Endpoint, RevocationReason } from './entries/schema.js';
import { observedSubject, type CertObservedBody } from './entries/cert-schema.js';
import type { SubjectHead } from './rules.js';
import type { AgentState, StateIndex } from './state-index.js';
import { WritePipeline, type Plan } from './write-pipeline.js';
import type { Overlay } from './overlay.js';

/** The part of the engine's Log (src/log/index.ts) the registry uses. */
export interface RegistryLog {
  readonly origin: string;
  readonly verifierKey: string;
  add(entry: Uint8Array): Promise<{ index: number; duplicate: boolean }>;
  waitForCheckpoint(index: number, signal?: AbortSignal): Promise<CheckpointLike>;
  checkpoint(): CheckpointLike;
  entry(index: number): Promise<Uint8Array>;
  inclusionProof(index: number, size: number): Promise<Uint8Array[]>;
  lookup(leafHash: Uint8Array): Promise<number | null>;
}

export interface CheckpointLike {
  readonly size: number;
  readonly root: Uint8Array;
  readonly text: string;
}

export interface RegistryOptions {
  log: RegistryLog;
  index: StateIndex;
  /** The registry's submitter key: signs every entry the registry builds. */
  key: SubmitterKey;
  /** Label of the key in its key.added entry. Default 'tilelog registry'. */
  keyLabel?: string;
  /** A key to rotate to at open (see the header); key is the current one. */
  nextKey?: SubmitterKey;
  /** Clock in Unix seconds (the time claim). Default Date.now. */
  nowSeconds?: () => number;
  /** Longest wait for a checkpoint covering a new entry. Default 30000. */
  waitTimeoutMs?: number;
}

export interface WriteResult {
  index: number;
  leafHash: Hash;
  /** True when an identical entry was already applied at index. */
  duplicate: boolean;
  entry: Entry;
}

export class Registry {
  readonly log: RegistryLog;
  readonly index: StateIndex;
  #key: SubmitterKey;
  readonly #label: string;
  readonly #now: () => number;
  readonly #pipeline: WritePipeline;

  private constructor(o: RegistryOptions) {
    this.log = o.log;
    this.index = o.index;
    this.#key = o.key;
    this.#label = o.keyLabel ?? 'tilelog registry';
    this.#now = o.nowSeconds ?? (() => Math.floor(Date.now() / 1000));
    this.#pipeline = new WritePipeline(o.log, o.index, o.waitTimeoutMs ?? 30_000);
  }

  #rotatedAtOpen: { added: WriteResult | null; revoked: WriteResult | null } | null = null;

  /** What open's rotation to nextKey wrote (null: none, or found done before). */
  get rotatedAtOpen(): { added: WriteResult | null; revoked: WriteResult | null } | null {
    return this.#rotatedAtOpen;
  }

  /** The submitter key that signs the entries this registry builds. */
  get key(): SubmitterKey {
    return this.#key;
  }

  /**
   * Catches the index up with the log and makes sure the registry key is an
   * active submitter key; with nextKey, rotates to it (or finds it done).
   */
  static async open(o: RegistryOptions): Promise<Registry> {
    const r = new Registry(o);
    await r.catchUp();
    const next = o.nextKey;
    if (next !== undefined && r.index.key(next.kid)?.active === true && r.index.key(o.key.kid)?.active !== true) {
      r.#key = next; // the rotation finished before a restart
      return r;
    }
    await r.#ensureKey(o.key);
    if (next !== undefined) r.#rotatedAtOpen = await r.rotateKey(next);
    return r;
  }

  // The first start adds key with a self-signed key.added; later ones find it active.
  async #ensureKey(key: SubmitterKey): Promise<void> {
    const k = this.index.key(key.kid);
    if (k?.active) return;
    if (k !== null || this.index.keyCount() > 0) {
      throw new TilelogError(
        'REGISTRY_CONFIG',
        k === null
          ? `registry: submitter key ${key.kid} is not in the log; an active submitter key must add it (key.added, POST /v1/entries)`
          : `registry: submitter key ${key.kid} is revoked; if it was rotated out, start with the key it was rotated to`,
      );
    }
    const genesis: UnsignedEntry = {
      v: 1,
      type: 'key.added',
      subject: keySubject(key.kid),
      seq: 0,
      prev: null,
      time: this.#now(),
      kid: key.kid,
      body: { publicKey: key.publicKey, label: this.#label },
    };
    try {
      await this.submit(encodeEntry(genesis, key));
    } catch (err) {
      // Several processes of one log (PostgreSQL) sharing this key may start
      // at once: another one's key.added came first. That is as good as ours.
      if (!(err instanceof TilelogError && err.code === 'REGISTRY_CONFLICT')) throw err;
      await this.catchUp();
      if (this.index.key(key.kid)?.active !== true) throw err;
    }
  }

  /**
   * Rotates the submitter key to next (steps in the header). Meant for open,
   * before writes are served: a write signed by the old key that reaches the
   * log after step 3 is refused by the fold (409).
   */
  async rotateKey(next: SubmitterKey): Promise<{ added: WriteResult | null; revoked: WriteResult | null }> {
    await this.catchUp();
    const old = this.#key;
    if (old.kid === next.kid) throw new TilelogError('REGISTRY_CONFIG', `registry: the next submitter key is the current one (${old.kid})`);
    const known = this.index.key(next.kid);
    if (known !== null && !known.active) throw new TilelogError('REGISTRY_CONFIG', `registry: the next submitter key ${next.kid} was revoked; make a new one`);
    // 1.
    let added: WriteResult | null = null;
    if (known === null) {
      const e: UnsignedEntry = {
        v: 1, type: 'key.added', subject: keySubject(next.kid), seq: 0, prev: null, time: this.#now(), kid: old.kid,
        body: { publicKey: next.publicKey, label: this.#label },
      };
      added = await this.#pipeline.write<never>(() => ({ leaf: encodeEntry(e, old), signatureVerified: true }));
    }
    // 2.
    this.#key = next;
    // 3.
    let revoked: WriteResult | null = null;
    const subject = keySubject(old.kid);
    if (this.index.key(old.kid)?.active === true) {
      revoked = await this.#pipeline.write<never>((view) => {
        const head = view.head(subject)!;
        const e: UnsignedEntry = {
          v: 1, type: 'key.revoked', subject, seq: head.seq + 1, prev: head.leafHash, time: Math.max(this.#now(), head.entry.time), kid: next.kid,
          body: { reason: 'superseded' },
        };
        return this.#signed(e);
      });
    }
    return { added, revoked };
  }

  /** Applies every published leaf the index has not seen. */
  catchUp(): Promise<void> {
    return this.#pipeline.catchUp();
  }

  /** Admits and sequences one signed entry (write-pipeline.ts). */
  submit(leaf: Uint8Array): Promise<WriteResult> {
    return this.#pipeline.write<never>(() => ({ leaf }));
  }

  /**
   * Builds the entry during admission, from the state every admitted write
   * included (view), and submits it; the CA's revocations use it too.
   */
  write<T = never>(plan: (view: Overlay) => Plan<T>): Promise<WriteResult | T> {
    return this.#pipeline.write(plan);
  }

  /** Builds, signs and submits the next entry of an agent from its newest head. */
  change(name: string, type: Exclude<AgentEntryType, 'agent.registered'>, edit: (b: AgentBody) => AgentBody): Promise<WriteResult> {
    return this.#pipeline.write<never>((view) => {
      const cur = agentHead(view, name);
      // The reason belongs to the deprecated/revoked entry that set it, not to later ones.
      const { reason: _reason, ...rest } = structuredClone(cur.entry.body as AgentBody);
      return this.#signed(this.#successor(name, cur, type, edit(rest)));
    });
  }

  /** Registers a new agent (body already validated and normalised by the caller). */
  register(name: string, body: AgentBody): Promise<WriteResult> {
    const e: UnsignedEntry = { v: 1, type: 'agent.registered', subject: name, seq: 0, prev: null, time: this.#now(), kid: this.key.kid, body };
    return this.#pipeline.write<never>(() => this.#signed(e));
  }

  /**
   * Records a certificate seen elsewhere (cert.observed, signed by the registry
   * key; the body is built and checked by the caller). Idempotent: a certificate
   * already recorded answers with its entry (duplicate).
   */
  observe(body: CertObservedBody): Promise<WriteResult> {
    const subject = observedSubject(body.sha256);
    return this.#pipeline.write<WriteResult>((view) => {
      const pending = view.pendingHead(subject);
      if (pending !== null) return { waitFor: [pending] };
      const prior = this.index.observedCertificate(subject);
      if (prior !== null) return { answer: { index: prior.index, leafHash: prior.leafHash, duplicate: true, entry: prior.entry } };
      return this.#signed({ v: 1, type: 'cert.observed', subject, seq: 0, prev: null, time: this.#now(), kid: this.key.kid, body });
    });
  }

  rotate(name: string, publicKey: Uint8Array): Promise<WriteResult> {
    return this.change(name, 'agent.renewed', (b) => ({ ...b, publicKey }));
  }

  /** Replaces capabilities and/or endpoints: an agent.updated entry. */
  update(name: string, change: { capabilities?: string[]; endpoints?: Endpoint[] }): Promise<WriteResult> {
    return this.change(name, 'agent.updated', (b) => ({ ...b, ...change }));
  }

  /** Deprecates; idempotent: an already deprecated agent answers with its deprecation entry. */
  deprecate(name: string, reason?: string): Promise<WriteResult> {
    return this.#endState(name, 'agent.deprecated', reason);
  }

  /** Revokes; idempotent: an already revoked agent answers with its revocation entry. */
  revoke(name: string, reason: RevocationReason): Promise<WriteResult> {
    return this.#endState(name, 'agent.revoked', reason);
  }

  // deprecate and revoke: a head already of this type is the answer (duplicate), whatever its reason;
  // a pending one is waited for first, so the answer names a published entry.
  #endState(name: string, type: 'agent.deprecated' | 'agent.revoked', reason: string | undefined): Promise<WriteResult> {
    return this.#pipeline.write<WriteResult>((view) => {
      const cur = agentHead(view, name);
      if (cur.entry.type === type) {
        const pending = view.pendingHead(name);
        if (pending !== null) return { waitFor: [pending] };
        const a = this.requireAgent(name);
        return { answer: { index: a.headIndex, leafHash: a.leafHash, duplicate: true, entry: a.entry } };
      }
      const { reason: _old, ...rest } = structuredClone(cur.entry.body as AgentBody);
      const body = { ...rest, ...(reason !== undefined && { reason }) };
      return this.#signed(this.#successor(name, cur, type, body));
    });
  }

  // Signed here by the registry's own key, so admission need not verify it
  // again (write-pipeline.ts Plan); the fold of a rebuilt index still does.
  #signed(e: UnsignedEntry): Plan<never> {
    return { leaf: encodeEntry(e, this.key), signatureVerified: true };
  }

  // The next entry in name's chain: seq + 1, prev = the head's leaf hash, and a
  // time claim that never goes back before the head's.
  #successor(
    name: string,
    cur: { seq: number; leafHash: Uint8Array; entry: { time: number } },
    type: Exclude<AgentEntryType, 'agent.registered'>,
    body: AgentBody,
  ): UnsignedEntry {
    const time = Math.max(this.#now(), cur.entry.time);
    return { v: 1, type, subject: name, seq: cur.seq + 1, prev: cur.leafHash, time, kid: this.key.kid, body };
  }

  requireAgent(name: string): AgentState {
    const a = this.index.agent(name);
    if (a === null) throw new TilelogError('REGISTRY_NOT_FOUND', `registry: no agent ${name}`);
    return a;
  }

  /** The proof bundle (spec/BUNDLE.md) of the leaf at index in the latest checkpoint. */
  async bundle(index: number): Promise<ProofBundle> {
    const cp = this.log.checkpoint();
    const [entry, inclusionProof] = await Promise.all([this.log.entry(index), this.log.inclusionProof(index, cp.size)]);
    return { version: 1, index, entry, inclusionProof, checkpoint: cp.text };
  }

}

/** The newest head of an agent, published or pending (REGISTRY_NOT_FOUND if none). */
function agentHead(view: Overlay, name: string): SubjectHead {
  const h = view.head(name);
  if (h === null || !isAgentType(h.entry.type)) throw new TilelogError('REGISTRY_NOT_FOUND', `registry: no agent ${name}`);
  return h;
}

type AgentEntryType = import('./entries/envelope.js').AgentEntryType;
