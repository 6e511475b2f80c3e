// tilelog proof: gets a proof of a log and VERIFIES it against the log's
// signed checkpoint, so the server is not trusted:
//   --index i            entry i is in the latest checkpoint
//   --index i --size n   entry i is in the tree of size n, and that tree is a
//                        prefix of the latest signed checkpoint
//   --old n [--new m]    the tree of size n is a prefix of size m (default: the
//                        latest), and m of the latest signed checkpoint
// The proofs come from tilelog's JSON API when the URL has one, else they are
// computed from the tiles (any tlog-tiles log: a static mirror, a bucket):
// proof-source.ts.

import { hashEqual, leafHash, verifyConsistency, verifyInclusion, type Hash } from '../merkle/index.js';
import type { Checkpoint } from '../note/index.js';
import { CliError, defaultUrl, EXIT_OK, parseBaseUrl, parseCount, parseFlags, runVerb, UsageError } from './common.js';
import { formatHash, HASH_FORMAT_HELP, parseHashFlag } from './hash-text.js';
import { openProofSource, type ProofSource } from './proof-source.js';
import { parseLogKeyFlag, type ServerCheckpoint } from './trust.js';

const USAGE = `Usage: tilelog proof [--url <url>] --index <i> [--size <n>] [--leaf-hash <h>] [--log-key <vkey>]
       tilelog proof [--url <url>] --old <n> [--new <m>] [--root <h>] [--log-key <vkey>]

Gets a proof and verifies it locally against the log's signed checkpoint.
From a tilelog server it asks the proof API; from any other tlog-tiles log (a
static mirror, a bucket) it computes the proof from the tiles, authenticated
against the signed checkpoint, and says "computed from tiles".

  --index <i>        prove that entry i (zero-based) is in the log: in the
                     latest checkpoint, or in the tree of size --size <n>
                     (then also proves that tree is a prefix of the latest)
  --leaf-hash <h>    with --index: also check that entry i's leaf hash is h
  --old <n>          prove the tree of size n is a prefix of the tree of size
                     --new <m> (default: the latest checkpoint)
  --root <h>         the root you hold for the older tree (--old, or --size):
                     the proof must lead from it
  --url <url>        the log (default $TILELOG_URL or http://127.0.0.1:8080)
  --log-key <vkey>   the log's verifier key, obtained out of band; without it
                     the key a tilelog server reports is used, with a warning
                     (a static mirror reports none: then it is required)
  --json             print the verdict as JSON
  -h, --help         show this help

${HASH_FORMAT_HELP}
Exit status: 0 when the proof verifies, 1 when it does not (or on error).
`;

type Json = Record<string, unknown>;

export function run(argv: string[]): Promise<number> {
  return runVerb('proof', USAGE, argv, async (args) => {
    const { values } = parseFlags(args, {
      url: { type: 'string' },
      index: { type: 'string' },
      size: { type: 'string' },
      old: { type: 'string' },
      new: { type: 'string' },
      'leaf-hash': { type: 'string' },
      root: { type: 'string' },
      'log-key': { type: 'string' },
      json: { type: 'boolean', default: false },
    });
    const url = parseBaseUrl('--url', values.url ?? defaultUrl());
    const inclusion = values.index !== undefined;
    const consistency = values.old !== undefined;
    if (inclusion === consistency) throw new UsageError('give either --index <i> (inclusion) or --old <n> (consistency)');
    if (inclusion && values.new !== undefined) throw new UsageError('--new goes with --old; with --index use --size');
    if (consistency && values.size !== undefined) throw new UsageError('--size goes with --index; with --old use --new');
    if (consistency && values['leaf-hash'] !== undefined) throw new UsageError('--leaf-hash goes with --index');

    // Every flag is checked before the first request.
    const first = inclusion ? parseCount('--index', values.index!) : parseCount('--old', values.old!, 1);
    const second = inclusion
      ? values.size === undefined ? undefined : parseCount('--size', values.size, 1)
      : values.new === undefined ? undefined : parseCount('--new', values.new, 1);
    const expected: Expected = {
      ...(values['leaf-hash'] !== undefined && { leafHash: parseHashFlag('--leaf-hash', values['leaf-hash']) }),
      ...(values.root !== undefined && { root: parseHashFlag('--root', values.root) }),
    };

    const logKey = values['log-key'] === undefined ? undefined : parseLogKeyFlag(values['log-key']);

    const source = await openProofSource(url, logKey);
    const latest = source.latest;
    const result = inclusion
      ? await proveInclusion(source, latest, first, second, expected)
      : await proveConsistency(source, latest, first, second, expected);
    result.keyFromServer = latest.keyFromServer;
    result.source = source.computed ? 'tiles' : 'api';
    if (source.computed) result.message = `${String(result.message)} Computed from tiles: ${url} has no proof API.`;
    process.stdout.write(values.json === true ? `${JSON.stringify(result)}\n` : `${String(result.message)}\n`);
    return EXIT_OK;
  });
}

