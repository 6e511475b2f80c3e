// The agent name registry in the CLI:
//   - `tilelog serve --registry [...]` mounts the agents API (src/registry)
//     on the log's app; this file reads its flags, env and state files;
//   - `tilelog registry apikey --owner <owner>` makes an API key;
//   - `tilelog registry keygen --out <file>` makes an agent key pair (agent-keygen.ts);
//   - `tilelog registry reindex` rebuilds registry.db from the log (server stopped).
//
// State dir files (private, mode 0600 where secret):
//   registry.db         the state index (derived: delete it and restart to
//                       rebuild it from the log)
//   registry.key        the registry's submitter key: 32-byte Ed25519 seed, base64
//   registry.key.next   the key to rotate to at the next start (`registry rotate-key`);
//                       renamed over registry.key once the rotation is in the log
//   registry.secret     32 random bytes: HMAC key of the DNS challenge tokens
//   registry-api-keys   "sha256:<hex> <owner>" per API key
//   registry.lock       the pid of the server or reindex using the registry state
//
// On a log in PostgreSQL (serve --db), every process serving --registry keeps
// its own registry.db (a fold of the published entries; reads fold what other
// processes sequenced before they answer) and signs registry entries with
// the SAME registry.key (and DNS tokens with the same registry.secret): copy
// both into each --state, as the log key. The registry key is not the log's
// signer key: a --role frontend process (no log key) holds it and submits
// registry entries like any add; the leader signs the checkpoints. The CA's
// keys (--registry-ca-dir) are shared the same way, so a certificate issued
// through one process verifies through any other. A rotation of the
// intermediate (tilelog ca rotate) is done through one process; the others
// follow the log and refuse to issue (503, naming the files) until its new
// ca-intermediate-<n>.key and .crt are copied into their CA dir.

import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { TilelogError } from '../errors.js';
import type { Log, LogLogger } from '../log/index.js';
import { submitterKey, submitterKeyOf } from '../registry/entries/index.js';
import { AnsLookup } from '../registry/ans-lookup.js';
import { DnsValidator } from '../registry/dns.js';
import { newApiKey } from '../registry/http/auth.js';
import { ApiKeyFile } from '../registry/http/api-key-file.js';
import { createRegistryApp } from '../registry/http/app.js';
import { Registry } from '../registry/registry.js';
import { StateIndex } from '../registry/state-index.js';
import { DB_FLAGS, DB_USAGE, resolveDb, serveSetting } from './db-option.js';
import { lockRegistry } from './registry-lock.js';
import { reindex } from './registry-reindex.js';
import { CliError, EXIT_OK, parseFlags, plural, runVerb, UsageError } from './common.js';
import { readKeyFile } from './key-file.js';
import { openTokenKey } from './signing-key.js';
import { writeAgentKey } from './agent-keygen.js';
import { openCa } from './ca.js';
import { Progress } from './progress.js';
import type { RegistryConfig } from './registry-config.js';

// Re-exported: the settings live in registry-config.ts, which serve loads without this module.
export { REGISTRY_FLAGS, REGISTRY_USAGE, resolveRegistryConfig, type RegistryConfig } from './registry-config.js';

/** A secret file of 32 bytes (base64), created with mode 0600 on first use. */
function secretFile(file: string): Uint8Array {
  if (!fs.existsSync(file)) {
    fs.writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  }
  const b = Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64');
  if (b.length !== 32) throw new CliError(`${file} must hold 32 bytes in base64`);
  return new Uint8Array(b);
}

export interface OpenedRegistry {
  app: OpenAPIHono;
  registry: Registry;
  apiKeys: number;
  close(): void;
}

/**
 * Opens the index, the registry (adding its key at first start) and its HTTP
 * app. listenUrl is the server's bound URL (asked at request time, once bound),
 * the _ans-badge base when --registry-public-url is not given.
 */
