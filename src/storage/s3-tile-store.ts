// S3TileStore: the public tree in an S3-compatible bucket, under keys that are
// exactly the tlog-tiles paths below an optional prefix, so the bucket's HTTP
// view (or a CDN in front of it) is a complete tlog-tiles log.
//
// Write protocol (SCALE-OUT.md 3.8):
// - tiles and bundles, full or partial: PutObject If-None-Match: *. On 412,
//   GET and compare: the same bytes are success (our own earlier PUT whose
//   answer was lost, or a re-integration), other bytes are STORAGE_CONFLICT.
// - checkpoint: PutObject If-Match: <ETag last seen> (If-None-Match: * for the
//   first). 412 (or 404 for If-Match on a missing key) is STORAGE_PRECONDITION:
//   someone else published; the caller reads and reconciles. When an earlier
//   attempt of the same call may have landed (its answer was lost), a 412 is
//   checked by reading back: if the object holds exactly our bytes, our own
//   write landed and its ETag is returned (a signed checkpoint's bytes name
//   one tree, so equal bytes are the same publication).
// - overwrite: an unconditional PUT, for recovery's repairs only.
// - Cache-Control / Content-Type are object metadata, set at every PUT
//   (cache-policy.ts): S3 cannot change them without a copy.
// Every request is bounded (s3-retry.ts): transient failures are retried with
// jittered backoff, then STORAGE_UNAVAILABLE (a 503, retry later); others
// fail at once with STORAGE_IO and what to do.
//
// The SDK (~22 MB) is an optional peer dependency, imported on first use by
// openS3TileStore, so a single-machine install never loads or needs it.
// SDK types appear only in #private members, never in this module's API.

import { randomBytes } from 'node:crypto';
import { TilelogError } from '../errors.js';
import { objectHeaders } from './cache-policy.js';
import { assertBucketName, normalizePrefix } from './s3-names.js';
import {
  assertRetryOptions,
  backoffMs,
  DEFAULT_RETRY,
  describeError,
  errorKind,
  sleep,
  type RetryOptions,
} from './s3-retry.js';
import {
  assertPublicPath,
  bytesEqual,
  conflictError,
  preconditionError,
  type TileStore,
  type VersionedObject,
} from './tile-store.js';

type Sdk = typeof import('@aws-sdk/client-s3');
type Client = InstanceType<Sdk['S3Client']>;

/** The npm package (and version) the S3 store needs; printed when it is missing. */
export const S3_SDK_PACKAGE = '@aws-sdk/client-s3@3.1175.0';

export interface S3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface S3TileStoreOptions {
  readonly bucket: string;
  /** Key prefix ("" or "a/b"; a trailing "/" is ignored). */
  readonly prefix?: string;
  /** An S3-compatible endpoint URL (http://127.0.0.1:9000); AWS when absent. */
  readonly endpoint?: string;
  /** Region; 'us-east-1' when an endpoint is given, else the SDK's chain (AWS_REGION, profile). */
  readonly region?: string;
  /** <endpoint>/<bucket>/<key> instead of <bucket>.<endpoint>/<key> (most non-AWS stores want it). */
  readonly forcePathStyle?: boolean;
  /** Static credentials (tests); the SDK's default chain (env, profile, IMDS, ...) when absent. */
  readonly credentials?: S3Credentials;
  /**
   * Accept a store whose self-test shows it ignores If-None-Match / If-Match:
   * the store works, `warning` says what is lost (`--s3-unconditional`).
   */
  readonly unconditional?: boolean;
  /** Run the conditional-write self-test at open (default true; readers with read-only credentials pass false). */
  readonly selfTest?: boolean;
  /** Bounds on retries and per-request time (DEFAULT_RETRY for the rest). */
  readonly retry?: Partial<RetryOptions>;
  /** Appended to the SDK's User-Agent: names this writer in the store's logs. */
  readonly userAgent?: string;
  /** Module to import instead of the SDK (tests of the missing-package message). */
  readonly sdkModule?: string;
}

/** Requests sent (each attempt counts: that is what a store bills) and outcomes. */
export interface S3Counters {
  puts: number;
  putBytes: number;
  gets: number;
  deletes: number;
  /** Attempts repeated after a transient error. */
  retries: number;
  /** 412 answers to conditional PUTs (each then compared or reconciled). */
  preconditionFailed: number;
  /** STORAGE_CONFLICT and STORAGE_PRECONDITION errors thrown. */
  conflicts: number;
}

export interface SelfTestResult {
  readonly ok: boolean;
  /** What the store got wrong, one sentence each; empty when ok. */
  readonly problems: readonly string[];
}

