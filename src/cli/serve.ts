// tilelog serve: opens (or creates) a log and serves it over HTTP until
// SIGINT/SIGTERM, then drains: stop accepting, let in-flight requests finish,
// flush pending adds, close the database.
//
// State dir (trusted, private): log.db (SQLite) and, unless --key is
// given, log.key (the signer key, mode 0600). Tiles dir (public): checkpoint
// and tile/..., exactly what a static server or CDN can serve; or, with
// --tiles s3://<bucket>[/<prefix>], the same objects in a bucket, whose
// conditional-write self-test runs before anything else is created.

import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TilelogError } from '../errors.js';
import { createLogApp, logRequestListener, RequestCounts, startListener } from '../http/index.js';
import { mountExplorer } from '../http/explorer.js';
import { openFileLog, storageFailure, TILE_SUMMARIES_DIR } from '../log/index.js';
import { frontendSigner, openPgLog, type PgLog } from '../log/pg-log.js';
import { sequenceTraceFromEnv } from './pg-trace.js';
import { parseVerifierKey, type NoteSigner } from '../note/keys.js';
import { pgTarget } from '../storage/pg-errors.js';
import { makeDirSync, STATE_DIR_MODE } from '../storage/make-dir.js';
import { TILE_DIR_MODE } from '../storage/file-tile-store.js';
import type { Logger } from 'pino';
import { openTileStore } from '../storage/tile-location.js';
import type { TileStore } from '../storage/tile-store.js';
import type { S3TileStore } from '../storage/s3-tile-store.js';
import { defaultPublicUrl, S3_USAGE, unconditionalWarning } from './s3-options.js';
import { packageVersion } from './version.js';
import { formatPolicy, generateSignerKey, parseCheckpoint, parseNote, type Ed25519Signer } from '../note/index.js';
import { CliError, EXIT_OK, parseFlags, runVerb, UsageError } from './common.js';
import type { OpenedRegistry } from './registry.js';
import { REGISTRY_USAGE, type RegistryConfig } from './registry-config.js';
import { readKeyFile, writeKeyFile } from './key-file.js';
import { isPkcs11Uri, openTokenLogKey, printableKey } from './signing-key.js';
import { createCliLogger, logLoggerFrom } from './logger.js';
import { effectiveConfig } from './print-config.js';
import { defaultOrigin, resolveServeSettings, SERVE_FLAGS, type ServeConfig } from './serve-config.js';
import { summaryJson, summaryText, type SummaryFacts } from './serve-summary.js';
import { startReadWorkers } from './serve-workers.js';

