// Fault rules and holds for the test S3 server (s3-server.ts): which requests
// a test wants to break or park, matched by verb, object class and key.

/** The tlog-tiles object classes a fault can target (the key may have a prefix). */
export type ObjectClass = 'checkpoint' | 'bundle' | 'tile0' | 'tile-upper' | 'partial' | 'other';
export type Verb = 'PUT' | 'GET' | 'HEAD' | 'DELETE' | 'LIST';

// classifyKey(key): a partial (any `.p/W`) first, whatever its level; then
// checkpoint, bundle (tile/entries/), level-0 tile, upper tile; else other
// (probes, anything outside the layout).
export function classifyKey(key: string): ObjectClass {
  if (/(^|\/)tile\/.+\.p\/\d+$/.test(key)) return 'partial';
  if (key === 'checkpoint' || key.endsWith('/checkpoint')) return 'checkpoint';
  if (/(^|\/)tile\/entries\//.test(key)) return 'bundle';
  if (/(^|\/)tile\/0\//.test(key)) return 'tile0';
  if (/(^|\/)tile\/[1-9]\d*\//.test(key)) return 'tile-upper';
  return 'other';
}

/**
 * What a matching request suffers:
 * - fail: 500 InternalError, nothing stored.
 * - lost: applied (stored/deleted), then the socket is destroyed: the client never hears.
 * - applied-500: applied, then answered 500 (the other way an answer gets lost).
 * - slowdown: 503 SlowDown, nothing stored.
 * - conflict: 409 ConditionalRequestConflict, nothing stored.
 * - hang: never answered until heal() or close() (then the socket is destroyed).
 * - stale: a GET/HEAD sees the version before the latest write (404 if there was none).
 */
export type FaultKind = 'fail' | 'lost' | 'applied-500' | 'slowdown' | 'conflict' | 'hang' | 'stale';

/** Which requests a fault or hold applies to; every given field must match. */
export interface RequestMatch {
  verb?: Verb | readonly Verb[];
  objectClass?: ObjectClass | readonly ObjectClass[];
  /** Exact key (within the bucket, prefix included). */
  key?: string;
  keyPattern?: RegExp;
  bucket?: string;
  /** A substring of the sender's user-agent (S3TileStoreOptions.userAgent names a writer). */
  userAgent?: string;
}

export interface FaultRule extends RequestMatch {
  kind: FaultKind;
  /** Let this many matching requests through first (default 0). */
  skip?: number;
  /** Hit this many matching requests, then retire (default: until healed). */
  times?: number;
}

export interface RequestInfo {
  readonly verb: Verb;
  readonly bucket: string;
  readonly key: string;
  readonly objectClass: ObjectClass;
  /** The user-agent and x-amz-user-agent headers together ('' when absent). */
  readonly userAgent?: string;
}

function oneOf<T>(want: T | readonly T[] | undefined, got: T): boolean {
  if (want === undefined) return true;
  return Array.isArray(want) ? (want as readonly T[]).includes(got) : want === got;
}

export function matches(m: RequestMatch, r: RequestInfo): boolean {
  return (
    oneOf(m.verb, r.verb) &&
    oneOf(m.objectClass, r.objectClass) &&
    (m.key === undefined || m.key === r.key) &&
    (m.keyPattern === undefined || m.keyPattern.test(r.key)) &&
    (m.bucket === undefined || m.bucket === r.bucket) &&
    (m.userAgent === undefined || (r.userAgent ?? '').includes(m.userAgent))
  );
}

/** An injected fault; `hits` counts the requests it broke. */
export class Fault {
  hits = 0;
  #skip: number;
  #left: number;
  constructor(
    readonly rule: FaultRule,
    private readonly onRemove: (f: Fault) => void,
  ) {
    this.#skip = rule.skip ?? 0;
    this.#left = rule.times ?? Infinity;
  }

  // take(r): whether this fault breaks r (consuming skip, then times). A stale
  // fault only ever applies to reads.
  take(r: RequestInfo): boolean {
    if (this.#left <= 0 || !matches(this.rule, r)) return false;
    if (this.rule.kind === 'stale' && r.verb !== 'GET' && r.verb !== 'HEAD') return false;
    if (this.#skip > 0) {
      this.#skip--;
      return false;
    }
    this.#left--;
    this.hits++;
    if (this.#left <= 0) this.remove();
    return true;
  }

  remove(): void {
    this.#left = 0;
    this.onRemove(this);
  }
}

/** A parked request: it is processed (faults, conditions, storing) only when released. */
export interface HeldRequest extends RequestInfo {
  readonly userAgent: string;
  release(): void;
}

/** Parks matching requests until released (for stale-writer tests: a PUT that lands late). */
export class Hold {
  readonly requests: HeldRequest[] = [];
  #active = true;
  #waiters: Array<(r: HeldRequest) => void> = [];
  constructor(
    readonly match: RequestMatch,
    private readonly onStop: (h: Hold) => void,
  ) {}

  /** Whether a new request is parked here. */
  wants(r: RequestInfo): boolean {
    return this.#active && matches(this.match, r);
  }

  park(r: RequestInfo, userAgent: string, run: () => void): void {
    let released = false;
    const held: HeldRequest = {
      ...r,
      userAgent,
      release: () => {
        if (released) return;
        released = true;
        const i = this.requests.indexOf(held);
        if (i >= 0) this.requests.splice(i, 1);
        run();
      },
    };
    this.requests.push(held);
    for (const w of this.#waiters.splice(0)) w(held);
  }

  /** Resolves with the next request parked here (or one already parked and not released). */
  next(): Promise<HeldRequest> {
    const first = this.requests[0];
    if (first !== undefined) return Promise.resolve(first);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Releases every parked request, in arrival order. */
  releaseAll(): void {
    for (const r of this.requests.slice()) r.release();
  }

  /** Parks nothing more; what is parked stays parked until released. */
  stop(): void {
    this.#active = false;
    this.onStop(this);
  }
}
