// Configuration for `tilelog serve`: flags, then environment variables, then
// named defaults. Only this file reads the environment for serve.
//
//   flag                  env                           default
//   --state <dir>         TILELOG_STATE                 .tilelog/
//   --tiles <dir|s3://b/p> TILELOG_TILES                tiles/ (s3://<bucket>[/<prefix>]: a bucket)
//   --db <postgres://...> TILELOG_DB                    none: SQLite in --state (with --db: several processes, s3:// tiles required)
//   --role frontend       TILELOG_ROLE                  candidate (with --db; a frontend never signs: --log-key <vkey>, no --key)
//   --lease-ttl-ms <ms>   TILELOG_LEASE_TTL_MS          10000 (with --db: the signer lease; also -renew-ms 3000, -margin-ms 2000)
//   --s3-endpoint <url>   TILELOG_S3_ENDPOINT           AWS (with the other --s3-* flags: s3-options.ts)
//   --s3-region <region>  TILELOG_S3_REGION             us-east-1 with --s3-endpoint, else the SDK's chain
//   --s3-force-path-style TILELOG_S3_FORCE_PATH_STYLE=1 virtual-hosted addressing
//   --s3-unconditional    TILELOG_S3_UNCONDITIONAL=1    refuse a store that ignores conditional writes
//   --public-url <url>    TILELOG_PUBLIC_URL            the tree's URL for readers: this server, or the bucket's HTTP URL
//   --listen <host:port>  TILELOG_LISTEN                127.0.0.1:8080
//   --origin <origin>     TILELOG_ORIGIN                the key's name, else <hostname>/tilelog-<8 random hex>
//   --key <file>          TILELOG_KEY                   <state>/log.key (created on first run)
//   --batch-max-entries   TILELOG_BATCH_MAX_ENTRIES     engine default (4096)
//   --batch-max-delay-ms  TILELOG_BATCH_MAX_DELAY_MS    engine default (1)
//   --batch-linger-ms     TILELOG_BATCH_LINGER_MS       engine default (0)
//   --checkpoint-interval-ms TILELOG_CHECKPOINT_INTERVAL_MS  1000 with s3:// tiles (each checkpoint is a conditional PUT), else 0
//   --no-dedup            TILELOG_DEDUP=0               dedup on
//   --no-sqlite-worker    TILELOG_SQLITE_WORKER=0       on (the SQLite state in a worker thread; without --db)
//   --partial-grace-s <s> TILELOG_PARTIAL_GRACE_S       60 (keep a replaced checkpoint's partial tiles this long)
//   --read-workers <n>    TILELOG_READ_WORKERS          0 (n > 0: n processes serve tile reads; tiles directory only)
//   --witness <url>,<vkey> TILELOG_WITNESSES (space-separated)  none: publish log-signed checkpoints
//   --witness-quorum <K>  TILELOG_WITNESS_QUORUM        all the --witness entries
//   --witness-policy <f>  TILELOG_WITNESS_POLICY        (c2sp tlog-policy file; instead of the two above)
//   --witness-timeout-ms  TILELOG_WITNESS_TIMEOUT_MS    engine default (5000)
//   --witness-refresh-s   TILELOG_WITNESS_REFRESH_S     60
//   --witness-fail-open   TILELOG_WITNESS_FAIL_OPEN=1   fail-closed
//   --log-level <level>   TILELOG_LOG_LEVEL             info
//   --config <file>       TILELOG_CONFIG                none (JSON; see config-file.ts; below env, above defaults)
//   --print-config        print the effective configuration, secrets hidden, and exit (print-config.ts)

import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEFAULT_PARTIAL_GRACE_MS } from '../log/index.js';
import { parsePolicy, simplePolicy, type WitnessPolicy } from '../note/index.js';
import { parseBaseUrl, parseCount, UsageError } from './common.js';
import { blameFile, layerConfigFile, readConfigFile } from './config-file.js';
import { parseLogLevel, type LogLevel } from './logger.js';
import { REGISTRY_FLAGS, resolveRegistryConfig, type RegistryConfig } from './registry-config.js';
import { formatTileLocation, type S3Settings, type TileLocation } from '../storage/tile-location.js';
import { hasS3Settings, parseTreeLocation, resolveS3Settings, S3_FLAGS } from './s3-options.js';