/** Hashes the user holds, which the proof must agree with. */
interface Expected {
  leafHash?: Hash;
  root?: Hash;
}

function signedBy(c: ServerCheckpoint): string {
  return c.keyFromServer ? 'signed by the key the server reported' : 'signed by --log-key';
}

function checkExpected(what: string, flag: string, want: Hash | undefined, got: Hash): void {
  if (want !== undefined && !hashEqual(want, got)) {
    throw new CliError(`${what} is ${formatHash(got)}, not the ${flag} ${formatHash(want)} you gave`);
  }
}

/** Checks that the tree of size `size` with root `root` is a prefix of the signed latest checkpoint. */
async function anchor(source: ProofSource, latest: Checkpoint, size: number, root: Hash): Promise<void> {
  if (size === latest.size) {
    if (!hashEqual(root, latest.root)) throw new CliError(`root for size ${size} differs from the signed checkpoint's`);
    return;
  }
  const c = await source.consistency(size, latest.size);
  try {
    verifyConsistency(undefined, size, latest.size, c.proof, root, latest.root);
  } catch (err) {
    throw new CliError(`the tree of size ${size} is NOT proven a prefix of the signed checkpoint: ${(err as Error).message}`);
  }
}

async function proveInclusion(source: ProofSource, latest: ServerCheckpoint, index: number, size: number | undefined, expected: Expected): Promise<Json> {
  const treeSize = size ?? latest.checkpoint.size;
  if (treeSize > latest.checkpoint.size) {
    throw new CliError(`size ${treeSize} is beyond the latest checkpoint (size ${latest.checkpoint.size})`);
  }
  if (index >= treeSize) throw new CliError(`entry ${index} is not in a tree of size ${treeSize} (indexes start at 0)`);
  const leaf = leafHash(await source.entry(index));
  checkExpected(`the leaf hash of entry ${index}`, '--leaf-hash', expected.leafHash, leaf);
  const { root, proof } = await source.inclusion(index, treeSize);
  checkExpected(`the root of the tree of size ${treeSize}`, '--root', expected.root, root);
  await anchor(source, latest.checkpoint, treeSize, root);
  try {
    verifyInclusion(undefined, index, treeSize, leaf, proof, root);
  } catch (err) {
    throw new CliError(`entry ${index} is NOT proven included in the tree of size ${treeSize}: ${(err as Error).message}`);
  }
  return {
    ok: true,
    kind: 'inclusion',
    index,
    treeSize,
    leafHash: formatHash(leaf),
    rootHash: formatHash(root),
    checkpointSize: latest.checkpoint.size,
    message:
      `OK: entry ${index} (leaf hash ${formatHash(leaf)}) is included in the tree of size ${treeSize} ` +
      `(root ${formatHash(root)})${treeSize === latest.checkpoint.size ? '' : `, a prefix of the tree of size ${latest.checkpoint.size}`}; ` +
      `checkpoint of ${latest.checkpoint.origin} ${signedBy(latest)}.`,
  };
}

async function proveConsistency(source: ProofSource, latest: ServerCheckpoint, oldSize: number, newSize: number | undefined, expected: Expected): Promise<Json> {
  const target = newSize ?? latest.checkpoint.size;
  if (target > latest.checkpoint.size) {
    throw new CliError(`--new ${target} is beyond the latest checkpoint (size ${latest.checkpoint.size})`);
  }
  if (oldSize > target) throw new CliError(`--old ${oldSize} is larger than the new size ${target}`);
  const c = await source.consistency(oldSize, target);
  checkExpected(`the root of the tree of size ${oldSize}`, '--root', expected.root, c.oldRoot);
  await anchor(source, latest.checkpoint, target, c.newRoot);
  try {
    verifyConsistency(undefined, oldSize, target, c.proof, c.oldRoot, c.newRoot);
  } catch (err) {
    throw new CliError(`the tree of size ${oldSize} is NOT proven a prefix of size ${target}: ${(err as Error).message}`);
  }
  return {
    ok: true,
    kind: 'consistency',
    oldSize,
    newSize: target,
    oldRoot: formatHash(c.oldRoot),
    newRoot: formatHash(c.newRoot),
    checkpointSize: latest.checkpoint.size,
    message:
      `OK: the tree of size ${oldSize} (root ${formatHash(c.oldRoot)}) is a prefix of the tree of size ${target} ` +
      `(root ${formatHash(c.newRoot)}); checkpoint of ${latest.checkpoint.origin} at size ${latest.checkpoint.size} ${signedBy(latest)}.`,
  };
}
