// Monitor: watches one log. Each poll is one pass of numbered steps; the
// trusted checkpoint and the audited size only move forward after the step
// that justifies them, and never past a failure:
//
//   1. Fetch the checkpoint; verify the log signature and the cosignature
//      quorum (TileClient.checkpoint)          MONITOR_BAD_SIGNATURE / MONITOR_QUORUM
//   2. Against the trusted checkpoint: a smaller size is a rollback; the same
//      size needs the same root; a larger one a consistency proof built from
//      tiles authenticated by the new root     MONITOR_ROLLBACK / MONITOR_INCONSISTENT
//                                              (tiles that miss the root: MONITOR_TILE_MISMATCH)
//   3. Compare with the other sources          MONITOR_SPLIT_VIEW
//   4. Trust it: state.trusted = new note, saved atomically.
//   5. Audit entries [audited, size): bundles against authenticated tiles, the
//      root recomputed from the entries; the edge is saved every few seconds
//      and at the end                          MONITOR_BUNDLE_MISMATCH / MONITOR_TILE_MISMATCH
//      With a registry watch, each audited entry also goes through the
//      submitter key history (registry-watch.ts); what it refuses is reported
//      as a finding (evidence, webhook) and the audit goes on.
//
// A crash anywhere leaves state.json as of the last save: at worst one batch
// of bundles is downloaded again. An alert saves evidence, posts the webhook,
// and leaves the state as it was before the failing step.

import { ClientError, InconsistencyError, TileClient, trustPolicy, type FetchLike, type TrustPolicy, type VerifiedCheckpoint } from '../client/index.js';
import { hashEqual, toBase64 } from '../merkle/index.js';
import { MonitorAlert, type AlertReport } from './alert.js';
import { auditTo } from './audit.js';
import { compareWith, logOnlyPolicy, type CompareOutcome, type CompareSource } from './compare.js';
import { saveEvidence } from './evidence.js';
import { FetchRecorder } from './recorder.js';
import { StateStore, type MonitorState } from './state.js';
import { postWebhook } from './webhook.js';
import { RegistryWatch, type RegistryFinding, type RegistryWatchOptions } from './registry-watch.js';
import { TilelogError } from '../errors.js';

export interface MonitorOptions {
  /** The log's tlog-tiles URL prefix. */
  url: string;
  /** The log's Ed25519 verifier key. */
  logKey: string;
  /** Expected origin; default the key's name. */
  origin?: string;
  /** Witness cosignature/v1 verifier keys and how many must cosign (default all). */
  witnesses?: readonly string[];
  quorum?: number;
  /** Directory for state.json, state.lock and evidence/. */
  stateDir: string;
  /** Other sources of this log's checkpoints. */
  compare?: readonly CompareSource[];
  /** POST each alert's report here. */
  webhook?: string;
  fetch?: FetchLike;
  /** Seconds between edge saves during a long audit (default 2). */
  saveIntervalS?: number;
  /** Called when an audit starts; the returned handle gets entries done. */
  progress?: (total: number) => { update(done: number): void; finish(): void };
  /** Warnings (webhook failures and the like), one line each. */
  warn?: (line: string) => void;
  /** Follow the registry's submitter keys and report entries they refuse (registry-watch.ts). */
  registry?: RegistryWatchOptions;
}

export type PollStatus = 'ok' | 'alert' | 'unreachable' | 'interrupted';

export interface PollResult {
  status: PollStatus;
  origin: string;
  /** The trusted size before and after the poll. */
  previousSize: number | null;
  size: number | null;
  root: string | null;
  /** Entries audited in total, and in this poll. */
  audited: number;
  auditedNow: number;
  seconds: number;
  requests: number;
  compare: CompareOutcome[];
  alert: AlertReport | null;
  /** Why the log could not be checked (status unreachable). */
  error: string | null;
  webhookError: string | null;
  /** Registry entries refused for their signer, found in this poll (registry watch only). */
  findings: RegistryFinding[];
}

