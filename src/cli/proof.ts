// tilelog proof: fetches a proof from a tilelog server and VERIFIES it
// against the log's signed checkpoint, so the server is not trusted:
//   --index i            entry i is in the latest checkpoint
//   --index i --size n   entry i is in the tree of size n, and that tree is a
//                        prefix of the latest signed checkpoint
//   --old n [--new m]    the tree of size n is a prefix of size m (default: the
//                        latest), and m of the latest signed checkpoint

import { fromBase64Strict, hashEqual, leafHash, toBase64, verifyConsistency, verifyInclusion } from '../merkle/index.js';
import type { Checkpoint } from '../note/index.js';
import { getJson } from './client.js';
import { CliError, defaultUrl, EXIT_OK, parseBaseUrl, parseCount, parseFlags, runVerb, UsageError } from './common.js';
import { logKeyFor, openServerCheckpoint, parseLogKeyFlag, type ServerCheckpoint } from './trust.js';

const USAGE = `Usage: tilelog proof [--url <url>] --index <i> [--size <n>] [--log-key <vkey>]
       tilelog proof [--url <url>] --old <n> [--new <m>] [--log-key <vkey>]

Fetches a proof from a tilelog server and verifies it locally against the
log's signed checkpoint:

  --index <i>        prove that entry i (zero-based) is in the log: in the
                     latest checkpoint, or in the tree of size --size <n>
                     (then also proves that tree is a prefix of the latest)
  --old <n>          prove the tree of size n is a prefix of the tree of size
                     --new <m> (default: the latest checkpoint)
  --url <url>        the log (default $TILELOG_URL or http://127.0.0.1:8080)
  --log-key <vkey>   the log's verifier key, obtained out of band; without it
                     the key the server reports is used, with a warning
  --json             print the verdict as JSON
  -h, --help         show this help

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
      'log-key': { type: 'string' },
      json: { type: 'boolean', default: false },
    });
    const url = parseBaseUrl('--url', values.url ?? defaultUrl());
    const inclusion = values.index !== undefined;
    const consistency = values.old !== undefined;
    if (inclusion === consistency) throw new UsageError('give either --index <i> (inclusion) or --old <n> (consistency)');
    if (inclusion && values.new !== undefined) throw new UsageError('--new goes with --old; with --index use --size');
    if (consistency && values.size !== undefined) throw new UsageError('--size goes with --index; with --old use --new');

    // Every flag is checked before the first request.
    const first = inclusion ? parseCount('--index', values.index!) : parseCount('--old', values.old!, 1);
    const second = inclusion
      ? values.size === undefined ? undefined : parseCount('--size', values.size, 1)
      : values.new === undefined ? undefined : parseCount('--new', values.new, 1);
    const logKey = values['log-key'] === undefined ? undefined : parseLogKeyFlag(values['log-key']);

    const json = values.json === true;
    const key = await logKeyFor(url, logKey, () => getJson(`${url}/v1/log/info`));
    const latest = openServerCheckpoint(await getText(`${url}/checkpoint`), key.vkey, key.keyFromServer);
    const result = inclusion
      ? await proveInclusion(url, latest, first, second)
      : await proveConsistency(url, latest, first, second);
    result.keyFromServer = key.keyFromServer;
    process.stdout.write(json ? `${JSON.stringify(result)}\n` : `${String(result.message)}\n`);
    return EXIT_OK;
  });
}

async function getText(url: string): Promise<string> {
  const res = await fetch(url).catch((err: Error) => {
    throw new CliError(`cannot reach ${url} (${err.message}); is 'tilelog serve' running there? Set --url or $TILELOG_URL`);
  });
  if (!res.ok) throw new CliError(`${url}: HTTP ${res.status}`);
  return res.text();
}

function hashes(name: string, value: unknown): Uint8Array[] {
  if (!Array.isArray(value)) throw new CliError(`the server's answer has no ${name} array`);
  return value.map((h) => hash(name, h));
}

function hash(name: string, value: unknown): Uint8Array {
  if (typeof value !== 'string') throw new CliError(`the server's answer has no ${name}`);
  return fromBase64Strict(value, 32);
}

function signedBy(c: ServerCheckpoint): string {
  return c.keyFromServer ? 'signed by the key the server reported' : 'signed by --log-key';
}