/**
 * Whether the SQLite state runs in a worker thread by default: measured with
 * bench/http.bench.ts (both variants in one run), see bench/README.md.
 */
const DEFAULT_SQLITE_WORKER = true;

/** Upper bound of --read-workers. */
const MAX_READ_WORKERS = 64;

export const SERVE_FLAGS = {
  state: { type: 'string' },
  tiles: { type: 'string' },
  db: { type: 'string' },
  role: { type: 'string' },
  'log-key': { type: 'string' },
  'lease-ttl-ms': { type: 'string' },
  'lease-renew-ms': { type: 'string' },
  'lease-margin-ms': { type: 'string' },
  ...S3_FLAGS,
  'public-url': { type: 'string' },
  listen: { type: 'string' },
  origin: { type: 'string' },
  key: { type: 'string' },
  'batch-max-entries': { type: 'string' },
  'batch-max-delay-ms': { type: 'string' },
  'batch-linger-ms': { type: 'string' },
  'checkpoint-interval-ms': { type: 'string' },
  dedup: { type: 'boolean' },
  'sqlite-worker': { type: 'boolean' },
  'partial-grace-s': { type: 'string' },
  'read-workers': { type: 'string' },
  json: { type: 'boolean', default: false },
  witness: { type: 'string', multiple: true },
  'witness-quorum': { type: 'string' },
  'witness-policy': { type: 'string' },
  'witness-timeout-ms': { type: 'string' },
  'witness-refresh-s': { type: 'string' },
  'witness-fail-open': { type: 'boolean' },
  'log-level': { type: 'string' },
  config: { type: 'string' },
  'print-config': { type: 'boolean', default: false },
  ...REGISTRY_FLAGS,
} as const;

/**
 * With the tree in a bucket, at most one checkpoint a second unless set: each
 * is a conditional PUT of `checkpoint` (billed, and serialized by the store),
 * and each one's partial tiles are more PUTs. A directory publishes at once.
 */
export const DEFAULT_S3_CHECKPOINT_INTERVAL_MS = 1000;

export interface ServeWitnessConfig {
  policy: WitnessPolicy;
  /** Where the policy came from, for the startup summary. */
  source: string;
  timeoutMs: number | undefined;
  refreshMs: number;
  failOpen: boolean;
}

export interface ServeConfig {
  stateDir: string;
  /** The tiles directory (resolved), or for a bucket its s3:// URL (for messages). */
  tilesDir: string;
  /** Where the public tree lives: a directory or an S3 bucket and prefix. */
  tiles: TileLocation;
  /** Endpoint, region, addressing and the unconditional opt-in for an s3:// --tiles. */
  s3: S3Settings;
  /** PostgreSQL connection string (--db): the log's trusted state, shared by several processes; undefined: SQLite in stateDir. */
  db: string | undefined;
  /** With --db: 'candidate' (adds, reads, and signs while leading) or 'frontend' (never signs; logKey instead of a key). */
  role: 'candidate' | 'frontend';
  /** The log's verifier key, for a frontend (it has no signing key). */
  logKey: string | undefined;
  /** The signer lease with --db (ms). */
  lease: { ttlMs: number; renewMs: number; marginMs: number };
  /** The URL readers fetch the tree from (--public-url), or undefined: this server's own URL for a directory, the bucket's for S3. */
  publicUrl: string | undefined;
  host: string;
  port: number;
  /** Explicit origin (flag or env); undefined: from the key, else the default. */
  origin: string | undefined;
  /** Explicit key file; undefined: <state>/log.key, created on first run. */
  keyFile: string | undefined;
  batchMaxEntries: number | undefined;
  batchMaxDelayMs: number | undefined;
  batchLingerMs: number | undefined;
  /** Least time between two published checkpoints (ms): the setting, else DEFAULT_S3_CHECKPOINT_INTERVAL_MS for a bucket, else 0. */
  checkpointIntervalMs: number;
  dedup: boolean;
  /** The SQLite state in a worker thread, so COMMITs block it instead of the request loop (ignored with --db). */
  sqliteWorker: boolean;
  /** Keep a replaced checkpoint's partial tiles and bundles this long (ms) before deleting them. */
  partialGraceMs: number;
  /** Processes serving the public tree's reads beside the log's own (0: the log's process serves everything). */
  readWorkers: number;
  json: boolean;
  logLevel: LogLevel;
  /** null: no witnesses (checkpoints are published as the log signs them). */
  witnesses: ServeWitnessConfig | null;
}