const USAGE = `Usage: tilelog serve [flags]

Runs a transparency log: accepts entries (POST /add), publishes the tree as
C2SP tlog-tiles under --tiles with signed checkpoints, and answers proofs.
With no flags (as 'npm start' does) it keeps state in .tilelog/, tiles in
tiles/, listens on 127.0.0.1:8080, and on the first run invents an origin
unique to this log (<hostname>/tilelog-<8 random hex digits>; choose a real
one with --origin) and a signing key in .tilelog/log.key.

  --state <dir>             private state: database and key   [$TILELOG_STATE, .tilelog]
  --tiles <dir>             public tiles and checkpoint        [$TILELOG_TILES, tiles]
  --tiles s3://<bucket>[/<prefix>]
                            ... or in an S3-compatible bucket (see the --s3-* flags)
  --db <postgres://user:password@host:port/database>
                            keep the log's state in PostgreSQL instead of <state>/log.db,
                            so several tilelog processes serve one log: each takes adds
                            and serves reads, one (holding a lease) signs, another takes
                            over when it stops. Needs --tiles s3://...; --state keeps
                            the key (the same key on every process)   [$TILELOG_DB]
  --role frontend           with --db: only sequence adds and serve reads, never sign;
                            give --log-key <verifier key> instead of a key [$TILELOG_ROLE, candidate]
  --lease-ttl-ms <ms>       with --db: the signer lease's length     [$TILELOG_LEASE_TTL_MS, 10000]
  --lease-renew-ms <ms>     renewed this often                      [$TILELOG_LEASE_RENEW_MS, 3000]
  --lease-margin-ms <ms>    the leader stops this long before its lease could lapse
                                                                    [$TILELOG_LEASE_MARGIN_MS, 2000]
  --public-url <url>        where readers fetch the tree (a CDN, the bucket's HTTP URL),
                            named by /v1/log/info and the startup summary
                            [$TILELOG_PUBLIC_URL, this server for a directory; for
                            a bucket <endpoint>/<bucket>/<prefix> with path style,
                            else https://<bucket>.s3.<region>.amazonaws.com/<prefix>]
  --listen <host:port>      address to listen on (:8080 = all) [$TILELOG_LISTEN, 127.0.0.1:8080]
  --origin <origin>         the log's origin, e.g. example.com/log
                            [$TILELOG_ORIGIN, the key's name, else
                            <hostname>/tilelog-<random>, drawn on the first run]
  --key <file>              signer key file (from 'tilelog keygen')
                            [$TILELOG_KEY, <state>/log.key, created if absent]
  --key 'pkcs11:token=<label>;object=<key>?module-path=<lib.so>&pin-source=file:<pin file>'
                            ... or a key in a PKCS#11 token (RFC 7512 URI; needs
                            --origin and the pkcs11js package; the PIN only in a file)
  --batch-max-entries <n>   commit a batch at n pooled entries [$TILELOG_BATCH_MAX_ENTRIES, 4096]
  --batch-max-delay-ms <ms> commit a batch ms after its first entry
                            [$TILELOG_BATCH_MAX_DELAY_MS, 1]
  --batch-linger-ms <ms>    after a commit, wait up to ms for as many new adds as
                            it held before the next (bigger batches for several
                            frontends on one database) [$TILELOG_BATCH_LINGER_MS, 0]
  --checkpoint-interval-ms <ms>
                            publish at most one checkpoint per ms (adds meanwhile
                            join the next one)     [$TILELOG_CHECKPOINT_INTERVAL_MS,
                            1000 with --tiles s3://... (each checkpoint is a
                            conditional PUT), else 0: at once]
  --no-dedup                give identical entries new indexes [$TILELOG_DEDUP=0]
  --no-sqlite-worker        keep the SQLite state on the request thread instead of
                            a worker thread (whose COMMITs and fsyncs then do not
                            hold up requests)          [$TILELOG_SQLITE_WORKER=0, on]
  --partial-grace-s <s>     keep a replaced checkpoint's partial tiles this long, then
                            delete them (clients fall back to full tiles)
                            [$TILELOG_PARTIAL_GRACE_S, 60]
  --read-workers <n>        n more processes answer /checkpoint and /tile/... on --listen
                            (using more cores) and pass the rest to this one [$TILELOG_READ_WORKERS, 0]

The tree in a bucket (--tiles s3://...): at start tilelog proves the store
refuses a second create and a stale replace (If-None-Match / If-Match), so a
stale or second writer can never roll the public checkpoint back.
${S3_USAGE}
Witness cosigning (c2sp.org/tlog-witness): the public checkpoint then carries
witness cosignatures and moves only once the policy is met; the log-signed
checkpoint is at /v1/log/log-signed-checkpoint, witness status at /v1/log/witnesses.
  --witness <url>,<vkey>    a witness: its URL (add-checkpoint is <url>/add-checkpoint)
                            and cosignature verifier key; repeat for more
                            [$TILELOG_WITNESSES, space-separated]
  --witness-quorum <K>      publish once K of the --witness entries cosigned
                            [$TILELOG_WITNESS_QUORUM, all of them]
  --witness-policy <file>   a c2sp tlog-policy file instead (witness lines need URLs)
                            [$TILELOG_WITNESS_POLICY]
  --witness-timeout-ms <ms> longest wait for one witness per round
                            [$TILELOG_WITNESS_TIMEOUT_MS, 5000]
  --witness-refresh-s <s>   re-collect cosignatures this often when the tree
                            does not grow [$TILELOG_WITNESS_REFRESH_S, 60]
  --witness-fail-open       publish even when the policy is not met
                            [$TILELOG_WITNESS_FAIL_OPEN=1, fail-closed]

Operations: GET /metrics (Prometheus); logs are JSON lines on stderr
(readable lines on a terminal), each request with an X-Request-Id.
  --log-level <level>       fatal, error, warn, info, debug (a line per
                            request), trace or silent  [$TILELOG_LOG_LEVEL, info]
  --config <file>           a JSON object of these flags without the dashes,
                            e.g. {"listen": ":8080", "batch-max-delay-ms": 2};
                            flags > env > file > defaults  [$TILELOG_CONFIG]
  --print-config            print the effective configuration (secrets hidden)
                            and exit
  --json                    print the startup summary as one JSON line
  -h, --help                show this help

${REGISTRY_USAGE}
Stop with Ctrl-C (SIGINT) or SIGTERM: pending entries are flushed first.
`;

