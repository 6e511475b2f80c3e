// tilelog witness: run a C2SP tlog-witness that cosigns checkpoints of the
// logs it is configured for.
//
//   keygen      make a cosigner key (prints the cosignature/v1 verifier key)
//   add-log     trust a log verifier key for an origin
//   remove-log  stop trusting one key, or every key, of an origin
//   list-logs   show the configured logs and how far we cosigned each
//   serve       answer POST /add-checkpoint until SIGINT/SIGTERM
//
// State dir (trusted, private): witness.db (SQLite). The configuration lives
// in the database, so add-log and remove-log take effect on a running server.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { isTilelogError } from '../errors.js';
import { cosignatureSigner, generateCosignerKey, KEY_TYPE_COSIGNATURE_V1, parseVerifierKey } from '../note/index.js';
import { makeDirSync, STATE_DIR_MODE } from '../storage/make-dir.js';
// The HTTP stack (hono, zod, prom-client) is loaded by `serve` only, so the
// state commands (add-log, list-logs, remove-log, keygen) start quickly.
import { SqliteWitnessStore } from '../witness/sqlite-store.js';
import { Witness } from '../witness/witness.js';
import { CliError, EXIT_OK, EXIT_USAGE, parseFlags, plural, runVerb, UsageError } from './common.js';
import { writeKeyFile } from './key-file.js';
import { isPkcs11Uri, printableKey } from './signing-key.js';
import { createCliLogger } from './logger.js';
import { checkWitnessKeyRole, openCosigner } from './witness-keys.js';
import { effectiveWitnessConfig, resolveWitnessServeSettings, WITNESS_SERVE_FLAGS } from './witness-config.js';

const DB_FILE = 'witness.db';

const USAGE = `Usage: tilelog witness <command> [flags]

Runs a witness (c2sp.org/tlog-witness): it cosigns a log's checkpoint only if
it is consistent with every checkpoint it cosigned for that log before.

Commands:
  keygen --name <name> --out <file> [--force] [--json]
                        make a cosigner key; prints its verifier key
  add-log --state <dir> --origin <origin> --key <vkey>
                        trust a log key for an origin (repeat for more keys)
  remove-log --state <dir> --origin <origin> [--key <vkey>]
                        stop trusting one key (or all keys) of an origin
  list-logs --state <dir> [--json]
                        show configured logs and their cosigned sizes
  serve --state <dir> --key <file> [--listen <host:port>] [--config <file>] [--json]
                        serve POST /add-checkpoint (default 127.0.0.1:7380)

Run 'tilelog witness <command> --help' for details.
`;

const KEYGEN_USAGE = `Usage: tilelog witness keygen --name <name> --out <file> [--force] [--json]
       tilelog witness keygen --name <name> --key <pkcs11: URI> [--json]

Makes a new Ed25519 cosigner key named <name> (e.g. witness.example.com/w1),
writes the private key to <file> with mode 0600, and prints the witness's
cosignature/v1 verifier key (key type 0x04), which logs and clients configure.
The private key is written with type 0x04 too (PRIVATE+KEY+<name>+<id>+
base64(0x04 || seed)): that marks it a witness key, which 'tilelog serve'
refuses as a log key. (Go's note packages read only type 0x01 private keys.)

  --name <name>   the witness's name (no spaces or '+')
  --out <file>    where to write the private key; refuses to overwrite
  --force         overwrite <file> if it exists
  --key <URI>     make the key inside a PKCS#11 token instead (RFC 7512
                  pkcs11: URI with module-path and pin-source=file:...);
                  not extractable; serve with --key <URI> --name <name>
  --json          print {"name", "verifierKey", "keyFile"} as JSON
  -h, --help      show this help
`;

const ADD_LOG_USAGE = `Usage: tilelog witness add-log --state <dir> --origin <origin> --key <vkey>

Trusts the Ed25519 note verifier key <vkey> for checkpoints whose origin line
is <origin>. Add a second key for the same origin to rotate keys.

  --state <dir>      the witness state directory (created if absent)
  --origin <origin>  the log's origin, the first line of its checkpoints
  --key <vkey>       the log's verifier key, <name>+<hex id>+<base64>
  -h, --help         show this help
`;

