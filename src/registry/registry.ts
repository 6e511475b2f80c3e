// Registry: the agent name registry as a thin submitter over a Log. Every
// change is a signed entry (entries/); the state index (state-index.ts) is a
// fold of the log's published entries through the rules (rules.ts).
//
// One write, serialised with every other write of this registry:
//   1. catch up: apply published leaves [index.nextIndex, checkpoint.size);
//   2. admission: decode (canonical CBOR, schema), an identical leaf already
//      applied is answered with its index (dedup), then the rules against the
//      caught-up state; any refusal is a 4xx and nothing is written;
//   3. log.add: durable once it resolves;
//   4. wait for a checkpoint covering it, then catch up again: the entry is
//      applied by the same fold as any other leaf;
//   5. if a leaf that reached the log around ours (POST /add bypasses
//      admission) made ours inapplicable, answer 409 with the reason.
// A crash after 3 leaves a durable entry the index has not applied; the next
// catch-up applies it. The registry's submitter key is added to the log by a
// self-signed key.added at the first start (the log's first registry entry).

import { TilelogError } from '../errors.js';
import { leafHash, type Hash } from '../merkle/hash.js';
import type { ProofBundle } from '../client/bundle.js';
import { decodeEntry, encodeEntry, keySubject, type Entry, type SubmitterKey, type UnsignedEntry } from './entries/envelope.js';
import type { AgentBody, Endpoint, RevocationReason } from './entries/schema.js';
import { observedSubject, type CertObservedBody } from './entries/cert-schema.js';
import { checkTransition } from './rules.js';
import type { AgentState, StateIndex } from './state-index.js';

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
  readonly key: SubmitterKey;
  readonly #now: () => number;
  readonly #waitTimeoutMs: number;
  #tail: Promise<unknown> = Promise.resolve();

  private constructor(o: RegistryOptions) {
    this.log = o.log;
    this.index = o.index;
    this.key = o.key;
    this.#now = o.nowSeconds ?? (() => Math.floor(Date.now() / 1000));
    this.#waitTimeoutMs = o.waitTimeoutMs ?? 30_000;
  }

  /** Catches the index up with the log and makes sure the registry key is an active submitter key. */
  static async open(o: RegistryOptions): Promise<Registry> {
    const r = new Registry(o);
    await r.catchUp();
    const k = r.index.key(o.key.kid);
    if (k?.active) return r;
    if (k !== null || r.index.keyCount() > 0) {
      throw new TilelogError(
        'REGISTRY_CONFIG',
        `registry: submitter key ${o.key.kid} is ${k === null ? 'not in the log' : 'revoked'}; an active submitter key must add it (key.added, POST /v1/entries)`,
      );
    }
    const genesis: UnsignedEntry = {
      v: 1,
      type: 'key.added',
      subject: keySubject(o.key.kid),
      seq: 0,
      prev: null,
      time: r.#now(),
      kid: o.key.kid,
      body: { publicKey: o.key.publicKey, label: o.keyLabel ?? 'tilelog registry' },
    };
    await r.submit(encodeEntry(genesis, o.key));
    return r;
  }

  /** Applies every published leaf the index has not seen. */
  async catchUp(): Promise<void> {
    const size = this.log.checkpoint().size;
    if (this.index.nextIndex > size) {
      throw new TilelogError('REGISTRY_CONFIG', `registry: the index has applied ${this.index.nextIndex} leaves but the log has ${size}; it belongs to another log: delete it to rebuild`);
    }
    for (let i = this.index.nextIndex; i < size; i++) {
      const leaf = await this.log.entry(i);
      this.index.apply(i, leaf, leafHash(leaf));
    }
  }

  /** Admits and sequences one signed entry (the steps in the header). */
  submit(leaf: Uint8Array): Promise<WriteResult> {
    return this.#serial(() => this.#submit(leaf));
  }

  async #submit(leaf: Uint8Array): Promise<WriteResult> {
    // 1. Catch up.
    await this.catchUp();
    // 2. Admission.
    const entry = decodeEntry(leaf);
    const lh = leafHash(leaf);
    const earlier = await this.log.lookup(lh);
    if (earlier !== null && this.index.outcome(earlier)?.applied === true) {
      return { index: earlier, leafHash: lh, duplicate: true, entry };
    }
    checkTransition(this.index, entry);
    // 3. Sequence. Durable once add resolves.
    const { index } = await this.log.add(leaf);
    // 4. Wait for a checkpoint, then apply through the fold.
    await this.#waitForCheckpoint(index);
    await this.catchUp();
    // 5. Did it apply?
    const outcome = this.index.outcome(index);
    if (outcome === null || !outcome.applied) {
      throw new TilelogError('REGISTRY_CONFLICT', `registry: entry ${index} is in the log but another entry for ${entry.subject} came first: ${outcome?.reason ?? 'not applied'}`);
    }
    return { index, leafHash: lh, duplicate: false, entry };
  }

  /** Builds, signs and submits the next entry of an agent from its current head. */
  change(name: string, type: Exclude<AgentEntryType, 'agent.registered'>, edit: (b: AgentBody) => AgentBody): Promise<WriteResult> {
    return this.#serial(async () => {
      await this.catchUp();
      const cur = this.requireAgent(name);
      // The reason belongs to the deprecated/revoked entry that set it, not to later ones.
      const { reason: _reason, ...rest } = structuredClone(cur.entry.body);
      return this.#submit(encodeEntry(this.#successor(name, cur, type, edit(rest)), this.key));
    });
  }

  /** Registers a new agent (body already validated and normalised by the caller). */
  register(name: string, body: AgentBody): Promise<WriteResult> {
    const e: UnsignedEntry = { v: 1, type: 'agent.registered', subject: name, seq: 0, prev: null, time: this.#now(), kid: this.key.kid, body };
    return this.submit(encodeEntry(e, this.key));
  }

  /**
   * Records a certificate seen elsewhere (cert.observed, signed by the registry
   * key; the body is built and checked by the caller). Idempotent: a certificate
   * already recorded answers with its entry (duplicate).
   */
  observe(body: CertObservedBody): Promise<WriteResult> {
    return this.#serial(async () => {
      await this.catchUp();
      const subject = observedSubject(body.sha256);
      const prior = this.index.observedCertificate(subject);
      if (prior !== null) return { index: prior.index, leafHash: prior.leafHash, duplicate: true, entry: prior.entry };
      const e: UnsignedEntry = { v: 1, type: 'cert.observed', subject, seq: 0, prev: null, time: this.#now(), kid: this.key.kid, body };
      return this.#submit(encodeEntry(e, this.key));
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

  // deprecate and revoke: a head already of this type is the answer (duplicate), whatever its reason.
  #endState(name: string, type: 'agent.deprecated' | 'agent.revoked', reason: string | undefined): Promise<WriteResult> {
    return this.#serial(async () => {
      await this.catchUp();
      const cur = this.requireAgent(name);
      if (cur.entry.type === type) return { index: cur.headIndex, leafHash: cur.leafHash, duplicate: true, entry: cur.entry };
      const { reason: _old, ...rest } = structuredClone(cur.entry.body);
      const body = { ...rest, ...(reason !== undefined && { reason }) };
      return this.#submit(encodeEntry(this.#successor(name, cur, type, body), this.key));
    });
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

  async #waitForCheckpoint(index: number): Promise<void> {
    try {
      await this.log.waitForCheckpoint(index, AbortSignal.timeout(this.#waitTimeoutMs));
    } catch (err) {
      if (err instanceof TilelogError) throw err;
      throw new TilelogError('LOG_PUSHBACK', `registry: entry ${index} is durable but no checkpoint covered it within ${this.#waitTimeoutMs} ms; it will apply when one does`, { cause: err });
    }
  }

  // Writes run one at a time, in arrival order; a failure does not block the next.
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(fn, fn);
    this.#tail = run.catch(() => undefined);
    return run;
  }
}

type AgentEntryType = import('./entries/envelope.js').AgentEntryType;