// The engine's openFileLog keeps its database here.
const DB_FILE = 'log.db';
const KEY_FILE = 'log.key';

export function run(argv: string[]): Promise<number> {
  return runVerb('serve', USAGE, argv, async (args) => {
    const { values, positionals } = parseFlags(args, SERVE_FLAGS, true);
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
    const settings = resolveServeSettings(values);
    if (settings.printConfig) {
      process.stdout.write(`${JSON.stringify(effectiveConfig(settings), null, 2)}\n`);
      return EXIT_OK;
    }
    return serve(settings.serve, settings.registry);
  });
}

async function serve(cfg: ServeConfig, registryCfg: RegistryConfig | null = null): Promise<number> {
  const logger = createCliLogger({ level: cfg.logLevel });
  // Before anything is created: a first run that cannot listen leaves no
  // state, key or checkpoint behind to confuse the next attempt.
  await refuseBusyPort(cfg);
  // A bucket is opened (and its self-test run) before the state directory or
  // a key is created: a refused store leaves nothing behind.
  const store = await openBucket(cfg);
  try {
    return await serveOn(cfg, registryCfg, logger, store);
  } finally {
    store?.close();
  }
}

/** The S3 store for an s3:// --tiles (null for a directory), with the loud warning when it is accepted without conditional writes. */
async function openBucket(cfg: ServeConfig): Promise<S3TileStore | null> {
  if (cfg.tiles.kind !== 's3') return null;
  const store = (await openTileStore(cfg.tiles, { ...cfg.s3, userAgent: `tilelog/${packageVersion() ?? 'dev'}` })) as S3TileStore;
  if (store.warning !== null) process.stderr.write(unconditionalWarning(store.description));
  else if (cfg.s3.unconditional === true) {
    process.stderr.write(`note: --s3-unconditional is not needed: ${store.description} enforces conditional writes, so the full guarantee holds\n`);
  }
  return store;
}

