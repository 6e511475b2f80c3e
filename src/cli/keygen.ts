// tilelog keygen: makes an Ed25519 note key pair for a log.

import { generateSignerKey } from '../note/index.js';
import { CliError, EXIT_OK, parseFlags, runVerb, UsageError } from './common.js';
import { writeKeyFile } from './key-file.js';

const USAGE = `Usage: tilelog keygen --origin <origin> --out <file> [--force] [--json]

Makes a new Ed25519 signing key for a log whose origin (and key name) is
<origin>, e.g. example.com/mylog. Writes the private key to <file> with mode
0600 and prints the verifier key, which clients use to check checkpoints.

  --origin <origin>  the log's origin, also the key name (no spaces or '+')
  --out <file>       where to write the private key; refuses to overwrite
  --force            overwrite <file> if it exists
  --json             print {"origin", "verifierKey", "keyFile"} as JSON
  -h, --help         show this help
`;

export function run(argv: string[]): Promise<number> {
  return runVerb('keygen', USAGE, argv, async (args) => {
    const { values } = parseFlags(args, {
      origin: { type: 'string' },
      out: { type: 'string' },
      force: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    });
    if (!values.origin) throw new UsageError('--origin is required (e.g. --origin example.com/mylog)');
    if (!values.out) throw new UsageError('--out is required (the file to write the private key to)');
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