// loadS3Sdk(specifier): the SDK module, or LOG_CONFIG naming the npm command
// when it is not installed (it is an optional peer dependency).
export async function loadS3Sdk(specifier = '@aws-sdk/client-s3'): Promise<Sdk> {
  try {
    return (await import(specifier)) as Sdk;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw err;
    throw new TilelogError(
      'LOG_CONFIG',
      `s3: a tree in an s3:// bucket needs the optional package ${S3_SDK_PACKAGE}, which is not installed; run: npm install ${S3_SDK_PACKAGE}`,
      { cause: err },
    );
  }
}

/** Opens the store and (unless selfTest is false) proves the bucket enforces conditional writes. */
export function openS3TileStore(options: S3TileStoreOptions): Promise<S3TileStore> {
  return S3TileStore.open(options);
}

/** Per-call state: whether an attempt failed after it may have reached the store. */
interface CallState {
  uncertain: boolean;
}

type Conditions = { IfNoneMatch?: string; IfMatch?: string };

export class S3TileStore implements TileStore {
  readonly bucket: string;
  /** "" or "a/b" (no slashes at the ends). */
  readonly prefix: string;
  readonly description: string;
  readonly counters: S3Counters = { puts: 0, putBytes: 0, gets: 0, deletes: 0, retries: 0, preconditionFailed: 0, conflicts: 0 };
  /** Set when opened with `unconditional` on a store that failed the self-test: what is lost. */
  warning: string | null = null;
  readonly #sdk: Sdk;
  readonly #client: Client;
  readonly #retry: RetryOptions;
  readonly #endpoint: string;