async function serveOn(cfg: ServeConfig, registryCfg: RegistryConfig | null, logger: Logger, store: S3TileStore | null): Promise<number> {
  makeDirSync(cfg.stateDir, STATE_DIR_MODE);
  if (store === null) makeDirSync(cfg.tilesDir, TILE_DIR_MODE);
  const dbPath = path.join(cfg.stateDir, DB_FILE);
  // With --db the state is in PostgreSQL (--state holds the key): recovery refuses a bucket that holds another tree.
  const fresh = cfg.db !== undefined || !fs.existsSync(dbPath);
  if (fresh && cfg.db === undefined) {
    if (store === null) refuseForeignTiles(cfg);
    else await refuseForeignBucket(cfg, store);
  }
  const { signer, origin, createdKey }: { signer: NoteSigner & { readonly verifierKey: string }; origin: string; createdKey?: string } =
    cfg.role === 'frontend' && cfg.logKey !== undefined ? frontendIdentity(cfg, cfg.logKey) : await loadIdentity(cfg, fresh, logger);
  refuseSelfWitness(cfg, signer.verifierKey);

  let pgLog: PgLog | null = null;
  const engineOptions = {
    origin,
    signer,
    dedup: cfg.dedup,
      checkpointIntervalMs: cfg.checkpointIntervalMs,
      partialGraceMs: cfg.partialGraceMs,
      logger: logLoggerFrom(logger),
      ...(cfg.batchMaxEntries !== undefined && { batchMaxEntries: cfg.batchMaxEntries }),
      ...(cfg.batchMaxDelayMs !== undefined && { batchMaxDelayMs: cfg.batchMaxDelayMs }),
      ...(cfg.batchLingerMs !== undefined && { batchLingerMs: cfg.batchLingerMs }),
      ...(cfg.witnesses !== null && {
        witnesses: {
          policy: cfg.witnesses.policy,
          refreshMs: cfg.witnesses.refreshMs,
          failOpen: cfg.witnesses.failOpen,
          ...(cfg.witnesses.timeoutMs !== undefined && { timeoutMs: cfg.witnesses.timeoutMs }),
        },
      }),
  };
  const log = await openOrExplain(cfg, origin, async () => {
    if (cfg.db === undefined || store === null) {
      return openFileLog({
        ...engineOptions,
        stateDir: cfg.stateDir,
        sqliteWorker: cfg.sqliteWorker,
        ...(store === null ? { tilesDir: cfg.tilesDir } : { tileStore: store }),
      });
    }
    const onSequenceTiming = sequenceTraceFromEnv();
    pgLog = await openPgLog({
      ...engineOptions,
      connectionString: cfg.db,
      tileStore: store,
      lease: cfg.lease,
      role: cfg.role,
      tileSummariesDir: path.join(cfg.stateDir, TILE_SUMMARIES_DIR),
      ...(onSequenceTiming !== undefined && { onSequenceTiming }),
    });
    return pgLog.log;
  });

  let ready = true;
  // The bound URL, set once listening (before the first request).
  let listenUrl = '';
  // Where readers fetch the tree: --public-url, the bucket's URL, else this server.
  const publicUrl = (): string => cfg.publicUrl ?? defaultPublicUrl(cfg.tiles, cfg.s3) ?? listenUrl;
  // /readyz also turns 503 while the disk refuses writes (health.ts).
  // Counted by the app and by the proof fast path (proof-fast-path.ts) alike.
  const requestCounts = new RequestCounts();
  const app = createLogApp(log, { isReady: () => ready, logger, publicUrl, requestCounts });
  let registry: OpenedRegistry | null = null;
  // The bound URL, the registry's _ans-badge base without --registry-public-url
  // (--listen :port requires the flag: serve-config.ts).
  if (registryCfg !== null) {
    try {
      // Loaded only here: the registry and CA code is a large part of a start's CPU.
      const { openRegistry } = await import('./registry.js');
      registry = await openRegistry(log, cfg.stateDir, registryCfg, () => listenUrl, logLoggerFrom(logger));
    } catch (err) {
      await log.close();
      throw err;
    }
    app.route('/', registry.app);
  }
  // The log browser at / (built into dist/explorer/ by npm run build).
  mountExplorer(app, {
    assetsDir: fileURLToPath(new URL('../explorer/', import.meta.url)),
    onRefused: (name, reason) => logger.warn(`refused to serve explorer asset ${name}: ${reason} (tampering? rebuild with npm run build)`),
  });
  let server;
  try {
    const listener = logRequestListener(app, log, { hostname: cfg.host, counts: requestCounts, logger });
    server =
      cfg.readWorkers > 0
        ? await startReadWorkers(listener, log, { count: cfg.readWorkers, host: cfg.host, port: cfg.port, tilesDir: cfg.tilesDir, stateDir: cfg.stateDir, logLevel: cfg.logLevel }, logger)
        : await startListener(listener, { host: cfg.host, port: cfg.port });
  } catch (err) {
    await log.close();
    registry?.close();
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw portInUse(cfg);
    throw err;
  }
  listenUrl = server.url;

  // Listen for the stop signal before the summary announces the server: a
  // supervisor may signal as soon as it reads it.
  const stopSignal = new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  // SIGHUP means "reload" to supervisors and to operators; Node's default
  // would end the server. The registry reloads its API keys on its own handler.
  const onHangup = () =>
    logger.info(registry === null ? 'SIGHUP: nothing to reload (the server keeps running)' : 'SIGHUP: reloading the registry API keys');
  process.on('SIGHUP', onHangup);
  const facts: SummaryFacts = {
    url: server.url,
    origin,
    verifierKey: log.verifierKey,
    treeSize: log.checkpoint().size,
    signedSize: log.witnessStatus()?.signedSize ?? log.checkpoint().size,
    stateDir: cfg.stateDir,
    tilesDir: cfg.tilesDir,
    publicUrl: publicUrl(),
    witnesses: cfg.witnesses,
    registry: registry === null || registryCfg === null ? null : { config: registryCfg, submitterKey: registry.registry.key.kid, apiKeys: registry.apiKeys },
    ...(cfg.db !== undefined && { database: { target: pgTarget(cfg.db), leading: log.leading(), epoch: log.stats().leader.epoch, role: cfg.role } }),
  };
  // On stderr in both modes: --json keeps stdout to the one summary line.
  if (createdKey) process.stderr.write(`created a new log: origin ${origin}, key in ${createdKey}\n`);
  if (createdKey && cfg.origin === undefined) process.stderr.write(inventedOriginAdvice(origin, cfg.stateDir));
  process.stdout.write(cfg.json ? `${JSON.stringify(summaryJson(facts))}\n` : summaryText(facts));

  // Wait for a signal, then drain in order: HTTP, engine, database.
  const signal = await stopSignal;
  logger.info(`${signal}: shutting down (finishing requests, flushing pending entries)...`);
  const force = () => {
    logger.warn('second signal: exiting now');
    process.exit(1);
  };
  process.once('SIGINT', force);
  process.once('SIGTERM', force);
  ready = false;
  process.off('SIGHUP', onHangup);
  await server.close();
  await log.close(); // flushes pending adds, publishes, closes the database
  await (pgLog as PgLog | null)?.close(); // the lease (released) and the PostgreSQL pools
  registry?.close();
  logger.info({ treeSize: log.checkpoint().size }, `stopped; tree size ${log.checkpoint().size}`);
  return EXIT_OK;
}

