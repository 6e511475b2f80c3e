// tilelog tiles copy <from> <to>: moves a log's public tree between
// directories and buckets, verifying every object (tree-copy.ts).

import { FileTileStore } from '../storage/file-tile-store.js';
import { formatTileLocation, openTileStore, type S3Settings, type TileLocation } from '../storage/tile-location.js';
import type { S3TileStore } from '../storage/s3-tile-store.js';
import type { TileStore } from '../storage/tile-store.js';
import { EXIT_OK, parseCount, parseFlags, plural, runVerb, UsageError } from './common.js';
import { Progress } from './progress.js';
import { resolveS3Settings, S3_FLAGS, S3_USAGE, unconditionalWarning } from './s3-options.js';
import { openTreeSource, parseReadLocation, type ReadLocation } from './tile-source.js';
import { copyTree, type CopyResult } from './tree-copy.js';
import { parseLogKeyFlag } from './trust.js';
import { packageVersion } from './version.js';
import * as path from 'node:path';

const USAGE = `Usage: tilelog tiles copy <from> <to> [--log-key <vkey>] [--dry-run] [flags]

Copies a log's public tree (checkpoint, hash tiles, entry bundles) from one
place to another, e.g. from its tiles directory into a bucket before running
'tilelog serve --tiles s3://...', or from a bucket back to a directory.
Every object is checked against the entries before it is written and read
back after; the recomputed root must match the checkpoint, which is written
last. Re-running is safe: objects already copied are found identical. A
destination holding another log, a newer or a different tree is refused.

  <from>               a directory, s3://<bucket>[/<prefix>], or an http(s) URL
  <to>                 a directory or s3://<bucket>[/<prefix>]
  --log-key <vkey>     verify the checkpoint's signature (recommended)
  --origin <origin>    expected origin (default: the key's name)
  --dry-run            check the source and destination, count what would be
                       copied, write nothing
  --concurrency <n>    objects read and written at once (default 16)
  --json               print the result as JSON
  -h, --help           show this help

Buckets (both ends use the same endpoint settings):
${S3_USAGE}
Stop the log's server (or point it elsewhere) before copying a live tree:
one writer per tree. Exit status: 0 copied (or, with --dry-run, would copy),
1 refused or failed, 2 usage.
`;

export function run(argv: string[]): Promise<number> {
  return runVerb('tiles', USAGE, argv, async (args) => {
    const [sub, ...rest] = args;
    if (sub !== 'copy') throw new UsageError(sub === undefined ? 'give a subcommand: tilelog tiles copy <from> <to>' : `unknown subcommand ${JSON.stringify(sub)}; the only one is copy`);
    return copy(rest);
  });
}

async function copy(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    args,
    {
      'log-key': { type: 'string' },
      origin: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      concurrency: { type: 'string' },
      json: { type: 'boolean', default: false },
      ...S3_FLAGS,
    },
    true,
  );
  if (positionals.length !== 2) throw new UsageError('give two places: tilelog tiles copy <from> <to>');
  const fromLoc = parseReadLocation('<from>', positionals[0]!);
  const toLoc = parseReadLocation('<to>', positionals[1]!);
  if (toLoc.kind === 'url') throw new UsageError(`<to> must be a directory or s3://<bucket>[/<prefix>]; ${positionals[1]} is read-only over HTTP`);
  if (sameLocation(fromLoc, toLoc)) throw new UsageError('<from> and <to> are the same place');
  const s3 = resolveS3Settings(values);
  const vkey = values['log-key'] === undefined ? undefined : parseLogKeyFlag(values['log-key']);
  const concurrency = values.concurrency === undefined ? 16 : parseCount('--concurrency', values.concurrency, 1);
  const json = values.json === true;
  const dryRun = values['dry-run'] === true;

  const source = await openTreeSource(fromLoc, s3);
  let dest: TileStore | null = null;
  let close = (): void => {};
  try {
    const opened = await openDestination(toLoc, s3, dryRun);
    dest = opened.store;
    close = opened.close;
    const where = formatTileLocation(toLoc);
    if (!json) {
      const sig = vkey === undefined ? ' (checkpoint signature NOT checked; pass --log-key <vkey>)' : '';
      process.stderr.write(`${dryRun ? 'checking (dry run)' : 'copying'} ${source.source.where} -> ${where}${sig}\n`);
    }
    let progress: Progress | null = null;
    const result = await copyTree(source.source, dest, {
      vkey,
      origin: values.origin,
      dryRun,
      concurrency,
      onProgress: (n, total) => {
        progress ??= new Progress({ total, unit: 'entries', silent: json });
        progress.update(n);
      },
    });
    (progress as Progress | null)?.finish();
    if (json) process.stdout.write(`${JSON.stringify({ from: source.source.where, to: where, ...result })}\n`);
    else process.stdout.write(summary(result, source.source.where, toLoc, s3));
    return EXIT_OK;
  } finally {
    source.close();
    close();
  }
}