const REMOVE_LOG_USAGE = `Usage: tilelog witness remove-log --state <dir> --origin <origin> [--key <vkey>]

Stops trusting <vkey> for <origin>, or every key of <origin> without --key.
What the witness cosigned for the log stays in the state: if the log is added
again, the witness continues from the size it cosigned last.

  --state <dir>      the witness state directory
  --origin <origin>  the log's origin
  --key <vkey>       only this key
  -h, --help         show this help
`;

const LIST_LOGS_USAGE = `Usage: tilelog witness list-logs --state <dir> [--json]

Lists the configured logs, their keys, and the size last cosigned for each.

  --state <dir>  the witness state directory
  --json         one JSON object: {"logs": [{"origin", "keys", "size", "timestamp"}]}
  -h, --help     show this help
`;

const SERVE_USAGE = `Usage: tilelog witness serve --state <dir> --key <file> [--listen <host:port>] [--config <file>] [--json]

Serves the witness until SIGINT/SIGTERM:
  POST /add-checkpoint                   c2sp.org/tlog-witness
  GET  /                                 status page
  GET  /evidence[?origin=<origin>]       refused checkpoints and cosignatures issued (JSON)
  GET  /<hex sha256(origin)>/checkpoint  the latest cosigned checkpoint
  GET  /metrics                          Prometheus metrics

  --state <dir>         the witness state directory (created if absent)
  --key <file>          cosigner key file (from 'tilelog witness keygen'); a
                        log's key is refused, a plain type 0x01 key warned about
  --key <pkcs11:URI>    ... or a key in a PKCS#11 token (RFC 7512; the PIN in a
                        file: pin-source=file:<path>); needs --name
  --name <name>         the witness name, for a key in a token
  --next-key <file|URI> a second cosigner key, with a new name, during a key
                        transition: each answer carries a cosignature line per
                        key (see the README's witness section for the steps)
  --next-name <name>    the next key's name, for a key in a token
  --listen <host:port>  address to listen on [127.0.0.1:7380]
  --log-level <level>   fatal, error, warn, info, debug, trace or silent; JSON
                        lines on stderr, readable on a terminal [$TILELOG_LOG_LEVEL, info]
  --config <file>       a JSON object of these long flag names without the dashes,
                        e.g. {"state": "...", "key": "...", "listen": ":7380"};
                        flags and TILELOG_LOG_LEVEL win over it [$TILELOG_WITNESS_CONFIG]
  --print-config        print the effective configuration and exit
  --json                print the startup summary as one JSON line
  -h, --help            show this help
`;

const COMMANDS: Record<string, { usage: string; run: (argv: string[]) => Promise<number> }> = {
  keygen: { usage: KEYGEN_USAGE, run: keygen },
  'add-log': { usage: ADD_LOG_USAGE, run: addLog },
  'remove-log': { usage: REMOVE_LOG_USAGE, run: removeLog },
  'list-logs': { usage: LIST_LOGS_USAGE, run: listLogs },
  serve: { usage: SERVE_USAGE, run: serve },
};

export async function run(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    (command === undefined ? process.stderr : process.stdout).write(USAGE);
    return command === undefined ? EXIT_USAGE : EXIT_OK;
  }
  const entry = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (entry === undefined) {
    process.stderr.write(`tilelog witness: unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
    return EXIT_USAGE;
  }
  return runVerb(`witness ${command}`, entry.usage, rest, entry.run);
}

async function keygen(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    name: { type: 'string' },
    out: { type: 'string' },
    key: { type: 'string' },
    force: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  });
  if (!values.name) throw new UsageError('--name is required (e.g. --name witness.example.com/w1)');
  if (values.key !== undefined) return tokenKeygen(values.key, values.name, values.out, values.json === true);
  if (!values.out) throw new UsageError('--out is required (the file to write the private key to, or --key pkcs11:... for a token)');
  let pair;
  try {
    pair = generateCosignerKey(values.name, undefined, { signerKeyType: KEY_TYPE_COSIGNATURE_V1 });
  } catch (err) {
    throw new CliError(`cannot use ${JSON.stringify(values.name)} as a witness name: ${(err as Error).message}`);
  }
  writeKeyFile(values.out, pair.signerKey, values.force === true);
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ name: values.name, verifierKey: pair.verifierKey, keyFile: values.out })}\n`);
  } else {
    process.stderr.write(`wrote the private key to ${values.out} (keep it secret)\n`);
    process.stdout.write(`${pair.verifierKey}\n`);
  }
  return EXIT_OK;
}