// openOrExplain: a disk that refuses the writes recovery needs (repairing a
// tile, republishing the checkpoint) stops the start with what to do. A disk
// that fills later, or only refuses the catch-up, does not: the log then
// serves reads, reports not ready, and resumes by itself.
async function openOrExplain<T>(cfg: ServeConfig, origin: string, open: () => Promise<T>): Promise<T> {
  try {
    return await open();
  } catch (err) {
    const owner = databaseOwner(err);
    if (owner !== null) throw otherLogsDatabase(cfg, owner, origin);
    const disk = storageFailure(err);
    if (disk === null) throw err;
    if (disk.component === 'signer') {
      throw new CliError(`cannot start: the log's signing key cannot sign (${(err as Error).message}).\nBring the token back (or fix the HSM connection) and start again.`);
    }
    if (disk.component !== 'state' && cfg.tiles.kind === 's3') {
      throw new CliError(
        `cannot start: the bucket ${cfg.tilesDir} refuses the writes recovery needs (${disk.code}: ${(err as Error).message}).\n` +
          `Check the store and its credentials, then start again; every acknowledged entry is safe in ${path.join(cfg.stateDir, DB_FILE)}.`,
      );
    }
    const dir = disk.component === 'state' ? cfg.stateDir : cfg.tilesDir;
    throw new CliError(
      `cannot start: ${dir} refuses writes (${disk.code}: the disk is full, read-only or failing).\n` +
        `Free space there (or fix the disk) and start again; every acknowledged entry is safe in ${path.join(cfg.stateDir, DB_FILE)}.`,
    );
  }
}

/**
 * Said once, when a first run has invented the origin: readers pin it with
 * the key, so the time to pick a real one is before anyone reads the log.
 */
function inventedOriginAdvice(origin: string, stateDir: string): string {
  return (
    `note: ${origin} is an invented origin, unique to this log but not a name anyone can look up.\n` +
    `      Choose a real one with --origin <domain/path> (e.g. logs.example.com/mylog) on a fresh --state directory;\n` +
    `      this log keeps ${origin} (the name of its key in ${stateDir}) for good.\n`
  );
}

// The origin a log database says it belongs to, from the engine's refusal
// to open it for another origin (sqlite-sequence-db.ts); null for any other error.
function databaseOwner(err: unknown): string | null {
  if (!(err instanceof TilelogError) || err.code !== 'LOG_CONFIG') return null;
  const quoted = /this database belongs to origin ("(?:[^"\\]|\\.)*")/.exec(err.message)?.[1];
  if (quoted === undefined) return null;
  try {
    return JSON.parse(quoted) as string;
  } catch {
    return null;
  }
}

