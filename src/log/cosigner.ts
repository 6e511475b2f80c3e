// The cosigner: between the checkpointer and the public `checkpoint` when
// witnesses are configured. The checkpointer signs and commits checkpoints as
// before (the trusted, log-signed text in the TreeStateStore never changes) and
// offers each one here; the cosigner gathers cosignatures and publishes the
// log-signed note plus the verified cosignature lines once the policy is met.
//
// One round, for the newest offered checkpoint (older offers are coalesced):
//   1. ask every witness in parallel (witness-client.ts), each bounded by
//      timeoutMs; a witness can only fail to cosign, never stop the round;
//   2. once the cosigners so far meet the policy, wait at most a short grace
//      for the others, then publish; when every witness has answered (or
//      timed out), publish again if more cosignatures arrived after that;
//   3. policy unmet: fail-closed (default) keeps the public checkpoint where it
//      is and retries with backoff (or at once when a newer checkpoint is
//      offered); fail-open publishes what it has and says so.
// Between rounds it waits for a newer checkpoint, or refreshMs after a
// success, then asks again for fresh timestamps (clients may bound the age).
// Sequencing, integration and signing never wait for any of this.
//
// The public checkpoint only moves forward: a round's size is at least the
// published size (offers only grow), every write goes through the log's
// PublicCheckpoint writer (conditional on the version it last saw, so another
// writer's newer checkpoint is never overwritten; if it cannot reconcile, it
// stops the log and this loop ends), and a crash between two writes leaves
// either the old or the new text (each write is atomic). Recovery (recover.ts)
// accepts a public checkpoint that lags the DB and a new round starts at open.

import { MAX_NOTE_SIGNATURES } from '../note/note.js';
import { formatPolicy, policySatisfied, type WitnessPolicy } from '../note/policy.js';
import type { Hash } from '../merkle/hash.js';
import type { TreeStateStore } from '../storage/log-store.js';
import type { TreeState } from '../storage/sequence-db.js';
import type { LogLogger } from './options.js';
import type { StorageHealth } from './storage-health.js';
import type { PublishedCheckpoint } from './publisher.js';
import type { PublicCheckpoint } from './public-checkpoint.js';
import { WitnessClient, type WitnessStatus } from './witness-client.js';

export interface CosignerConfig {
  /** The only writer of the public checkpoint. */
  checkpoint: PublicCheckpoint;
  /** Where each witness's last cosigned size is remembered (a hint, not fenced). */
  store: TreeStateStore;
  /** Those sizes as stored at open, by witness verifier key (witnessSizes() reads them). */
  storedSizes: ReadonlyMap<string, number | null>;
  policy: WitnessPolicy;
  /** Per witness and round: the longest wait for an answer (409 retry included). */
  timeoutMs: number;
  /** Re-collect cosignatures this long after the last publication when the tree does not grow. */
  refreshMs: number;
  /** Publish even when the policy is not met. */
  failOpen: boolean;
  logger: LogLogger;
  /** Consistency proof between two signed sizes (their tiles exist). */
  proof(oldSize: number, newSize: number): Promise<Hash[]>;
  /** Called after each public write, in order; sizes never decrease. */
  onPublished(cp: PublishedCheckpoint): void;
  /** Told of disk failures writing the checkpoint, and of successful writes. */
  health?: StorageHealth;
  /** Called when one witness's round trip ends (metrics). */
  onWitnessAnswered?(witness: string, cosigned: boolean, ms: number): void;
}

export interface CosignerStatus {
  policy: string;
  failOpen: boolean;
  /** The newest log-signed checkpoint's size and the public (cosigned) one's. */
  signedSize: number;
  publishedSize: number;
  /** Number of witness cosignatures on the public checkpoint. */
  publishedCosignatures: number;
  rounds: number;
  publications: number;
  /** Rounds that ended without the policy met. */
  quorumMissed: number;
  witnesses: WitnessStatus[];
}