/** Checks that the tree of size `size` with root `root` is a prefix of the signed latest checkpoint. */
async function anchor(url: string, latest: Checkpoint, size: number, root: Uint8Array): Promise<void> {
  if (size === latest.size) {
    if (!hashEqual(root, latest.root)) throw new CliError(`root for size ${size} differs from the signed checkpoint's`);
    return;
  }
  const c = await getJson<Json>(`${url}/v1/log/consistency/${size}/${latest.size}`);
  try {
    verifyConsistency(undefined, size, latest.size, hashes('consistencyProof', c.consistencyProof), root, latest.root);
  } catch (err) {
    throw new CliError(`the tree of size ${size} is NOT proven a prefix of the signed checkpoint: ${(err as Error).message}`);
  }
}

async function proveInclusion(url: string, latest: ServerCheckpoint, index: number, size?: number): Promise<Json> {
  const treeSize = size ?? latest.checkpoint.size;
  if (treeSize > latest.checkpoint.size) {
    throw new CliError(`size ${treeSize} is beyond the latest checkpoint (size ${latest.checkpoint.size})`);
  }
  if (index >= treeSize) throw new CliError(`entry ${index} is not in a tree of size ${treeSize} (indexes start at 0)`);
  const e = await getJson<Json>(`${url}/v1/log/entry/${index}`);
  const entry = fromBase64Strict(String(e.entry), undefined);
  const leaf = leafHash(entry);
  let root: Uint8Array;
  let proof: Uint8Array[];
  if (size === undefined) {
    root = latest.checkpoint.root;
    // The entry answer may be for a newer checkpoint than the one we fetched.
    const answer = e.treeSize === treeSize ? e : await getJson<Json>(`${url}/v1/log/inclusion/${index}/${treeSize}`);
    proof = hashes('inclusionProof', answer.inclusionProof);
  } else {
    const p = await getJson<Json>(`${url}/v1/log/inclusion/${index}/${treeSize}`);
    root = hash('rootHash', p.rootHash);
    proof = hashes('inclusionProof', p.inclusionProof);
    await anchor(url, latest.checkpoint, treeSize, root);
  }
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
    leafHash: toBase64(leaf),
    rootHash: toBase64(root),
    checkpointSize: latest.checkpoint.size,
    message:
      `OK: entry ${index} (leaf hash ${toBase64(leaf)}) is included in the tree of size ${treeSize} ` +
      `(root ${toBase64(root)})${treeSize === latest.checkpoint.size ? '' : `, a prefix of the tree of size ${latest.checkpoint.size}`}; ` +
      `checkpoint of ${latest.checkpoint.origin} ${signedBy(latest)}.`,
  };
}

async function proveConsistency(url: string, latest: ServerCheckpoint, oldSize: number, newSize?: number): Promise<Json> {
  const target = newSize ?? latest.checkpoint.size;
  if (target > latest.checkpoint.size) {
    throw new CliError(`--new ${target} is beyond the latest checkpoint (size ${latest.checkpoint.size})`);
  }
  if (oldSize > target) throw new CliError(`--old ${oldSize} is larger than the new size ${target}`);
  const c = await getJson<Json>(`${url}/v1/log/consistency/${oldSize}/${target}`);
  const oldRoot = hash('oldRoot', c.oldRoot);
  const newRoot = hash('newRoot', c.newRoot);
  await anchor(url, latest.checkpoint, target, newRoot);
  try {
    verifyConsistency(undefined, oldSize, target, hashes('consistencyProof', c.consistencyProof), oldRoot, newRoot);
  } catch (err) {
    throw new CliError(`the tree of size ${oldSize} is NOT proven a prefix of size ${target}: ${(err as Error).message}`);
  }
  return {
    ok: true,
    kind: 'consistency',
    oldSize,
    newSize: target,
    oldRoot: toBase64(oldRoot),
    newRoot: toBase64(newRoot),
    checkpointSize: latest.checkpoint.size,
    message:
      `OK: the tree of size ${oldSize} (root ${toBase64(oldRoot)}) is a prefix of the tree of size ${target} ` +
      `(root ${toBase64(newRoot)}); checkpoint of ${latest.checkpoint.origin} at size ${latest.checkpoint.size} ${signedBy(latest)}.`,
  };
}
