// `tilelog ca`: the CA operator's commands (the CA itself runs in
// `tilelog serve --registry --registry-ca`, cli/ca.ts):
//   - `tilelog ca adminkey --owner <who>` makes a CA admin key: its SHA-256
//     goes to <state>/ca-admin-keys (the format of registry-api-keys, kept
//     apart: a registry API key acts for an agent owner, never for the CA);
//   - `tilelog ca rotate` asks a running server to rotate the intermediate
//     (POST /v1/ca/rotate, src/ca/rotate.ts) and prints the new one.
// The admin key is read from $TILELOG_CA_ADMIN_KEY or --admin-key-file,
// never from the command line (it would show in ps and shell history).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { newApiKey } from '../registry/http/auth.js';
import { CliError, defaultUrl, EXIT_OK, parseBaseUrl, parseFlags, runVerb, UsageError } from './common.js';

export const CA_ADMIN_KEYS_FILE = 'ca-admin-keys';

const USAGE = `Usage: tilelog ca adminkey --owner <who> [--state <dir>]
       tilelog ca rotate [--object <label>] [--url <url>] [--admin-key-file <file>] [--json]

adminkey: makes a CA admin key, appends its SHA-256 to <state>/${CA_ADMIN_KEYS_FILE}
and prints the key once on stdout. A running server picks it up within about
a second (it watches the file, and re-reads it on SIGHUP).

rotate: rotates the intermediate of a running 'tilelog serve --registry
--registry-ca': a new intermediate key (ca-intermediate-<n>.key in the CA
dir) whose certificate the root signs, logged as ca.key.added; new
certificates are issued with it; the old intermediate is logged as
ca.key.retired and never issues again. Certificates it issued stay
verifiable and revocable, and its CRL (GET /v1/ca/crl?issuer=<key hash>)
and OCSP answers are served until the last of them expires. On a log
shared by several processes (--db), rotate on one and copy the new
ca-intermediate-<n>.key and .crt into the CA dir of the others: until then
they refuse to issue (503, naming the files) and pick the files up at the
next request.
A CA whose intermediate is in a PKCS#11 token (--registry-ca-intermediate-key
pkcs11:...) rotates to another key in that token: make it first with
'tilelog keygen --ca --key <the intermediate's URI with object=<label>>',
then 'tilelog ca rotate --object <label>'. No key file is written; the
server records the key's URI (no PIN) in <CA dir>/ca-intermediate-<n>.uri.

  --state <dir>            adminkey: the server's state dir  [$TILELOG_STATE, .tilelog]
  --owner <who>            adminkey: who the key is for (a-z, 0-9, ._-)
  --url <url>              rotate: the server  [$TILELOG_URL, http://127.0.0.1:8080]
  --admin-key-file <file>  rotate: a file holding the admin key  [$TILELOG_CA_ADMIN_KEY holds the key itself]
  --object <label>         rotate: the label of the new key in the intermediate's token
  --json                   rotate: the server's answer as one JSON line
`;

interface IntermediateJson {
  keyHash: string;
  subject: string;
  addedIndex: number;
  retiredIndex: number | null;
  statusServedUntil: string | null;
}

export function run(argv: string[]): Promise<number> {
  return runVerb('ca', USAGE, argv, async (args) => {
    const { values, positionals } = parseFlags(
      args,
      { state: { type: 'string' }, owner: { type: 'string' }, url: { type: 'string' }, object: { type: 'string' }, 'admin-key-file': { type: 'string' }, json: { type: 'boolean' } },
      true,
    );
    if (positionals.length !== 1 || !['adminkey', 'rotate'].includes(positionals[0]!)) throw new UsageError('the subcommands are adminkey and rotate');
    if (positionals[0] === 'adminkey') {
      if (values.url !== undefined || values['admin-key-file'] !== undefined || values.json !== undefined || values.object !== undefined) {
        throw new UsageError('adminkey takes only --owner and --state');
      }
      if (values.owner === undefined) throw new UsageError('--owner is required (who the admin key is for)');
      let made;
      try {
        made = newApiKey(values.owner);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      const stateDir = path.resolve(values.state ?? process.env.TILELOG_STATE ?? '.tilelog');
      fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
      const file = path.join(stateDir, CA_ADMIN_KEYS_FILE);
      fs.appendFileSync(file, `${made.line}\n`, { mode: 0o600 });
      process.stdout.write(`${made.key}\n`);
      process.stderr.write(`CA admin key for ${values.owner} added to ${file}; a running server loads it within a second\n`);
      return EXIT_OK;
    }
    if (values.owner !== undefined || values.state !== undefined) throw new UsageError('rotate takes --object, --url, --admin-key-file and --json');
    const url = parseBaseUrl('--url', values.url ?? defaultUrl());
    const key = adminKey(values['admin-key-file']);
    process.stderr.write(`rotating the intermediate of ${url} ...\n`);
    let res: Response;
    try {
      const headers = { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' };
      res = await fetch(`${url}/v1/ca/rotate`, { method: 'POST', headers, body: JSON.stringify(values.object === undefined ? {} : { object: values.object }) });
    } catch (err) {
      throw new CliError(`cannot reach ${url}: ${(err as Error).message}`);
    }
    const text = await res.text();
    let body: { error?: { message?: string }; added?: IntermediateJson; retired?: IntermediateJson };
    try {
      body = JSON.parse(text);
    } catch {
      throw new CliError(`${url} answered ${res.status} without JSON: is it 'tilelog serve --registry --registry-ca'?`);
    }
    if (!res.ok) throw new CliError(`${url} refused the rotation (${res.status}): ${body.error?.message ?? text}`);
    if (values.json === true) {
      process.stdout.write(`${JSON.stringify(body)}\n`);
      return EXIT_OK;
    }
    const { added, retired } = body as Required<typeof body>;
    process.stdout.write(
      `issuing intermediate: ${added.subject}  ca:${added.keyHash}  (ca.key.added at index ${added.addedIndex})\n` +
        `retired:              ${retired.subject}  ca:${retired.keyHash}  (ca.key.retired at index ${retired.retiredIndex}); ` +
        `its CRL and OCSP are served until ${retired.statusServedUntil}\n`,
    );
    return EXIT_OK;
  });
}

function adminKey(file: string | undefined): string {
  if (file !== undefined) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      throw new CliError(`cannot read --admin-key-file ${file}: ${(err as Error).message}`);
    }
    const key = text.split('\n')[0]!.trim();
    if (key === '') throw new CliError(`${file} is empty; it must hold the admin key 'tilelog ca adminkey' printed`);
    return key;
  }
  const env = process.env.TILELOG_CA_ADMIN_KEY;
  if (env === undefined || env.trim() === '') throw new UsageError("give the CA admin key: --admin-key-file <file> or $TILELOG_CA_ADMIN_KEY (made by 'tilelog ca adminkey')");
  return env.trim();
}