export class Monitor {
  readonly policy: TrustPolicy;
  readonly #o: MonitorOptions;
  readonly #base: string;
  readonly #store: StateStore;
  readonly #state: MonitorState;
  readonly #recorder: FetchRecorder;
  readonly #client: TileClient;
  readonly #logOnly: TrustPolicy;
  readonly #watch: RegistryWatch | null;
  // The last alert raised, so one that repeats unchanged poll after poll is
  // saved and posted once.
  #lastAlert: { key: string; report: AlertReport; webhookError: string | null } | null = null;

  private constructor(o: MonitorOptions, policy: TrustPolicy, store: StateStore, state: MonitorState) {
    this.#o = o;
    this.policy = policy;
    this.#base = o.url.replace(/\/+$/, '');
    this.#store = store;
    this.#state = state;
    this.#recorder = new FetchRecorder(o.fetch);
    this.#client = new TileClient({ baseUrl: this.#base, fetch: this.#recorder.fetch, policy });
    this.#logOnly = logOnlyPolicy(policy);
    this.#watch = o.registry === undefined ? null : (state.registryKeys == null ? RegistryWatch.fresh(o.registry) : new RegistryWatch(state.registryKeys));
    if (this.#watch !== null) state.registryKeys = this.#watch.history;
  }

  /** Validates the policy (CLIENT_BAD_POLICY), locks and loads the state (MONITOR_STATE). */
  static open(o: MonitorOptions): Monitor {
    const policy = trustPolicy({ logKey: o.logKey, origin: o.origin, witnesses: o.witnesses ?? [], quorum: o.quorum });
    const store = new StateStore(o.stateDir);
    store.lock();
    try {
      const state = store.load(policy.origin, policy.logKey);
      if (o.registry !== undefined && state.registryKeys == null && state.edge.size > 0) {
        throw new TilelogError('MONITOR_STATE', `${store.dir} audited ${state.edge.size} entries without the registry watch, which reads the key entries from entry 0; use a new --state`);
      }
      return new Monitor(o, policy, store, state);
    } catch (err) {
      store.unlock();
      throw err;
    }
  }

  /** Entries audited so far and the trusted size (for tests and summaries). */
  get audited(): number {
    return this.#state.edge.size;
  }
  get trustedSize(): number | null {
    return this.#state.trustedCheckpoint?.size ?? null;
  }

  /** Releases the state lock. */
  close(): void {
    this.#store.unlock();
  }

  /** One poll (steps 1-5 above). Never throws for the log's faults: they are in the result. */
  async poll(signal?: AbortSignal): Promise<PollResult> {
    const started = performance.now();
    const requestsBefore = this.#recorder.requests;
    const previousSize = this.trustedSize;
    const auditedBefore = this.audited;
    const compare: CompareOutcome[] = [];
    const findings: RegistryFinding[] = [];
    const result = (status: PollStatus, extra: Partial<PollResult> = {}): PollResult => ({
      status,
      origin: this.policy.origin,
      previousSize,
      size: this.trustedSize,
      root: this.#state.trustedCheckpoint === null ? null : toBase64(this.#state.trustedCheckpoint.root),
      audited: this.audited,
      auditedNow: this.audited - auditedBefore,
      seconds: (performance.now() - started) / 1000,
      requests: this.#recorder.requests - requestsBefore,
      compare,
      alert: null,
      error: null,
      webhookError: null,
      findings,
      ...extra,
    });
    try {
      const latest = await this.#fetchCheckpoint(); // 1
      await this.#checkAgainstTrusted(latest); // 2
      for (const source of this.#o.compare ?? []) {
        compare.push(await compareWith(source, { ours: latest, primary: this.#client, recorder: this.#recorder, logOnly: this.#logOnly })); // 3
      }
      this.#trust(latest); // 4
      const complete = await this.#audit(latest, signal, findings); // 5
      this.#lastAlert = null;
      return result(complete ? 'ok' : 'interrupted');
    } catch (err) {
      if (err instanceof MonitorAlert) {
        const { report, webhookError } = await this.#raise(err);
        return result('alert', { alert: report, webhookError });
      }
      if (err instanceof ClientError && (err.code === 'CLIENT_FETCH' || err.code === 'CLIENT_NOT_FOUND')) {
        this.#saveQuietly();
        return result('unreachable', { error: err.message });
      }
      throw err;
    }
  }

  // Step 1. The note's bytes are kept for evidence even when it fails.
  async #fetchCheckpoint(): Promise<VerifiedCheckpoint> {
    this.#recorder.capture();
    try {
      return await this.#client.checkpoint();
    } catch (err) {
      if (!(err instanceof ClientError)) throw err;
      const raw = this.#recorder.body(`${this.#base}/checkpoint`);
      const checkpoints = this.#withTrusted(raw === undefined ? {} : { received: new TextDecoder().decode(raw) });
      if (err.code === 'CLIENT_CHECKPOINT_SIGNATURE') throw new MonitorAlert('MONITOR_BAD_SIGNATURE', err.message, { checkpoints }, { cause: err });
      if (err.code === 'CLIENT_CHECKPOINT_QUORUM' || err.code === 'CLIENT_CHECKPOINT_FUTURE' || err.code === 'CLIENT_CHECKPOINT_AGE') {
        throw new MonitorAlert('MONITOR_QUORUM', err.message, { checkpoints }, { cause: err });
      }
      throw err;
    }
  }

  // Step 2.
  async #checkAgainstTrusted(latest: VerifiedCheckpoint): Promise<void> {
    const trusted = this.#state.trustedCheckpoint;
    if (trusted === null) return;
    const checkpoints = this.#withTrusted({ received: latest.note });
    if (latest.size < trusted.size) {
      throw new MonitorAlert('MONITOR_ROLLBACK', `the log shows size ${latest.size}, smaller than the size ${trusted.size} it signed before`, { checkpoints });
    }
    if (latest.size === trusted.size) {
      if (!hashEqual(latest.root, trusted.root)) {
        throw new MonitorAlert('MONITOR_INCONSISTENT', `two signed roots for size ${latest.size}: ${toBase64(trusted.root)} trusted, ${toBase64(latest.root)} now`, { checkpoints });
      }
      return;
    }
    this.#recorder.capture();
    try {
      await this.#client.consistencyProof(trusted, latest);
    } catch (err) {
      if (err instanceof InconsistencyError) {
        throw new MonitorAlert('MONITOR_INCONSISTENT', `size ${trusted.size} is not a prefix of size ${latest.size}: ${err.message}`, { checkpoints, proof: err.proof }, { cause: err });
      }
      if (err instanceof ClientError && err.code === 'CLIENT_TILE_INVALID') {
        const files = this.#recorder.captured().map(([url, data]) => ({ name: url, data }));
        throw new MonitorAlert('MONITOR_TILE_MISMATCH', `proving size ${trusted.size} -> ${latest.size}: ${err.message}`, { checkpoints, files }, { cause: err });
      }
      throw err;
    }
  }

  // Step 4.
  #trust(latest: VerifiedCheckpoint): void {
    const s = this.#state;
    if (s.trusted === latest.note) return;
    s.trusted = latest.note;
    s.trustedCheckpoint = { origin: latest.origin, size: latest.size, root: latest.root, extensions: latest.extensions };
    this.#store.save(s);
  }

  // Step 5: returns false when interrupted before the end.
  async #audit(latest: VerifiedCheckpoint, signal: AbortSignal | undefined, findings: RegistryFinding[]): Promise<boolean> {
    const s = this.#state;
    if (s.edge.size >= latest.size) return true;
    const total = latest.size - s.edge.size;
    const bar = this.#o.progress?.(total);
    const saveEveryMs = (this.#o.saveIntervalS ?? 2) * 1000;
    let lastSave = performance.now();
    try {
      const run = await auditTo(s.edge, {
        client: this.#client,
        recorder: this.#recorder,
        baseUrl: this.#base,
        checkpoint: latest,
        note: latest.note,
        signal,
        onProgress: (done) => bar?.update(done),
        ...(this.#watch !== null && {
          onEntry: (index: number, entry: Uint8Array, leafHash: Uint8Array) => {
            const f = this.#watch!.observe(index, entry, leafHash);
            if (f !== null) findings.push(f);
          },
        }),
        onBatch: () => {
          if (performance.now() - lastSave < saveEveryMs) return;
          this.#store.save(s);
          lastSave = performance.now();
        },
      });
      return run.complete;
    } finally {
      bar?.finish();
      this.#saveQuietly();
      for (const f of findings) await this.#reportFinding(f);
    }
  }