export async function openRegistry(
  log: Log,
  stateDir: string,
  cfg: RegistryConfig,
  listenUrl: () => string,
  logger: LogLogger = { info: (m) => console.error(m), warn: (m) => console.error(m), error: (m) => console.error(m) },
): Promise<OpenedRegistry> {
  const key = cfg.keyUri !== undefined ? submitterKeyOf(await openTokenKey(cfg.keyUri)) : submitterKey(secretFile(path.join(stateDir, 'registry.key')));
  const nextFile = path.join(stateDir, 'registry.key.next');
  const nextKey =
    cfg.nextKeyUri !== undefined ? submitterKeyOf(await openTokenKey(cfg.nextKeyUri)) : fs.existsSync(nextFile) ? submitterKey(secretFile(nextFile)) : undefined;
  const unlock = lockRegistry(stateDir);
  let index: StateIndex;
  try {
    index = new StateIndex(path.join(stateDir, 'registry.db'), log.origin);
  } catch (err) {
    unlock();
    throw err;
  }
  try {
    const registry = await Registry.open({ log, index, key, ...(nextKey !== undefined && { nextKey }) });
    if (nextKey !== undefined) finishRotation(stateDir, cfg, { from: key.kid, to: nextKey.kid, now: registry.rotatedAtOpen !== null }, logger);
    // Live: re-read on change and on SIGHUP; a broken file keeps the keys in force.
    const apiKeys = new ApiKeyFile(path.join(stateDir, 'registry-api-keys'), {
      onReload: (n) => logger.info(`registry: loaded ${plural(n, 'API key')} from ${path.join(stateDir, 'registry-api-keys')}`),
      onError: (message, err) => logger.error(`registry: API keys not reloaded: ${message}`, err),
    });
    const dns = cfg.dnsValidation
      ? {
          validator: new DnsValidator({ ...(cfg.dnsServers !== undefined && { servers: cfg.dnsServers }), timeoutMs: cfg.dnsTimeoutMs }),
          secret: secretFile(path.join(stateDir, 'registry.secret')),
        }
      : null;
    const ca = cfg.ca == null ? null : await openCa(registry, stateDir, cfg.ca, { apiKeys, info: (m) => logger.info(m), error: (m, e) => logger.error(m, e) });
    const app = createRegistryApp(registry, {
      certificates: ca?.certificates ?? null,
      apiKeys,
      dns,
      rateLimit: { ratePerMinute: cfg.ratePerMinute, burst: cfg.burst },
      resolveDns:
        cfg.resolveDns === null
          ? null
          : new AnsLookup({
              ...(cfg.dnsServers !== undefined && { servers: cfg.dnsServers }),
              timeoutMs: cfg.dnsTimeoutMs,
              maxEntries: cfg.resolveDns.cacheEntries,
              negativeTtlSeconds: cfg.resolveDns.negativeTtlSeconds,
            }),
      publicUrl: cfg.publicUrl ?? listenUrl,
    });
    if (ca !== null) app.route('/', ca.app);
    apiKeys.watch();
    const onHangup = () => {
      apiKeys.reload();
      ca?.reload();
    };
    process.on('SIGHUP', onHangup);
    return {
      app,
      registry,
      apiKeys: apiKeys.size,
      close: () => {
        process.off('SIGHUP', onHangup);
        apiKeys.close();
        ca?.close();
        index.close();
        unlock();
      },
    };
  } catch (err) {
    index.close();
    unlock();
    if (err instanceof TilelogError && err.code === 'REGISTRY_CONFIG') throw new CliError(`${err.message}${sharedKeyHint(err, stateDir)}`);
    throw err;
  }
}