const RETRY_MIN_MS = 250;
/** After the policy is met, how long to wait for the other witnesses before publishing (capped at timeoutMs / 4). */
const QUORUM_GRACE_MS = 200;
const RETRY_MAX_MS = 30_000;

/** The size each witness of policy last cosigned, as store remembers it (Cosigner's storedSizes). */
export async function witnessSizes(store: TreeStateStore, policy: WitnessPolicy): Promise<Map<string, number | null>> {
  const sizes = new Map<string, number | null>();
  for (const w of policy.witnesses) sizes.set(w.vkey, await store.witnessSize(w.vkey));
  return sizes;
}

export class Cosigner {
  readonly #cfg: CosignerConfig;
  readonly #clients: WitnessClient[];
  #latest: PublishedCheckpoint;
  #published: PublishedCheckpoint;
  #publishedLines = 0;
  /** The size of the round in progress, or null. */
  #roundSize: number | null = null;
  #publishing: Promise<void> = Promise.resolve();
  #wake: (() => void) | null = null;
  #loop: Promise<void> | null = null;
  #closing = false;
  readonly counters = { rounds: 0, publications: 0, quorumMissed: 0 };

  constructor(cfg: CosignerConfig, latest: TreeState, published: PublishedCheckpoint) {
    this.#cfg = cfg;
    this.#latest = { size: latest.size, root: latest.root, text: latest.text };
    this.#published = published;
    this.#clients = cfg.policy.witnesses.map((w) => {
      if (w.url === null) throw new Error(`cosigner: witness ${w.name} has no URL`); // resolveOptions refuses this
      return new WitnessClient({
        witness: { ...w, url: w.url },
        store: cfg.store,
        storedSize: cfg.storedSizes.get(w.vkey) ?? null,
        logger: cfg.logger,
        proof: cfg.proof,
      });
    });
  }

  /** The newest log-signed checkpoint (what witnesses are asked to cosign). */
  get logSigned(): PublishedCheckpoint {
    return this.#latest;
  }

  /** Sizes this cosigner may still publish or prove against (their partial tiles must stay). */
  get heldSizes(): number[] {
    const held = [this.#latest.size, this.#published.size];
    if (this.#roundSize !== null) held.push(this.#roundSize);
    return held;
  }

  /** A newly committed checkpoint; the next round cosigns it. */
  offer(state: TreeState): void {
    if (state.size <= this.#latest.size) return;
    this.#latest = { size: state.size, root: state.root, text: state.text };
    this.#wakeUp();
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  // close(): finish the current round, run one more if a newer checkpoint
  // was offered meanwhile (each bounded by timeoutMs), then stop.
  async close(): Promise<void> {
    this.#closing = true;
    this.#wakeUp();
    await this.#loop;
    await this.#publishing;
  }

  status(): CosignerStatus {
    return {
      policy: formatPolicy(this.#cfg.policy),
      failOpen: this.#cfg.failOpen,
      signedSize: this.#latest.size,
      publishedSize: this.#published.size,
      publishedCosignatures: this.#publishedLines,
      ...this.counters,
      witnesses: this.#clients.map((c) => c.status()),
    };
  }

  async #run(): Promise<void> {
    let failures = 0;
    for (;;) {
      const tree = this.#latest;
      const ok = await this.#round(tree);
      if (this.#cfg.checkpoint.stopped !== null) return; // the log stopped publishing for good
      if (this.#closing) {
        if (this.#latest !== tree) await this.#round(this.#latest);
        return;
      }
      failures = ok ? 0 : failures + 1;
      const retry = Math.min(RETRY_MAX_MS, this.#cfg.refreshMs, RETRY_MIN_MS * 2 ** Math.min(failures - 1, 10));
      await this.#idle(ok ? this.#cfg.refreshMs : retry, tree);
    }
  }

  // #round(tree): steps 1-3 of the header. True when tree was published.
  async #round(tree: PublishedCheckpoint): Promise<boolean> {
    this.#roundSize = tree.size;
    try {
      return await this.#roundOf(tree);
    } finally {
      this.#roundSize = null;
    }
  }

  async #roundOf(tree: PublishedCheckpoint): Promise<boolean> {
    this.counters.rounds++;
    const { policy, timeoutMs } = this.#cfg;
    const signal = AbortSignal.timeout(timeoutMs);
    const got = new Map<string, string[]>();
    let publishedCount = -1;
    const publishIfMet = async (): Promise<void> => {
      if (got.size === publishedCount || !policySatisfied(policy, new Set(got.keys()))) return;
      publishedCount = got.size;
      await this.#publish(tree, got);
    };
    // 1-2. Ask everyone; publish soon after the policy is met, and again at the end if more came.
    let quorumMet: () => void = () => undefined;
    const met = new Promise<void>((resolve) => (quorumMet = resolve));
    const all = Promise.all(
      this.#clients.map(async (client) => {
        const t0 = performance.now();
        const lines = await client.cosign(tree, signal);
        this.#cfg.onWitnessAnswered?.(client.name, lines !== null, performance.now() - t0);
        if (lines === null) return;
        got.set(client.name, lines);
        if (policySatisfied(policy, new Set(got.keys()))) quorumMet();
      }),
    );
    const grace = Math.min(QUORUM_GRACE_MS, Math.floor(timeoutMs / 4));
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([all, met.then(() => new Promise<void>((r) => (timer = setTimeout(r, grace))))]);
    clearTimeout(timer);
    await publishIfMet();
    await all;
    await publishIfMet();
    for (const c of this.#clients) await c.persist();
    if (publishedCount >= 0) return this.#published.text.startsWith(tree.text);

    // 3. The policy is not met.
    this.counters.quorumMissed++;
    const have = [...got.keys()].join(', ') || 'none';
    if (this.#cfg.failOpen) {
      this.#cfg.logger.warn(`size ${tree.size}: witness policy not met (cosigned by: ${have}); publishing anyway (fail-open)`);
      await this.#publish(tree, got);
      return this.#published.text.startsWith(tree.text);
    }
    this.#cfg.logger.warn(
      `size ${tree.size}: witness policy not met (cosigned by: ${have}); ` +
        `the public checkpoint stays at size ${this.#published.size} until it is`,
    );
    return false;
  }

  // #publish: make tree's note plus the cosignature lines (in policy order)
  // the public checkpoint through the log's writer, then tell the log.
  // Serialized. A writer that stopped (another writer ahead) ends the loop.
  #publish(tree: PublishedCheckpoint, got: ReadonlyMap<string, string[]>): Promise<void> {
    const lines: string[] = [];
    for (const c of this.#clients) lines.push(...(got.get(c.name) ?? []));
    // The log's own signature is already in tree.text.
    const kept = lines.slice(0, MAX_NOTE_SIGNATURES - 1);
    const cp: PublishedCheckpoint = { size: tree.size, root: tree.root, text: tree.text + kept.join('') };
    const step = async (): Promise<void> => {
      if (cp.size < this.#published.size) return; // never backwards
      if (this.#cfg.checkpoint.stopped !== null) return; // the log's fatal path already has it
      try {
        await this.#cfg.checkpoint.write(cp);
      } catch (err) {
        if (this.#cfg.checkpoint.stopped !== null) return;
        this.#cfg.health?.failed(err);
        this.#cfg.logger.warn(`cannot write the cosigned checkpoint (size ${cp.size}); retrying next round`, err);
        return;
      }
      this.#cfg.health?.ok('tiles');
      this.#published = cp;
      this.#publishedLines = kept.length;
      this.counters.publications++;
      try {
        this.#cfg.onPublished(cp);
      } catch (err) {
        this.#cfg.logger.error(`published size ${cp.size} but could not tell the log`, err);
      }
    };
    this.#publishing = this.#publishing.then(step);
    return this.#publishing;
  }

  // #idle(ms, tree): until ms pass, a newer checkpoint is offered, or close().
  #idle(ms: number, tree: PublishedCheckpoint): Promise<void> {
    if (this.#latest !== tree || this.#closing) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = null;
        resolve();
      }, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  #wakeUp(): void {
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }
}