// tokenKeygen: the witness key made inside a PKCS#11 token (sensitive, not
// extractable); the verifier key is the cosignature/v1 one of its public key.
async function tokenKeygen(uri: string, name: string, out: string | undefined, json: boolean): Promise<number> {
  if (!isPkcs11Uri(uri)) throw new UsageError('--key must be a pkcs11: URI here (for a key file use --out <file>)');
  if (out !== undefined) throw new UsageError('give --out <file> or --key pkcs11:..., not both');
  try {
    generateCosignerKey(name); // checks the name as for a key file
  } catch (err) {
    throw new CliError(`cannot use ${JSON.stringify(name)} as a witness name: ${(err as Error).message}`);
  }
  const key = await (await import('../hsm/pkcs11-keygen.js')).generatePkcs11Key(uri);
  const signer = cosignatureSigner(name, key);
  key.close();
  if (json) process.stdout.write(`${JSON.stringify({ name, verifierKey: signer.verifierKey, key: printableKey(uri) })}\n`);
  else {
    process.stderr.write(`made the key inside the token (${key.description}); it cannot be exported\n`);
    process.stdout.write(`${signer.verifierKey}\n`);
  }
  return EXIT_OK;
}

async function addLog(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, { state: { type: 'string' }, origin: { type: 'string' }, key: { type: 'string' } });
  const stateDir = requireState(values.state);
  const origin = requireOrigin(values.origin);
  if (!values.key) throw new UsageError('--key is required: the log\'s verifier key, <name>+<hex id>+<base64>');
  let verifier;
  try {
    verifier = parseVerifierKey(values.key);
  } catch (err) {
    throw new CliError(`--key is not an Ed25519 note verifier key (<name>+<8 hex>+<base64 of 0x01 || key>): ${(err as Error).message}`);
  }
  return withStore(stateDir, true, (store) => {
    const existing = store.logKeys(origin).map((k) => parseVerifierKey(k));
    const clash = existing.find((v) => v.name === verifier.name && v.keyId === verifier.keyId);
    if (clash !== undefined && !store.logKeys(origin).includes(values.key!)) {
      throw new CliError(`${origin} already trusts another key with name ${verifier.name} and the same key ID`);
    }
    store.addLog(origin, values.key!);
    process.stderr.write(`${origin}: trusting ${values.key}\n`);
    if (verifier.name !== origin) process.stderr.write(`note: the key name ${verifier.name} differs from the origin (fine for e.g. the Go sumdb)\n`);
    return EXIT_OK;
  });
}

async function removeLog(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, { state: { type: 'string' }, origin: { type: 'string' }, key: { type: 'string' } });
  const stateDir = requireState(values.state);
  const origin = requireOrigin(values.origin);
  return withStore(stateDir, false, (store) => {
    const keys = store.logKeys(origin);
    if (keys.length === 0) {
      const known = store.listLogs().map((l) => l.origin);
      throw new CliError(
        `unknown origin ${JSON.stringify(origin)}; configured: ${known.length > 0 ? known.map((o) => JSON.stringify(o)).join(', ') : 'none'}`,
      );
    }
    if (values.key !== undefined && !keys.includes(values.key)) {
      throw new CliError(`${origin} does not trust ${values.key}; its keys: ${keys.join(', ')}`);
    }
    const n = store.removeLog(origin, values.key);
    process.stderr.write(`${origin}: removed ${plural(n, 'key')}${n === keys.length ? '; the log is no longer witnessed' : ''}\n`);
    return EXIT_OK;
  });
}

