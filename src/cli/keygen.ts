// tilelog keygen: makes an Ed25519 note key pair for a log, in a file or
// inside a PKCS#11 token.

import { generateSignerKey, noteSigner, parseSignerKey } from '../note/index.js';
import { parseSignerKeyString } from '../note/keys.js';
import { CliError, EXIT_OK, parseFlags, runVerb, UsageError } from './common.js';
import { readPrivateKeyFile, writeKeyFile } from './key-file.js';
import { isPkcs11Uri, printableKey } from './signing-key.js';

const USAGE = `Usage: tilelog keygen --origin <origin> --out <file> [--force] [--json]
       tilelog keygen --origin <origin> --key <pkcs11: URI> [--from <key file>] [--json]
       tilelog keygen --ca --key <pkcs11: URI> [--json]

Makes a new Ed25519 signing key for a log whose origin (and key name) is
<origin>, e.g. example.com/mylog. Writes the private key to <file> with mode
0600 and prints the verifier key, which clients use to check checkpoints.

With --key, the key is made inside a PKCS#11 token instead (an RFC 7512 URI,
e.g. 'pkcs11:token=tilelog;object=log-key?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/etc/tilelog/pin'):
the private key is generated there, sensitive and not extractable, beside a
public key object of the same label; nothing is written to disk. Serve with
the same --key and --origin. An existing key of that label is never replaced.

  --origin <origin>  the log's origin, also the key name (no spaces or '+')
  --out <file>       where to write the private key; refuses to overwrite
  --force            overwrite <file> if it exists
  --key <pkcs11:URI> make the key in this token instead of a file
  --from <key file>  with --key: move this existing log key file's key into
                     the token (an existing log keeps its key: the key is its
                     identity); then delete the file yourself
  --ca               with --key: make an ECDSA P-256 key for the private CA
                     (serve --registry-ca-root-key / --registry-ca-intermediate-key)
                     and print its public key (PEM)
  --json             print {"origin", "verifierKey", "keyFile" or "key"} as JSON
                     (with --ca: {"publicKey", "spkiSha256", "key"})
  -h, --help         show this help
`;

export function run(argv: string[]): Promise<number> {
  return runVerb('keygen', USAGE, argv, async (args) => {
    const { values } = parseFlags(args, {
      origin: { type: 'string' },
      out: { type: 'string' },
      key: { type: 'string' },
      from: { type: 'string' },
      force: { type: 'boolean', default: false },
      ca: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    });
    if (values.ca === true) {
      const { caTokenKeygen } = await import('./ca-keygen.js');
      return caTokenKeygen(values.key, { origin: values.origin, out: values.out, from: values.from, json: values.json === true });
    }
    if (values.key !== undefined) return tokenKeygen(values.key, values.origin, values.from, values.out, values.json === true);
    if (values.from !== undefined) throw new UsageError('--from moves a key file into a token: give --key pkcs11:... too');
    if (!values.origin) throw new UsageError('--origin is required (e.g. --origin example.com/mylog)');
    if (!values.out) throw new UsageError('--out is required (the file to write the private key to, or --key pkcs11:... for a token)');
    let pair;
    try {
      pair = generateSignerKey(values.origin);
    } catch (err) {
      throw new CliError(`cannot use ${JSON.stringify(values.origin)} as a key name: ${(err as Error).message}`);
    }
    writeKeyFile(values.out, pair.signerKey, values.force === true);
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ origin: values.origin, verifierKey: pair.verifierKey, keyFile: values.out })}\n`);
    } else {
      process.stderr.write(`wrote the private key to ${values.out} (keep it secret)\n`);
      process.stdout.write(`${pair.verifierKey}\n`);
    }
    return EXIT_OK;
  });
}

async function tokenKeygen(uri: string, originFlag: string | undefined, from: string | undefined, out: string | undefined, json: boolean): Promise<number> {
  if (!isPkcs11Uri(uri)) throw new UsageError(`--key must be a pkcs11: URI here (for a key file use --out <file>)`);
  if (out !== undefined) throw new UsageError('give --out <file> or --key pkcs11:..., not both');
  const seed = from === undefined ? undefined : readPrivateKeyFile(from, (s) => parseSignerKeyString(s), `tilelog keygen --origin <origin> --out ${from}`);
  const origin = originFlag ?? seed?.name;
  if (origin === undefined) throw new UsageError('--origin is required (e.g. --origin example.com/mylog)');
  if (seed !== undefined && seed.name !== origin) {
    throw new CliError(`${from} is the key of ${seed.name}, not ${origin}: a log's key keeps its name (leave out --origin)`);
  }
  try {
    generateSignerKey(origin); // checks the name the way a file key's is checked
  } catch (err) {
    throw new CliError(`cannot use ${JSON.stringify(origin)} as a key name: ${(err as Error).message}`);
  }
  const hsm = await import('../hsm/pkcs11-keygen.js');
  const key = seed === undefined ? await hsm.generatePkcs11Key(uri) : await hsm.importPkcs11Key(uri, seed.seed);
  const signer = noteSigner(origin, key, 0x01);
  if (from !== undefined && parseSignerKey(readPrivateKeyFile(from, (s) => s, '')).verifierKey !== signer.verifierKey) {
    throw new Error('keygen: bad math: the imported key has another verifier key than its file');
  }
  key.close();
  if (json) {
    process.stdout.write(`${JSON.stringify({ origin, verifierKey: signer.verifierKey, key: printableKey(uri) })}\n`);
  } else {
    process.stderr.write(
      seed === undefined
        ? `made the key inside the token (${key.description}); it cannot be exported\n`
        : `moved the key of ${from} into the token (${key.description}); delete ${from} once the log serves with --key\n`,
    );
    process.stdout.write(`${signer.verifierKey}\n`);
  }
  return EXIT_OK;
}