/**
 * The state dir holds another log than the one this run's key or --origin
 * names: say which is which, and the flags for each thing the user may want.
 */
function otherLogsDatabase(cfg: ServeConfig, owner: string, origin: string): CliError {
  const why =
    cfg.origin !== undefined
      ? `--origin (or TILELOG_ORIGIN) says ${origin}`
      : `the key ${cfg.keyFile ?? path.join(cfg.stateDir, KEY_FILE)} is named ${origin}`;
  const defaultKey = path.join(cfg.stateDir, KEY_FILE);
  let ownKey = `the key named ${owner} (--key <its file>)`;
  if (cfg.keyFile !== undefined && fs.existsSync(defaultKey)) {
    try {
      if (readKeyFile(defaultKey).name === owner) ownKey = `its key, ${defaultKey}: drop --key (or TILELOG_KEY)`;
    } catch {
      // not a signer key: keep the generic advice
    }
  }
  const lines = [
    `${cfg.stateDir} holds the log ${owner}, but ${why}.`,
    `Either:`,
    `  - to serve ${owner}: use ${ownKey}${cfg.origin !== undefined ? `, and drop --origin (or pass --origin ${owner})` : ''};`,
    `  - to start a new log ${origin}: give it directories of its own, e.g. --state ${cfg.stateDir}-2 --tiles ${cfg.tilesDir}-2.`,
  ];
  return new CliError(lines.join('\n'));
}

function portInUse(cfg: ServeConfig): CliError {
  return new CliError(`${cfg.host}:${cfg.port} is in use; pick another --listen (e.g. 127.0.0.1:8081)`);
}

/**
 * Fails (as binding would) when --listen's port cannot be bound now: in use,
 * or not permitted. The real bind comes later, once the log is open; a
 * process taking the port in between still gets the same clear error there.
 * Port 0 always binds.
 */