// rotate-key: the seed of the next key, written once (a pending rotation is not replaced).
function makeNextKey(stateDir: string): number {
  const file = path.join(stateDir, 'registry.key.next');
  if (!fs.existsSync(path.join(stateDir, 'registry.key'))) throw new CliError(`${stateDir} has no registry.key: start 'tilelog serve --registry' once first`);
  const seed = randomBytes(32);
  try {
    fs.writeFileSync(file, `${seed.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    throw new CliError(`${file} exists: a rotation is pending; restart 'tilelog serve --registry' to carry it out`);
  }
  process.stdout.write(`${submitterKey(new Uint8Array(seed)).kid}\n`);
  process.stderr.write(`wrote the next submitter key to ${file}; restart 'tilelog serve --registry' to rotate to it\n`);
  return EXIT_OK;
}

// The rotation is in the log: the next key becomes the key. A file key is
// renamed over registry.key (the old seed is gone: it can sign nothing the
// log accepts any more); a token key is the operator's to name from now on.
function finishRotation(stateDir: string, cfg: RegistryConfig, r: { from: string; to: string; now: boolean }, logger: LogLogger): void {
  if (cfg.nextKeyUri === undefined) {
    fs.renameSync(path.join(stateDir, 'registry.key.next'), path.join(stateDir, 'registry.key'));
    const dfd = fs.openSync(stateDir, 'r');
    try {
      fs.fsyncSync(dfd);
    } finally {
      fs.closeSync(dfd);
    }
  }
  const then = cfg.nextKeyUri === undefined ? 'registry.key.next is now registry.key' : 'start with --registry-key <the next key\'s URI> from now on';
  const what = r.now ? `submitter key rotated from ${r.from} to ${r.to} (key.added and key.revoked are in the log)` : `the log already has the rotation from ${r.from} to ${r.to}`;
  logger.info(`registry: ${what}; ${then}`);
  if (cfg.keyUri !== undefined && cfg.nextKeyUri === undefined) logger.warn('registry: --registry-key names the retired key in the token: drop it so registry.key is used');
}

// Processes of one log (serve --db) must sign registry entries with one key:
// a fresh state dir draws its own, which the log does not know.
function sharedKeyHint(err: TilelogError, stateDir: string): string {
  if (!/is not in the log/.test(err.message)) return '';
  return (
    `; if several processes serve this log (--db), each needs the same registry key: copy registry.key ` +
    `(and registry.secret) from the state dir of a process whose registry runs into ${stateDir}`
  );
}

const USAGE = `Usage: tilelog registry apikey --owner <owner> [--state <dir>]
       tilelog registry keygen --out <file> [--force] [--json]
       tilelog registry rotate-key [--state <dir>]
       tilelog registry reindex [--state <dir>] [--key <file>] [--origin <origin>] [--db <postgres://...>] [--json]

apikey: makes an API key for registry writes on behalf of <owner>, appends
its SHA-256 to <state>/registry-api-keys and prints the key once on stdout.
A running 'tilelog serve --registry' picks it up within about a second (it
watches the file, and re-reads it on SIGHUP); no restart needed.

keygen: makes an agent's Ed25519 key pair. Writes the private key to
<file> (PKCS#8 PEM, mode 0600, as 'openssl genpkey -algorithm ed25519'
does, so 'openssl req -new -key <file>' makes the agent's CSR) and prints
the public key as the registry takes it: 32 raw bytes in base64, the
"publicKey" of register and rotate.

rotate-key: makes the next submitter key, <state>/registry.key.next (mode
0600), and prints its key ID. The next 'tilelog serve --registry' start
rotates to it: key.added of the new key signed by the current one, then
key.revoked of the current one (superseded) signed by the new one; from then
on the server signs with the new key and registry.key.next replaces
registry.key. Verifiers that pinned the old key follow with GET
/v1/registry/keys (verifyKeyChain). With --db, copy the new registry.key to
every other process's --state. A key in a token: serve --registry-next-key.

reindex: rebuilds <state>/registry.db from the log's published entries
alone (the entries covered by the last signed checkpoint in <state>/log.db),
with progress on stderr and a summary on stdout. The server must be stopped:
reindex takes <state>/registry.lock, which 'tilelog serve --registry' holds
while it runs. The new index is built beside the old one and renamed over
it at the end, so an interrupted reindex leaves the old index in place.
With --db (a log kept in PostgreSQL by 'tilelog serve --db'), the entries
covered by the last published checkpoint the database records are read,
read-only; only the server using this --state must be stopped (every
process keeps its own registry.db). A frontend's state has no log.key:
give --origin.

  --state <dir>      the server's state dir   [$TILELOG_STATE, .tilelog]
  --owner <id>       apikey: owner the key acts for (a-z, 0-9, ._-)
  --out <file>       keygen: where to write the agent's private key
  --force            keygen: overwrite <file> if it exists
  --key <file>       reindex: the log's key file, whose name is the origin
                     [<state>/log.key, as serve]
  --origin <origin>  reindex: the log's origin (default: the key's name)
  --json             reindex: the summary as one JSON line;
                     keygen: {"publicKey", "keyFile"}
reindex only:
${DB_USAGE}`;

export function run(argv: string[]): Promise<number> {
  return runVerb('registry', USAGE, argv, async (args) => {
    const { values, positionals } = parseFlags(
      args,
      {
        state: { type: 'string' },
        owner: { type: 'string' },
        key: { type: 'string' },
        origin: { type: 'string' },
        json: { type: 'boolean' },
        out: { type: 'string' },
        force: { type: 'boolean' },
        ...DB_FLAGS,
      },
      true,
    );
    const reindexing = positionals[0] === 'reindex';
    // reindex reads serve's settings (a --config file too); the other subcommands only --state / $TILELOG_STATE.
    const setting = (flag: string, variable: string) => (reindexing ? serveSetting(values, process.env, flag, variable)?.value : undefined);
    const stateDir = path.resolve(setting('state', 'TILELOG_STATE') ?? values.state ?? process.env.TILELOG_STATE ?? '.tilelog');
    if (positionals.length !== 1 || !['apikey', 'keygen', 'reindex', 'rotate-key'].includes(positionals[0]!)) {
      throw new UsageError('the subcommands are apikey, keygen, rotate-key and reindex');
    }
    if (positionals[0] !== 'keygen' && (values.out !== undefined || values.force !== undefined)) throw new UsageError('--out and --force are for keygen');
    if (!reindexing && (values.db !== undefined || values.config !== undefined)) throw new UsageError('--db and --config are for reindex');
    if (positionals[0] === 'keygen') {
      if (values.state !== undefined || values.owner !== undefined || values.key !== undefined || values.origin !== undefined) {
        throw new UsageError('keygen takes only --out, --force and --json');
      }
      if (values.out === undefined) throw new UsageError('--out is required (the file to write the agent\'s private key to, e.g. agent.key)');
      const publicKey = writeAgentKey(values.out, values.force === true);
      if (values.json === true) process.stdout.write(`${JSON.stringify({ publicKey, keyFile: values.out })}\n`);
      else {
        process.stderr.write(`wrote the agent's private key to ${values.out} (keep it secret); its public key, for "publicKey":\n`);
        process.stdout.write(`${publicKey}\n`);
      }
      return EXIT_OK;
    }
    if (positionals[0] === 'rotate-key') {
      if (values.owner !== undefined || values.key !== undefined || values.origin !== undefined || values.json !== undefined) {
        throw new UsageError('rotate-key takes only --state');
      }
      return makeNextKey(stateDir);
    }
    if (positionals[0] === 'reindex') {
      if (values.owner !== undefined) throw new UsageError('--owner is for apikey');
      return reindex(stateDir, setting('key', 'TILELOG_KEY'), setting('origin', 'TILELOG_ORIGIN'), values.json === true, resolveDb(values));
    }
    if (values.key !== undefined || values.origin !== undefined || values.json !== undefined) throw new UsageError('--key, --origin and --json are for reindex');
    if (values.owner === undefined) throw new UsageError('--owner is required');
    let made;
    try {
      made = newApiKey(values.owner);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    fs.appendFileSync(path.join(stateDir, 'registry-api-keys'), `${made.line}\n`, { mode: 0o600 });
    process.stdout.write(`${made.key}\n`);
    process.stderr.write(`API key for owner ${values.owner} added to ${path.join(stateDir, 'registry-api-keys')}; a running server loads it within a second\n`);
    return EXIT_OK;
  });
}