async function listLogs(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, { state: { type: 'string' }, json: { type: 'boolean', default: false } });
  const stateDir = requireState(values.state);
  return withStore(stateDir, false, (store) => {
    const logs = store.listLogs().map(({ origin, keys }) => {
      const latest = store.latest(origin);
      return { origin, keys, size: latest?.size ?? null, timestamp: latest?.timestamp ?? null };
    });
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ logs })}\n`);
      return EXIT_OK;
    }
    if (logs.length === 0) process.stderr.write('no logs configured\n');
    for (const log of logs) {
      process.stdout.write(`${log.origin}\tsize ${log.size ?? 'none'}\n`);
      for (const key of log.keys) process.stdout.write(`\tkey ${key}\n`);
    }
    return EXIT_OK;
  });
}

async function serve(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, WITNESS_SERVE_FLAGS);
  const settings = resolveWitnessServeSettings(values);
  if (settings.printConfig) {
    process.stdout.write(`${JSON.stringify(effectiveWitnessConfig(settings), null, 2)}\n`);
    return EXIT_OK;
  }
  const logger = createCliLogger({ level: settings.logLevel, base: { component: 'witness' } });
  const { stateDir, host, port } = settings;
  const { signer, type } = await openCosigner(settings.keyFile, settings.name, '--name');
  const next = settings.nextKeyFile === undefined ? null : await openCosigner(settings.nextKeyFile, settings.nextName, '--next-name');
  if (next !== null && next.signer.name === signer.name) {
    throw new UsageError(`--next-key has the name ${signer.name} of --key; a new witness key comes with a new name (tilelog witness keygen --name <new name>)`);
  }
  makeDirSync(stateDir, STATE_DIR_MODE);
  const store = new SqliteWitnessStore(path.join(stateDir, DB_FILE), { serving: true });
  let witness: Witness;
  try {
    checkWitnessKeyRole(printableKey(settings.keyFile), signer, type, store);
    if (next !== null) checkWitnessKeyRole(printableKey(settings.nextKeyFile!), next.signer, next.type, store);
    witness = new Witness({ store, signer, ...(next !== null && { nextSigner: next.signer }) });
  } catch (err) {
    store.close();
    throw err;
  }
  let server;
  try {
    const [{ startServer }, { createWitnessApp }] = await Promise.all([import('../http/server.js'), import('../witness/app.js')]);
    server = await startServer(createWitnessApp(witness, { logger }), { host, port });
  } catch (err) {
    store.close();
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new CliError(`${host}:${port} is in use; pick another --listen (e.g. 127.0.0.1:7381)`);
    }
    throw err;
  }
  // Listen for the stop signal before the summary announces the server: a
  // supervisor may signal as soon as it reads it.
  const stopSignal = new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  const logs = store.listLogs().length;
  if (settings.json) {
    const nextKey = next === null ? {} : { nextName: next.signer.name, nextVerifierKey: next.signer.verifierKey };
    process.stdout.write(`${JSON.stringify({ url: server.url, name: signer.name, verifierKey: signer.verifierKey, ...nextKey, logs, state: stateDir })}\n`);
  } else {
    process.stdout.write(
      `tilelog witness ${signer.name} at ${server.url}\n` +
        `  verifier key: ${signer.verifierKey}\n` +
        (next === null ? '' : `  next key:     ${next.signer.verifierKey} (cosigns too)\n`) +
        `  logs:         ${logs}${logs === 0 ? " (add one with 'tilelog witness add-log')" : ''}\n` +
        `  state:        ${stateDir}\n`,
    );
  }
  const signal = await stopSignal;
  logger.info(`${signal}: shutting down (finishing requests)...`);
  const force = () => {
    logger.warn('second signal: exiting now');
    process.exit(1);
  };
  process.once('SIGINT', force);
  process.once('SIGTERM', force);
  await server.close();
  store.close();
  logger.info('stopped');
  return EXIT_OK;
}

function requireState(state: string | undefined): string {
  if (!state) throw new UsageError('--state is required (the witness state directory)');
  return state;
}

function requireOrigin(origin: string | undefined): string {
  if (!origin) throw new UsageError('--origin is required (the first line of the log\'s checkpoints)');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(origin)) throw new UsageError('--origin must not contain control characters or newlines');
  return origin;
}

// Opens <state>/witness.db for fn; without create, a missing database is an error.
function withStore(stateDir: string, create: boolean, fn: (store: SqliteWitnessStore) => number): Promise<number> {
  const file = path.join(stateDir, DB_FILE);
  if (!create && !fs.existsSync(file)) {
    throw new CliError(`${stateDir} holds no witness state (${DB_FILE}); add a log first with 'tilelog witness add-log'`);
  }
  makeDirSync(stateDir, STATE_DIR_MODE);
  const store = new SqliteWitnessStore(file);
  try {
    return Promise.resolve(fn(store));
  } catch (err) {
    if (isTilelogError(err)) throw new CliError(err.message);
    throw err;
  } finally {
    store.close();
  }
}