async function refuseBusyPort(cfg: ServeConfig): Promise<void> {
  if (cfg.port === 0) return;
  const probe = net.createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') reject(portInUse(cfg));
      else if (err.code === 'EACCES') reject(new CliError(`not permitted to listen on ${cfg.host}:${cfg.port}; pick a port above 1023 with --listen`));
      else if (err.code === 'EADDRNOTAVAIL') reject(new CliError(`${cfg.host} is not an address of this machine; fix --listen (e.g. 127.0.0.1:${cfg.port})`));
      else reject(err);
    });
    probe.listen({ host: cfg.host, port: cfg.port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

/**
 * A fresh log (no database yet) must not write into a tiles dir that already
 * holds another log: its tiles would clash with ours, and its readers would
 * see a fork. Anything besides README.md and dotfiles counts.
 */
function refuseForeignTiles(cfg: ServeConfig): void {
  const present = fs.readdirSync(cfg.tilesDir).filter((n) => n !== 'README.md' && !n.startsWith('.'));
  if (present.length === 0) return;
  let what = `files (${present.slice(0, 3).join(', ')}${present.length > 3 ? ', ...' : ''})`;
  try {
    const c = parseCheckpoint(parseNote(fs.readFileSync(path.join(cfg.tilesDir, 'checkpoint'), 'utf8')).text);
    what = `a log (origin ${c.origin}, size ${c.size})`;
  } catch {
    // no readable checkpoint: keep the file list
  }
  const rel = path.relative(process.cwd(), cfg.tilesDir) || '.';
  throw new CliError(
    `${cfg.tilesDir} already holds ${what}, but ${cfg.stateDir} has no database for it.\n` +
      `Refusing to start a new log over another log's tiles. Either:\n` +
      `  - point --tiles (or $TILELOG_TILES) at an empty directory for the new log, or\n` +
      `  - use the --state directory that belongs to those tiles, or\n` +
      `  - if that old log is disposable, delete its public files: rm -rf ${rel}/checkpoint ${rel}/tile`,
  );
}

/**
 * The bucket form of refuseForeignTiles: a fresh log must not publish under a
 * prefix that already holds a log (a checkpoint, or the first tiles of one:
 * their write-once objects would clash with ours, and readers would see a fork).
 */
async function refuseForeignBucket(cfg: ServeConfig, store: TileStore): Promise<void> {
  const probes = ['checkpoint', 'tile/entries/000', 'tile/0/000', 'tile/entries/000.p/1', 'tile/0/000.p/1'];
  let found: string | null = null;
  let what = '';
  for (const p of probes) {
    const data = await store.read(p);
    if (data === null) continue;
    found = p;
    if (p === 'checkpoint') {
      try {
        const c = parseCheckpoint(parseNote(new TextDecoder().decode(data)).text);
        what = `a log (origin ${c.origin}, size ${c.size})`;
      } catch {
        what = 'a checkpoint object that does not parse';
      }
    } else what = `the tiles of a log (${p})`;
    break;
  }
  if (found === null) return;
  throw new CliError(
    `${store.description} already holds ${what}, but ${cfg.stateDir} has no database for it.\n` +
      `Refusing to start a new log over another log's tree. Either:\n` +
      `  - point --tiles at an unused prefix for the new log, e.g. ${cfg.tilesDir.replace(/\/*$/, '')}/new-log, or\n` +
      `  - use the --state directory that belongs to that tree, or\n` +
      `  - if that old log is disposable, delete its objects (checkpoint and tile/) under ${cfg.tilesDir}`,
  );
}

/**
 * A witness whose key is the log's own would cosign for nothing: its
 * cosignatures count toward the policy though no one independent saw the tree.
 */
function refuseSelfWitness(cfg: ServeConfig, verifierKey: string): void {
  const publicKey = parseVerifierKey(verifierKey).publicKey;
  for (const w of cfg.witnesses?.policy.witnesses ?? []) {
    if (Buffer.from(w.verifier.publicKey).equals(Buffer.from(publicKey))) {
      throw new CliError(
        `witness ${w.name} (${w.vkey}) has the log's own key; a witness must sign with a key of its own: ` +
          `make one with 'tilelog witness keygen --name <name> --out <file>' and pass the verifier key it prints`,
      );
    }
  }
}

/** A frontend's identity: the log's verifier key, no signing key (it never signs). */
function frontendIdentity(cfg: ServeConfig, logKey: string): { signer: NoteSigner & { readonly verifierKey: string }; origin: string } {
  let signer;
  try {
    signer = frontendSigner(logKey);
  } catch (err) {
    throw new CliError(`--log-key: ${(err as Error).message}; give the log's verifier key (<name>+<key ID>+<base64>)`);
  }
  return { signer, origin: cfg.origin ?? signer.name };
}

/** The signer and origin, creating <state>/log.key on the first run (a key in a token is never created here: 'tilelog keygen --key pkcs11:...'). */
async function loadIdentity(cfg: ServeConfig, fresh: boolean, logger: Logger): Promise<{ signer: Ed25519Signer; origin: string; createdKey?: string }> {
  if (cfg.keyFile !== undefined && isPkcs11Uri(cfg.keyFile)) {
    const signer = await openTokenLogKey(cfg.keyFile, cfg.origin);
    logger.info(`signing with ${printableKey(cfg.keyFile)} (${signer.verifierKey})`);
    return { signer, origin: signer.name };
  }
  const keyFile = cfg.keyFile ?? path.join(cfg.stateDir, KEY_FILE);
  let createdKey: string | undefined;
  if (cfg.keyFile === undefined && !fs.existsSync(keyFile)) {
    if (!fresh) {
      throw new CliError(`${cfg.stateDir} has a database but no ${KEY_FILE}; restore the key or pass --key <file>`);
    }
    const origin = cfg.origin ?? defaultOrigin();
    let pair;
    try {
      pair = generateSignerKey(origin);
    } catch (err) {
      throw new CliError(`cannot use ${JSON.stringify(origin)} as the log's origin and key name: ${(err as Error).message}`);
    }
    writeKeyFile(keyFile, pair.signerKey, false);
    createdKey = keyFile;
  }
  const signer = readKeyFile(keyFile);
  const origin = cfg.origin ?? signer.name;
  if (origin !== signer.name) {
    logger.warn(`origin ${origin} differs from the key name ${signer.name}`);
  }
  return { signer, origin, ...(createdKey !== undefined && { createdKey }) };
}