type Values = {
  [K in keyof typeof SERVE_FLAGS]?: (typeof SERVE_FLAGS)[K] extends { multiple: true }
    ? string[]
    : (typeof SERVE_FLAGS)[K]['type'] extends 'string'
      ? string
      : boolean;
};

export function resolveServeConfig(values: Values, env: NodeJS.ProcessEnv = process.env): ServeConfig {
  const pick = (flag: Exclude<keyof typeof SERVE_FLAGS, 'witness'>, name: string): [string, string] | undefined => {
    const v = values[flag];
    if (typeof v === 'string') return [`--${flag}`, v];
    const e = env[name];
    return e !== undefined && e !== '' ? [name, e] : undefined;
  };
  const count = (flag: Exclude<keyof typeof SERVE_FLAGS, 'witness'>, name: string, min: number) => {
    const v = pick(flag, name);
    return v === undefined ? undefined : parseCount(v[0], v[1], min);
  };
  const listen = pick('listen', 'TILELOG_LISTEN') ?? ['--listen', '127.0.0.1:8080'];
  const { host, port } = parseListen(listen[0], listen[1]);
  const tilesValue = pick('tiles', 'TILELOG_TILES') ?? ['--tiles', 'tiles'];
  const parsedTiles = parseTreeLocation(tilesValue[0], tilesValue[1]);
  const tiles: TileLocation = parsedTiles.kind === 'dir' ? { kind: 'dir', path: path.resolve(parsedTiles.path) } : parsedTiles;
  const s3 = resolveS3Settings(values, env);
  if (tiles.kind === 'dir' && hasS3Settings(s3)) {
    throw new UsageError(`the --s3-* settings need --tiles s3://<bucket>[/<prefix>]; ${tilesValue[0]} is the directory ${tilesValue[1]}`);
  }
  const publicUrl = ((v) => (v === undefined ? undefined : parseBaseUrl(v[0], v[1])))(pick('public-url', 'TILELOG_PUBLIC_URL'));
  const db = pick('db', 'TILELOG_DB');
  if (db !== undefined) {
    if (!/^postgres(ql)?:\/\//.test(db[1])) throw new UsageError(`${db[0]} must be a postgres://user:password@host:port/database URL`);
    if (tiles.kind === 'dir') {
      throw new UsageError(
        `${db[0]} needs the public tree in a bucket (--tiles s3://<bucket>[/<prefix>]): a tiles directory cannot be shared between processes`,
      );
    }
    if (s3.unconditional === true) {
      throw new UsageError(
        `${db[0]} cannot run with --s3-unconditional: with several processes only the conditional checkpoint write stops a paused ex-leader from moving the tree back; use a store with conditional writes`,
      );
    }
  }
  const roleValue = pick('role', 'TILELOG_ROLE');
  if (roleValue !== undefined && roleValue[1] !== 'candidate' && roleValue[1] !== 'frontend') {
    throw new UsageError(`${roleValue[0]} must be candidate (the default: sequences, serves and signs while leading) or frontend (never signs)`);
  }
  const role = (roleValue?.[1] ?? 'candidate') as 'candidate' | 'frontend';
  const logKey = pick('log-key', 'TILELOG_LOG_KEY')?.[1];
  if (role === 'frontend' && db === undefined) throw new UsageError(`${roleValue![0]} frontend needs --db: a frontend shares a log with the processes that sign it`);
  if (role === 'frontend' && logKey === undefined) {
    throw new UsageError(`${roleValue![0]} frontend needs --log-key <verifier key> (the log's public key; a frontend holds no signing key)`);
  }
  if (role === 'frontend' && pick('key', 'TILELOG_KEY') !== undefined) throw new UsageError(`${roleValue![0]} frontend never signs: give --log-key <verifier key>, not --key`);
  // A shorter ttl alone scales renew and margin down with it (30 % and 20 %, capped at the defaults).
  const ttlMs = count('lease-ttl-ms', 'TILELOG_LEASE_TTL_MS', 100) ?? 10_000;
  const lease = {
    ttlMs,
    renewMs: count('lease-renew-ms', 'TILELOG_LEASE_RENEW_MS', 1) ?? Math.min(3_000, Math.floor(ttlMs * 0.3)),
    marginMs: count('lease-margin-ms', 'TILELOG_LEASE_MARGIN_MS', 1) ?? Math.min(2_000, Math.floor(ttlMs * 0.2)),
  };
  if (lease.marginMs >= lease.ttlMs || lease.renewMs >= lease.ttlMs - lease.marginMs) {
    throw new UsageError(
      `the lease settings must satisfy renew < ttl - margin: ttl ${lease.ttlMs} ms, renew ${lease.renewMs} ms, margin ${lease.marginMs} ms ` +
        '(e.g. --lease-ttl-ms 10000 --lease-renew-ms 3000 --lease-margin-ms 2000)',
    );
  }
  const readWorkers = count('read-workers', 'TILELOG_READ_WORKERS', 0) ?? 0;
  if (readWorkers > MAX_READ_WORKERS) throw new UsageError(`--read-workers must be at most ${MAX_READ_WORKERS} (one or two per core is plenty), got ${readWorkers}`);
  if (readWorkers > 0 && tiles.kind === 's3') {
    throw new UsageError(
      `--read-workers serves the tree from a tiles directory; with ${tilesValue[0]} ${tilesValue[1]} readers fetch the bucket (--public-url) instead`,
    );
  }
  return {
    db: db?.[1],
    role,
    logKey,
    lease,
    stateDir: path.resolve(pick('state', 'TILELOG_STATE')?.[1] ?? '.tilelog'),
    tilesDir: formatTileLocation(tiles),
    tiles,
    s3,
    publicUrl,
    host,
    port,
    origin: pick('origin', 'TILELOG_ORIGIN')?.[1],
    keyFile: pick('key', 'TILELOG_KEY')?.[1],
    batchMaxEntries: count('batch-max-entries', 'TILELOG_BATCH_MAX_ENTRIES', 1),
    batchMaxDelayMs: count('batch-max-delay-ms', 'TILELOG_BATCH_MAX_DELAY_MS', 0),
    batchLingerMs: count('batch-linger-ms', 'TILELOG_BATCH_LINGER_MS', 0),
    checkpointIntervalMs:
      count('checkpoint-interval-ms', 'TILELOG_CHECKPOINT_INTERVAL_MS', 0) ?? (tiles.kind === 's3' ? DEFAULT_S3_CHECKPOINT_INTERVAL_MS : 0),
    dedup: values.dedup ?? parseBool('TILELOG_DEDUP', env.TILELOG_DEDUP) ?? true,
    sqliteWorker: values['sqlite-worker'] ?? parseBool('TILELOG_SQLITE_WORKER', env.TILELOG_SQLITE_WORKER) ?? DEFAULT_SQLITE_WORKER,
    partialGraceMs: (count('partial-grace-s', 'TILELOG_PARTIAL_GRACE_S', 0) ?? DEFAULT_PARTIAL_GRACE_MS / 1000) * 1000,
    readWorkers,
    json: values.json === true,
    logLevel: ((v) => (v === undefined ? 'info' : parseLogLevel(v[0], v[1])))(pick('log-level', 'TILELOG_LOG_LEVEL')),
    witnesses: resolveWitnesses(values, env, pick, count),
  };
}

export interface ServeSettings {
  serve: ServeConfig;
  registry: RegistryConfig | null;
  /** The configuration file read, or null. */
  configFile: string | null;
  printConfig: boolean;
}

// resolveServeSettings: flags > env > the --config file > defaults, for serve
// and the registry; a bad file field is named as such (config-file.ts).
export function resolveServeSettings(values: Values, env: NodeJS.ProcessEnv = process.env): ServeSettings {
  const source: [string, string] | undefined =
    typeof values.config === 'string' ? ['--config', values.config] : env.TILELOG_CONFIG ? ['TILELOG_CONFIG', env.TILELOG_CONFIG] : undefined;
  let layered = { values: values as Record<string, string | boolean | string[] | undefined>, fromFile: new Set<string>() };
  if (source !== undefined) layered = layerConfigFile(source[1], readConfigFile(source[0], source[1]), SERVE_FLAGS, values, env);
  try {
    const serve = resolveServeConfig(layered.values as Values, env);
    const registry = resolveRegistryConfig(layered.values, env);
    requirePublicUrl(serve, registry);
    return { serve, registry, configFile: source === undefined ? null : path.resolve(source[1]), printConfig: values['print-config'] === true };
  } catch (err) {
    throw source === undefined ? err : blameFile(err, source[1], layered.fromFile);
  }
}

/**
 * The registry publishes its own URL in _ans-badge records: from
 * --registry-public-url, else the listen address, which must then be one
 * clients can reach. An all-interfaces address (0.0.0.0, ::) is not one.
 */
function requirePublicUrl(serve: ServeConfig, registry: RegistryConfig | null): void {
  if (registry === null || registry.publicUrl !== undefined) return;
  if (serve.host !== '0.0.0.0' && serve.host !== '::') return;
  throw new UsageError(
    `--registry-public-url is required with --registry when listening on all interfaces (${serve.host}): ` +
      `the registry publishes its URL in _ans-badge records and never takes it from a request's Host header; ` +
      `pass the URL clients use, e.g. --registry-public-url https://registry.example.com`,
  );
}

// resolveWitnesses: --witness/--witness-quorum or --witness-policy (not both),
// plus timeout, refresh and fail-open; null when no witness is configured.
function resolveWitnesses(
  values: Values,
  env: NodeJS.ProcessEnv,
  pick: (flag: Exclude<keyof typeof SERVE_FLAGS, 'witness'>, name: string) => [string, string] | undefined,
  count: (flag: Exclude<keyof typeof SERVE_FLAGS, 'witness'>, name: string, min: number) => number | undefined,
): ServeWitnessConfig | null {
  const listed: [string, string][] =
    values.witness !== undefined && values.witness.length > 0
      ? values.witness.map((w) => ['--witness', w])
      : (env.TILELOG_WITNESSES ?? '').split(/\s+/).filter((w) => w !== '').map((w) => ['TILELOG_WITNESSES', w]);
  const policyFile = pick('witness-policy', 'TILELOG_WITNESS_POLICY');
  const quorum = count('witness-quorum', 'TILELOG_WITNESS_QUORUM', 0);
  let policy: WitnessPolicy;
  let source: string;
  if (policyFile !== undefined) {
    if (listed.length > 0) throw new UsageError(`${policyFile[0]} and ${listed[0]![0]} are exclusive: list the witnesses in the policy file`);
    if (quorum !== undefined) throw new UsageError(`${policyFile[0]} sets the quorum itself; drop --witness-quorum`);
    let text: Uint8Array;
    try {
      text = fs.readFileSync(policyFile[1]);
    } catch (err) {
      throw new UsageError(`${policyFile[0]}: cannot read ${policyFile[1]}: ${(err as Error).message}`);
    }
    policy = asUsage(policyFile[0], () => parsePolicy(text));
    source = path.resolve(policyFile[1]);
  } else if (listed.length > 0) {
    const witnesses = listed.map(([src, w]) => parseWitnessFlag(src, w));
    const k = quorum ?? witnesses.length;
    if (k > witnesses.length) throw new UsageError(`--witness-quorum ${k} is more than the ${witnesses.length} witnesses`);
    policy = asUsage(listed[0]![0], () => simplePolicy(witnesses, k));
    source = `${listed[0]![0]} (${k} of ${witnesses.length})`;
  } else {
    for (const f of ['witness-quorum', 'witness-timeout-ms', 'witness-refresh-s'] as const) {
      if (values[f] !== undefined) throw new UsageError(`--${f} needs --witness or --witness-policy`);
    }
    return null;
  }
  const refreshS = count('witness-refresh-s', 'TILELOG_WITNESS_REFRESH_S', 1) ?? 60;
  return {
    policy,
    source,
    timeoutMs: count('witness-timeout-ms', 'TILELOG_WITNESS_TIMEOUT_MS', 1),
    refreshMs: refreshS * 1000,
    failOpen: values['witness-fail-open'] ?? parseBool('TILELOG_WITNESS_FAIL_OPEN', env.TILELOG_WITNESS_FAIL_OPEN) ?? false,
  };
}

/** `<url>,<vkey>`: the witness's submission prefix and its cosignature verifier key. */
function parseWitnessFlag(source: string, value: string): { url: string; vkey: string } {
  const comma = value.indexOf(',');
  if (comma < 0) throw new UsageError(`${source} must be <url>,<vkey> (e.g. http://127.0.0.1:7380,w1.example+1234abcd+BAS...), got ${JSON.stringify(value)}`);
  return { url: parseBaseUrl(source, value.slice(0, comma)), vkey: value.slice(comma + 1) };
}

function asUsage<T>(source: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    throw new UsageError(`${source}: ${(err as Error).message}`);
  }
}