/** The destination store: a directory, or a bucket self-tested like serve's (its checkpoint is replaced conditionally). */
async function openDestination(loc: TileLocation, s3: S3Settings, dryRun: boolean): Promise<{ store: TileStore; close: () => void }> {
  if (loc.kind === 'dir') return { store: new FileTileStore(path.resolve(loc.path)), close: () => {} };
  // A dry run writes nothing, not even the self-test's probe.
  const store = (await openTileStore(loc, { ...s3, selfTest: !dryRun, userAgent: `tilelog/${packageVersion() ?? 'dev'}` })) as S3TileStore;
  if (store.warning !== null) process.stderr.write(unconditionalWarning(store.description));
  return { store, close: () => store.close() };
}

function sameLocation(a: ReadLocation, b: ReadLocation): boolean {
  if (a.kind === 'dir' && b.kind === 'dir') return path.resolve(a.path) === path.resolve(b.path);
  if (a.kind === 's3' && b.kind === 's3') return a.bucket === b.bucket && a.prefix === b.prefix;
  return false;
}

function summary(r: CopyResult, from: string, to: TileLocation, s3: S3Settings): string {
  const where = formatTileLocation(to);
  const size = `${r.origin} at size ${r.treeSize} (root ${r.rootHash})`;
  const objs = `${plural(r.objects, 'object')} (${formatBytes(r.bytes)})`;
  const sig = r.signatureVerified ? 'signature verified' : 'signature NOT checked';
  if (r.dryRun) {
    const then = r.destination === 'empty' ? 'an empty destination' : r.destination === 'older' ? `the older tree there (size ${r.destinationSizeBefore})` : 'the same tree there (missing objects would be added)';
    return `dry run: ${from} holds ${size}, ${sig}; every tile and bundle checks out.\nWould copy ${objs} onto ${then} at ${where}, then the checkpoint. Nothing was written.\n`;
  }
  const before =
    r.destination === 'empty' ? '' : r.destination === 'older' ? ` (it held size ${r.destinationSizeBefore}; extended)` : ' (it already held this tree; checkpoint left as it was)';
  const flags = [
    s3.endpoint !== undefined ? ` --s3-endpoint ${s3.endpoint}` : '',
    s3.region !== undefined ? ` --s3-region ${s3.region}` : '',
    s3.forcePathStyle === true ? ' --s3-force-path-style' : '',
  ].join('');
  const tilesArg = to.kind === 'dir' ? path.resolve(to.path) : where;
  return (
    `OK: copied ${size} from ${from} to ${where}${before}: ${objs}, each read back identical${r.checkpointWritten ? ', then the checkpoint' : ''}; the root recomputes from the entries (${sig}).\n` +
    `Next: stop the server writing to ${from} if one runs, then start it on the copy with the same state directory:\n` +
    `  tilelog serve --state <its state dir> --tiles ${tilesArg}${to.kind === 's3' ? flags : ''}\n`
  );
}

/** 1234567 -> "1.2 MB" (decimal units). */
function formatBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return plural(n, 'byte');
}