  private constructor(sdk: Sdk, o: S3TileStoreOptions) {
    assertBucketName(o.bucket);
    this.bucket = o.bucket;
    this.prefix = normalizePrefix(o.prefix ?? '');
    this.description = `the bucket s3://${this.bucket}${this.prefix === '' ? '' : `/${this.prefix}`}`;
    this.#retry = { ...DEFAULT_RETRY, ...o.retry };
    assertRetryOptions(this.#retry);
    if (o.endpoint !== undefined && !/^https?:\/\/[^/]/.test(o.endpoint)) {
      throw new TilelogError('LOG_CONFIG', `s3: the endpoint must be an http:// or https:// URL, got ${JSON.stringify(o.endpoint)}`);
    }
    this.#endpoint = o.endpoint ?? 'AWS';
    this.#sdk = sdk;
    this.#client = new sdk.S3Client({
      ...(o.endpoint === undefined ? {} : { endpoint: o.endpoint }),
      region: o.region ?? (o.endpoint === undefined ? undefined : 'us-east-1'),
      forcePathStyle: o.forcePathStyle ?? false,
      ...(o.credentials === undefined ? {} : { credentials: o.credentials }),
      ...(o.userAgent === undefined ? {} : { customUserAgent: o.userAgent }),
      // One retry loop, ours, owns the bound (s3-retry.ts).
      maxAttempts: 1,
      // Since 3.729 the SDK adds CRC32 checksums by default, which several
      // S3-compatible stores reject (aws-sdk-js-v3#6810); only when required.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  static async open(options: S3TileStoreOptions): Promise<S3TileStore> {
    const store = new S3TileStore(await loadS3Sdk(options.sdkModule), options);
    if (options.selfTest === false) return store;
    let result: SelfTestResult;
    try {
      result = await store.selfTest();
    } catch (err) {
      store.close();
      throw err;
    }
    // Counters start after the probe: they measure the log's traffic.
    Object.assign(store.counters, { puts: 0, putBytes: 0, gets: 0, deletes: 0, retries: 0, preconditionFailed: 0, conflicts: 0 });
    if (result.ok) return store;
    const message =
      `${store.description} ignores conditional writes: ${result.problems.join('; ')}. ` +
      'tilelog relies on them so that a second or stale writer can never replace a published tile ' +
      'or move the checkpoint backwards. Use a store that enforces If-None-Match and If-Match ' +
      '(AWS S3, MinIO, Cloudflare R2, ...), or pass --s3-unconditional to accept the weaker guarantee ' +
      '(then never let two writers near this bucket: nothing stops the stale one).';
    if (options.unconditional !== true) {
      store.close();
      throw new TilelogError('STORAGE_NO_CONDITIONAL_WRITES', message);
    }
    store.warning = message;
    return store;
  }

  /** The object key of a public path: [prefix/]path. */
  objectKey(path: string): string {
    assertPublicPath(path);
    return this.#key(path);
  }

  async read(path: string): Promise<Uint8Array | null> {
    return (await this.readWithEtag(path))?.data ?? null;
  }

  async readWithEtag(path: string): Promise<VersionedObject | null> {
    return this.#get(this.objectKey(path));
  }

  async createIdempotent(path: string, data: Uint8Array): Promise<void> {
    const key = this.objectKey(path);
    // Two rounds at most: an object deleted between our 412 and our GET (a
    // partial tile collected meanwhile) is created again once.
    for (let round = 0; round < 2; round++) {
      try {
        await this.#put(key, path, data, { IfNoneMatch: '*' }, { uncertain: false });
        return;
      } catch (err) {
        if (errorKind(err) !== 'precondition') throw err;
      }
      const existing = await this.#get(key);
      if (existing === null) continue;
      if (bytesEqual(existing.data, data)) return;
      this.counters.conflicts++;
      throw conflictError(this.#url(key));
    }
    throw new TilelogError('STORAGE_IO', `s3: ${this.#url(key)} keeps appearing and disappearing; is another process deleting it?`);
  }

  async replaceIfMatch(path: string, data: Uint8Array, etag: string | null): Promise<string> {
    const key = this.objectKey(path);
    const state: CallState = { uncertain: false };
    try {
      return await this.#put(key, path, data, etag === null ? { IfNoneMatch: '*' } : { IfMatch: etag }, state);
    } catch (err) {
      const kind = errorKind(err);
      // AWS answers If-Match on a missing key with 404: the precondition failed too.
      if (kind !== 'precondition' && !(kind === 'not-found' && etag !== null)) throw err;
    }
    if (state.uncertain) {
      const current = await this.#get(key);
      if (current !== null && bytesEqual(current.data, data)) return current.etag;
    }
    this.counters.conflicts++;
    throw preconditionError(this.#url(key), etag);
  }

  async overwrite(path: string, data: Uint8Array): Promise<void> {
    await this.#put(this.objectKey(path), path, data, {}, { uncertain: false });
  }

  async delete(path: string): Promise<void> {
    await this.#delete(this.objectKey(path));
  }

  // selfTest(): proves the store refuses what tilelog's fencing relies on,
  // under a non-public key (.tilelog/probe-<random>): a second If-None-Match: *
  // PUT must be 412; an If-Match PUT with a wrong ETag must be 412 on an
  // existing key and 412 or 404 on a missing one (AWS answers 404). Probes are
  // deleted afterwards, whatever the outcome.
  async selfTest(): Promise<SelfTestResult> {
    const probe = this.#key(`.tilelog/probe-${randomBytes(8).toString('hex')}`);
    const missing = `${probe}-absent`;
    const wrongEtag = '"00000000000000000000000000000000"';
    const problems: string[] = [];
    const refused = async (key: string, body: string, cond: Conditions, missingOk: boolean): Promise<boolean> => {
      try {
        await this.#put(key, null, new TextEncoder().encode(body), cond, { uncertain: false });
        return false;
      } catch (err) {
        const kind = errorKind(err);
        if (kind === 'precondition' || (missingOk && kind === 'not-found')) return true;
        throw err;
      }
    };
    try {
      // The probe's name is random: a 412 after an attempt whose answer was
      // lost (or timed out) means that attempt created it.
      const first: CallState = { uncertain: false };
      try {
        await this.#put(probe, null, new TextEncoder().encode('probe 1\n'), { IfNoneMatch: '*' }, first);
      } catch (err) {
        if (!(first.uncertain && errorKind(err) === 'precondition')) throw err;
      }
      if (!(await refused(probe, 'probe 2\n', { IfNoneMatch: '*' }, false))) {
        problems.push('a PUT with If-None-Match: * replaced an existing object (it must answer 412)');
      }
      if (!(await refused(probe, 'probe 3\n', { IfMatch: wrongEtag }, false))) {
        problems.push('a PUT with If-Match of a wrong ETag replaced an existing object (it must answer 412)');
      }
      if (!(await refused(missing, 'probe 4\n', { IfMatch: wrongEtag }, true))) {
        problems.push('a PUT with If-Match on a missing key created it (it must answer 412 or 404)');
      }
    } finally {
      await Promise.allSettled([this.#delete(probe), this.#delete(missing)]);
    }
    return { ok: problems.length === 0, problems };
  }

  /** Closes the SDK's sockets. */
  close(): void {
    this.#client.destroy();
  }

  #key(path: string): string {
    return this.prefix === '' ? path : `${this.prefix}/${path}`;
  }

  #url(key: string): string {
    return `s3://${this.bucket}/${key}`;
  }

  // #put: one PUT with retries; returns the new ETag. `path` (null for probes)
  // chooses the metadata. A 412 (or 404) is thrown as the SDK's error, for the
  // caller to interpret.
  async #put(key: string, path: string | null, data: Uint8Array, cond: Conditions, state: CallState): Promise<string> {
    const headers = path === null ? { cacheControl: 'no-store', contentType: 'text/plain' } : objectHeaders(path);
    const out = await this.#send('PUT', key, state, (abortSignal) => {
      this.counters.puts++;
      this.counters.putBytes += data.length;
      const command = new this.#sdk.PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: data,
        ContentLength: data.length,
        CacheControl: headers.cacheControl,
        ContentType: headers.contentType,
        ...cond,
      });
      return this.#client.send(command, { abortSignal });
    });
    if (out.ETag === undefined) {
      throw new TilelogError('STORAGE_IO', `s3: ${this.#endpoint} answered a PUT of ${this.#url(key)} without an ETag; it is not S3-compatible enough for tilelog`);
    }
    return out.ETag;
  }

  // #get: the object and its ETag, or null when absent (404).
  async #get(key: string): Promise<VersionedObject | null> {
    try {
      return await this.#send('GET', key, { uncertain: false }, async (abortSignal) => {
        this.counters.gets++;
        const out = await this.#client.send(new this.#sdk.GetObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal });
        if (out.Body === undefined || out.ETag === undefined) {
          throw new TilelogError('STORAGE_IO', `s3: ${this.#endpoint} answered a GET of ${this.#url(key)} without a body or ETag`);
        }
        // The abort signal must also cut a body that stalls after the headers.
        const body = out.Body;
        const data = await untilAborted(body.transformToByteArray(), abortSignal, () => (body as { destroy?: () => void }).destroy?.());
        return { data, etag: out.ETag };
      });
    } catch (err) {
      if (errorKind(err) === 'not-found') return null;
      throw err;
    }
  }

  async #delete(key: string): Promise<void> {
    try {
      await this.#send('DELETE', key, { uncertain: false }, (abortSignal) => {
        this.counters.deletes++;
        return this.#client.send(new this.#sdk.DeleteObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal });
      });
    } catch (err) {
      if (errorKind(err) !== 'not-found') throw err;
    }
  }

  // #send(verb, key, state, attempt): runs attempt(signal) until it succeeds,
  // within the retry bounds. Each attempt gets a fresh timeout signal, never
  // longer than the time left. Transient errors are retried (and mark the call
  // uncertain: a write may have landed); 412/404 pass through unchanged for
  // the caller; anything else becomes a coded error at once.
  async #send<T>(verb: string, key: string, state: CallState, attempt: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const r = this.#retry;
    const started = Date.now();
    const deadline = started + r.totalMs;
    for (let n = 1; ; n++) {
      const left = deadline - Date.now();
      let err: unknown;
      try {
        return await attempt(AbortSignal.timeout(Math.max(1, Math.min(r.requestTimeoutMs, left))));
      } catch (e) {
        err = e;
      }
      if (err instanceof TilelogError) throw err;
      const kind = errorKind(err);
      if (kind === 'precondition' && verb === 'PUT') this.counters.preconditionFailed++;
      if (kind === 'precondition' || kind === 'not-found') throw err;
      if (kind === 'fatal') throw this.#fatal(verb, key, err);
      state.uncertain = true;
      const wait = backoffMs(n, r);
      if (n >= r.maxAttempts || Date.now() + wait >= deadline) {
        throw new TilelogError(
          'STORAGE_UNAVAILABLE',
          `s3: ${verb} ${this.#url(key)} at ${this.#endpoint} still failing after ${n} attempts in ${Date.now() - started} ms (last: ${describeError(err)}); the store is unavailable, retry later`,
          { cause: err },
        );
      }
      this.counters.retries++;
      await sleep(wait);
    }
  }

  // #fatal: a refusal retrying will not fix, as STORAGE_IO saying what to do.
  #fatal(verb: string, key: string, err: unknown): TilelogError {
    const name = (err as { name?: string }).name ?? '';
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    let advice = 'check the endpoint, bucket and credentials';
    if (name === 'NoSuchBucket') advice = `the bucket ${this.bucket} does not exist at ${this.#endpoint}: create it, or fix --tiles / --s3-endpoint`;
    else if (status === 403 || name === 'AccessDenied' || name === 'InvalidAccessKeyId' || name === 'SignatureDoesNotMatch') {
      advice = `the store refused the credentials: check AWS_ACCESS_KEY_ID / AWS_PROFILE and that the bucket policy allows GetObject, PutObject and DeleteObject under s3://${this.bucket}/${this.prefix}`;
    } else if (name === 'CredentialsProviderError') advice = 'no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE';
    return new TilelogError('STORAGE_IO', `s3: ${verb} ${this.#url(key)} at ${this.#endpoint} failed (${describeError(err)}); ${advice}`, { cause: err });
  }
}

// untilAborted(p, signal, onAbort): p, or a rejection when signal aborts first
// (after calling onAbort to release what p was reading).
function untilAborted<T>(p: Promise<T>, signal: AbortSignal, onAbort: () => void): Promise<T> {
  if (signal.aborted) {
    onAbort();
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const abort = (): void => {
      onAbort();
      reject(signal.reason);
    };
    signal.addEventListener('abort', abort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', abort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', abort);
        reject(e);
      },
    );
  });
}
