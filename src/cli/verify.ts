// tilelog verify: checks a proof bundle (spec/BUNDLE.md, JSON or CBOR) offline
// against pinned keys. No network. Exit 0 with a one-line summary; exit 1
// naming the step that failed (decode, checkpoint signature, cosignature
// quorum, cosignature timestamp, checkpoint age, inclusion); exit 2 on usage.

import * as fs from 'node:fs/promises';
import { isClientError, trustPolicy, verifyBundle, type BundleVerification, type TrustPolicyInput } from '../client/index.js';
import { CliError, EXIT_FAILURE, EXIT_OK, parseCount, parseFlags, plural, runVerb, UsageError } from './common.js';
import { formatHash, HASH_FORMAT_HELP } from './hash-text.js';

const USAGE = `Usage: tilelog verify <bundle file | -> --log-key <vkey> [--origin <origin>]
                      [--witness <vkey>]... [--quorum <K>] [--policy <file>]
                      [--max-age <s>] [--max-skew <s>] [--json]

Verifies a proof bundle (JSON or CBOR, see spec/BUNDLE.md) offline: the
checkpoint's log signature and origin, the witness cosignatures, and that the
entry is included. Reads the bundle from a file, or from stdin with '-'.

  --log-key <vkey>   the log's verifier key, obtained out of band (optional
                     only when --policy has exactly one log line)
  --origin <origin>  the log's origin line (default: the log key's name)
  --witness <vkey>   a witness's cosignature/v1 verifier key; repeat for more
  --quorum <K>       distinct valid witness cosignatures needed (default: all
                     --witness keys)
  --policy <file>    a c2sp.org/tlog-policy file instead of --witness/--quorum
  --max-age <s>      fail if the newest cosignature is older than s seconds
                     (needs witnesses: a checkpoint alone carries no time)
  --max-skew <s>     allowed cosignature time in the future (default 60)
  --now <t>          check at POSIX time t instead of the clock
  --json             print the result as JSON
  -h, --help         show this help

${HASH_FORMAT_HELP}
Exit status: 0 verified, 1 a check failed (the message names the step), 2 usage.
`;

export function run(argv: string[]): Promise<number> {
  return runVerb('verify', USAGE, argv, async (args) => {
    const { values, positionals } = parseFlags(
      args,
      {
        'log-key': { type: 'string' },
        origin: { type: 'string' },
        witness: { type: 'string', multiple: true },
        quorum: { type: 'string' },
        policy: { type: 'string' },
        'max-age': { type: 'string' },
        'max-skew': { type: 'string' },
        now: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
      true,
    );
    if (positionals.length !== 1) throw new UsageError('give exactly one bundle file (or - for stdin)');
    if (values['log-key'] === undefined && values.policy === undefined) throw new UsageError('--log-key is required (or a --policy with a log line)');
    if (values.policy !== undefined && (values.witness !== undefined || values.quorum !== undefined)) {
      throw new UsageError('give either --policy or --witness/--quorum, not both');
    }
    const input: TrustPolicyInput = {
      ...(values['log-key'] !== undefined && { logKey: values['log-key'].trim() }),
      ...(values.origin !== undefined && { origin: values.origin }),
      ...(values.witness !== undefined && { witnesses: values.witness.map((w) => w.trim()) }),
      ...(values.quorum !== undefined && { quorum: parseCount('--quorum', values.quorum) }),
      ...(values['max-age'] !== undefined && { maxAgeSeconds: parseCount('--max-age', values['max-age']) }),
      ...(values['max-skew'] !== undefined && { maxFutureSkewSeconds: parseCount('--max-skew', values['max-skew']) }),
    };
    if (values.policy !== undefined) input.policyText = await readText(values.policy);
    const now = values.now === undefined ? undefined : parseCount('--now', values.now);
    let policy;
    try {
      policy = trustPolicy(input);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const file = positionals[0]!;
    const data = file === '-' ? await readStdin() : await readBytes(file);

    let result: BundleVerification;
    try {
      result = verifyBundle(data, policy, now);
    } catch (err) {
      if (!isClientError(err)) throw err;
      if (values.json) process.stdout.write(`${JSON.stringify({ ok: false, step: err.step, code: err.code, message: err.message })}\n`);
      process.stderr.write(`tilelog verify: FAILED at ${err.step}: ${err.message} (${err.code})\n`);
      return EXIT_FAILURE;
    }
    process.stdout.write(values.json ? `${JSON.stringify(summaryJson(result))}\n` : `${summaryLine(result)}\n`);
    return EXIT_OK;
  });
}

function summaryLine(r: BundleVerification): string {
  const cp = r.checkpoint;
  const witnesses = cp.cosigners.length === 0
    ? 'no witness cosignatures required'
    : `cosigned by ${cp.cosigners.map((c) => c.name).join(', ')} (newest ${new Date(cp.newestCosignature! * 1000).toISOString().replace('.000Z', 'Z')})`;
  return `OK: entry ${r.index} (${plural(r.entry.length, 'byte')}, leaf hash ${formatHash(r.leafHash)}) is in ${cp.origin} at size ${cp.size}; ${witnesses}`;
}

function summaryJson(r: BundleVerification) {
  const cp = r.checkpoint;
  return {
    ok: true,
    index: r.index,
    leafHash: formatHash(r.leafHash),
    origin: cp.origin,
    treeSize: cp.size,
    cosigners: cp.cosigners.map((c) => ({ name: c.name, timestamp: c.timestamp })),
  };
}

async function readBytes(file: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await fs.readFile(file));
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`);
  }
}

async function readText(file: string): Promise<string> {
  return new TextDecoder().decode(await readBytes(file));
}

async function readStdin(): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return new Uint8Array(Buffer.concat(chunks));
}
