// StorageHealth: can the log write right now? One flag per store (the
// trusted state, the public tiles), set by a write that failed for a disk
// reason (storage-failure.ts: full, read-only, I/O error) and cleared by the
// next write to that store that succeeds. /readyz answers 503 while any flag
// is set, and adds fail fast with 503 + Retry-After rather than 500.
//
// At open every probe runs once, so a restart on a full disk reports not
// ready before the first add fails. Who clears a flag: the tiles are retried by the checkpointer (it keeps
// trying while durable entries wait to be published) and the collector; the
// state is written only when an add comes, and a load balancer that trusts
// /readyz sends none. So while a flag is set, a prober writes a small file
// (probes, injected by openFileLog) to that store's directory every
// probeIntervalMs and clears the flag once it fits: the log recovers by
// itself when space returns, with no traffic and no restart.

import { storageFailure, type StorageComponent, type StorageFailure } from '../storage/storage-failure.js';
import type { LogLogger } from './options.js';

export interface StorageFault {
  component: StorageComponent;
  /** errno or SQLite code, e.g. ENOSPC. */
  code: string;
  /** Unix ms of the first failure of this episode. */
  sinceMs: number;
}

export type StorageProbes = Partial<Record<StorageComponent, () => Promise<void>>>;

export class StorageHealth {
  readonly #failing = new Map<StorageComponent, StorageFault>();
  readonly #probes: StorageProbes;
  readonly #probeIntervalMs: number;
  readonly #logger: LogLogger;
  #timer: NodeJS.Timeout | null = null;
  #probing = false;
  #closed = false;
  /** Writes that failed for a disk reason, since open. */
  failures = 0;

  constructor(probes: StorageProbes, probeIntervalMs: number, logger: LogLogger) {
    this.#probes = probes;
    this.#probeIntervalMs = probeIntervalMs;
    this.#logger = logger;
  }

  /** True while no store is known to refuse writes. */
  get writable(): boolean {
    return this.#failing.size === 0;
  }

  /** The stores refusing writes now. */
  faults(): StorageFault[] {
    return [...this.#failing.values()];
  }

  // failed(err, component?): records err if it is a disk failure and returns
  // its class (for component when given, else the store its code implies);
  // null (nothing recorded) for any other error.
  failed(err: unknown, component?: StorageComponent): StorageFailure | null {
    const found = storageFailure(err);
    if (found === null) return null;
    const f = component === undefined ? found : { ...found, component };
    this.failures++;
    if (!this.#failing.has(f.component)) {
      this.#failing.set(f.component, { ...f, sinceMs: Date.now() });
      if (f.component === 'signer') {
        this.#logger.error(
          'the signing key cannot sign (token removed or HSM unreachable): entries are still sequenced, but no checkpoint is signed or published ' +
            'and /readyz is not ready until a signature succeeds; bring the token back and the log resumes by itself',
          err,
        );
      } else {
        const dir = f.component === 'state' ? 'state directory' : 'tiles directory';
        this.#logger.error(
          `cannot write the ${dir} (${f.code}): adds answer 503 and /readyz is not ready until writes succeed again; ` +
            `free space (or fix the disk) and the log resumes by itself`,
          err,
        );
      }
    }
    this.#startProbing();
    return f;
  }

  /** A write to component succeeded. */
  ok(component: StorageComponent): void {
    const f = this.#failing.get(component);
    if (f === undefined) return;
    this.#failing.delete(component);
    this.#logger.info(`the ${component} store accepts writes again (after ${Math.round((Date.now() - f.sinceMs) / 1000)} s); ready`);
    if (this.#failing.size === 0) this.#stopProbing();
  }

  /** Runs every probe once (at open): a disk that is already full is reported before the first write. */
  async probeAll(): Promise<void> {
    for (const [component, probe] of Object.entries(this.#probes) as [StorageComponent, () => Promise<void>][]) {
      try {
        await probe();
      } catch (err) {
        this.failed(err, component);
      }
    }
  }

  close(): void {
    this.#closed = true;
    this.#stopProbing();
  }

  #startProbing(): void {
    if (this.#timer !== null || this.#closed) return;
    this.#timer = setInterval(() => void this.#probe(), this.#probeIntervalMs);
    this.#timer.unref();
  }

  #stopProbing(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  async #probe(): Promise<void> {
    if (this.#probing) return;
    this.#probing = true;
    try {
      for (const component of [...this.#failing.keys()]) {
        const probe = this.#probes[component];
        if (probe === undefined) continue;
        try {
          await probe();
          this.ok(component);
        } catch {
          // still failing; the next tick tries again
        }
      }
    } finally {
      this.#probing = false;
    }
  }
}