/** host:port, [v6]:port, or :port (all interfaces). Port 0 picks a free port. */
export function parseListen(source: string, value: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:[\]]*):([0-9]{1,5})$/.exec(value);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) {
    throw new UsageError(`${source} must be host:port such as 127.0.0.1:8080, [::1]:8080 or :8080, got ${JSON.stringify(value)}`);
  }
  const rawHost = m[1]!;
  const host = rawHost === '' ? '0.0.0.0' : rawHost.replace(/^\[|\]$/g, '');
  return { host, port };
}

function parseBool(name: string, v: string | undefined): boolean | undefined {
  if (v === undefined || v === '') return undefined;
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off)$/i.test(v)) return false;
  throw new UsageError(`${name} must be true or false, got ${JSON.stringify(v)}`);
}

/** Hex digits of the random suffix in a first run's invented origin (32 bits: two logs on one host collide with odds 2^-32). */
export const DEFAULT_ORIGIN_SUFFIX_HEX = 8;
/** What --print-config shows for the suffix before the first run has drawn it. */
/** What --print-config shows for the suffix a first run draws. */
export const DEFAULT_ORIGIN_SUFFIX_PLACEHOLDER = 'x'.repeat(DEFAULT_ORIGIN_SUFFIX_HEX);

/**
 * The origin a first run invents: `<hostname>/tilelog-<suffix>`, the hostname
 * lowered and reduced to [a-z0-9.-] (`localhost` if nothing is left), the
 * suffix random hex, so two logs on one host never share an origin (a shared
 * origin with different keys looks like a forged log to readers). It is the
 * name of the key stored in the state dir, so later runs reuse it.
 */
export function defaultOrigin(hostname = os.hostname(), suffix = randomBytes(DEFAULT_ORIGIN_SUFFIX_HEX / 2).toString('hex')): string {
  const host = hostname.toLowerCase().replace(/[^a-z0-9.-]/g, '').replace(/^[.-]+|[.-]+$/g, '');
  return `${host || 'localhost'}/tilelog-${suffix}`;
}