  // A finding: evidence and the webhook, like an alert, but the poll goes on.
  async #reportFinding(f: RegistryFinding): Promise<void> {
    const at = new Date();
    const alert = new MonitorAlert(f.code, f.message, { details: { ...f } });
    const base = { code: f.code, message: f.message, origin: this.policy.origin, url: this.#base, time: at.toISOString(), checkpoints: {}, details: { ...f } };
    let evidencePath: string | null = null;
    try {
      evidencePath = await saveEvidence(this.#store.dir, alert, base, at);
    } catch (err) {
      this.#o.warn?.(`warning: could not save the evidence: ${(err as Error).message}`);
    }
    if (this.#o.webhook === undefined) return;
    const webhookError = await postWebhook(this.#o.webhook, { ...base, evidencePath });
    if (webhookError !== null) this.#o.warn?.(`warning: webhook ${this.#o.webhook} failed: ${webhookError}`);
  }

  // Saves the state, e.g. after a failure stopped the audit mid-way; the edge
  // only ever holds checked entries, so saving it is always safe.
  #saveQuietly(): void {
    try {
      this.#store.save(this.#state);
    } catch (err) {
      this.#o.warn?.(`warning: could not save the state: ${(err as Error).message}`);
    }
  }

  #withTrusted(checkpoints: Record<string, string>): Record<string, string> {
    return this.#state.trusted === null ? checkpoints : { trusted: this.#state.trusted, ...checkpoints };
  }

  // Saves the evidence and posts the webhook, unless the previous poll raised
  // the same alert about the same checkpoints.
  async #raise(alert: MonitorAlert): Promise<{ report: AlertReport; webhookError: string | null }> {
    const at = new Date();
    const checkpoints = this.#withTrusted(alert.evidence.checkpoints ?? {});
    const key = JSON.stringify([alert.code, alert.message, checkpoints]);
    if (this.#lastAlert?.key === key) return this.#lastAlert;
    const evidence = { ...alert.evidence, checkpoints };
    const full = new MonitorAlert(alert.code, alert.message, evidence);
    const base = {
      code: alert.code,
      message: alert.message,
      origin: this.policy.origin,
      url: this.#base,
      time: at.toISOString(),
      checkpoints,
      details: alert.evidence.details ?? {},
    };
    let evidencePath: string | null = null;
    try {
      evidencePath = await saveEvidence(this.#store.dir, full, base, at);
    } catch (err) {
      this.#o.warn?.(`warning: could not save the evidence: ${(err as Error).message}`);
    }
    const report: AlertReport = { ...base, evidencePath };
    let webhookError: string | null = null;
    if (this.#o.webhook !== undefined) {
      webhookError = await postWebhook(this.#o.webhook, report);
      if (webhookError !== null) this.#o.warn?.(`warning: webhook ${this.#o.webhook} failed: ${webhookError}`);
    }
    this.#lastAlert = { key, report, webhookError };
    return { report, webhookError };
  }
}

