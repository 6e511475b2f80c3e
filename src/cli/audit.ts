// tilelog audit: recompute a whole log from its entry bundles and check every
// hash tile and the checkpoint root (arithmetic in audit-tree.ts).

import { decodeBundle, leafHash, tilePath, TILE_WIDTH, hashEqual, type Hash, type TileId } from '../merkle/index.js';
import type { Checkpoint } from '../note/index.js';
import { formatHash, HASH_FORMAT_HELP } from './hash-text.js';
import { CliError, EXIT_FAILURE, EXIT_OK, parseCount, parseFlags, plural, runVerb, UsageError } from './common.js';
import { Progress } from './progress.js';
import { TreeAuditor, type Mismatch } from './audit-tree.js';
import { openTreeSource, parseReadLocation, type TileSource } from './tile-source.js';
import { resolveS3Settings, S3_FLAGS, S3_USAGE } from './s3-options.js';
import { openLogCheckpoint, parseLogKeyFlag } from './trust.js';
import { DbAudit, type DbAuditSummary } from './audit-db.js';
import { DB_FLAGS, DB_USAGE, resolveDb } from './db-option.js';

const USAGE = `Usage: tilelog audit <url | dir | s3://bucket/prefix> [--log-key <vkey>] [--origin <origin>] [--db <postgres://...>] [--json]

Reads a log's checkpoint, downloads every entry bundle and hash tile, and
recomputes every hash from the entries up to the root: each hash tile must
match, and the root must equal the checkpoint's. Works on any C2SP
tlog-tiles log: a tilelog server, a static copy of tiles/, a local dir, or a
bucket (by its HTTP URL, or s3:// with the --s3-* flags below).

  <url | dir | s3://bucket[/prefix]>
                       base URL (http://127.0.0.1:8080, a bucket's or CDN's URL),
                       a directory holding 'checkpoint' and 'tile/' (e.g. tiles/),
                       or a bucket and key prefix read with the S3 API
  --log-key <vkey>     verify the checkpoint signature with this verifier key
  --origin <origin>    expected origin (default: the key's name)
  --concurrency <n>    downloads in flight (default 16)
  --json               print the verdict as JSON
  -h, --help           show this help

${HASH_FORMAT_HELP}

With --db (a log served by 'tilelog serve --db'), the database is audited
against the tree too: the bucket's checkpoint is not ahead of the database's
signed state, the tree is recomputed up to the database's signed size and
must give its signed root, and every entry up to that size is the same in the
database and in its bundle.
${DB_USAGE}
Reading s3:// (GetObject only; nothing is written):
${S3_USAGE.replace(/^  --s3-unconditional[\s\S]*?refuse such a store\]\n/m, '')}
Exit status: 0 when everything matches, 1 on any mismatch or error.
`;

export function run(argv: string[]): Promise<number> {
  return runVerb('audit', USAGE, argv, async (args) => {
    const { values, positionals } = parseFlags(
      args,
      {
        'log-key': { type: 'string' },
        origin: { type: 'string' },
        concurrency: { type: 'string' },
        json: { type: 'boolean', default: false },
        's3-endpoint': S3_FLAGS['s3-endpoint'],
        's3-region': S3_FLAGS['s3-region'],
        's3-force-path-style': S3_FLAGS['s3-force-path-style'],
        ...DB_FLAGS,
      },
      true,
    );
    if (positionals.length !== 1) throw new UsageError('give exactly one log: a URL, a tiles directory or s3://<bucket>[/<prefix>]');
    const loc = parseReadLocation('the log to audit', positionals[0]!);
    const s3 = resolveS3Settings(values);
    const vkey = values['log-key'] === undefined ? undefined : parseLogKeyFlag(values['log-key']);
    const concurrency = values.concurrency === undefined ? 16 : parseCount('--concurrency', values.concurrency, 1);
    const db = resolveDb(values);
    const opened = await openTreeSource(loc, s3);
    let result: AuditResult;
    try {
      result = await audit(opened.source, {
        vkey,
        origin: values.origin,
        concurrency,
        quiet: values.json === true,
        ...(db !== undefined && { db: (origin: string) => DbAudit.open(db, origin) }),
      });
    } finally {
      opened.close();
    }
    if (values.json) {
      process.stdout.write(`${JSON.stringify(result)}\n`);
    } else {
      process.stdout.write(verdict(result));
    }
    return result.ok ? EXIT_OK : EXIT_FAILURE;
  });
}

export interface AuditResult {
  ok: boolean;
  source: string;
  origin: string;
  treeSize: number;
  rootHash: string;
  signatureVerified: boolean;
  entries: number;
  bundles: number;
  tiles: number;
  mismatches: Mismatch[];
  /** With --db: the database's state and how much of it was compared. */
  database?: DbAuditSummary;
}

interface AuditOptions {
  vkey: string | undefined;
  origin: string | undefined;
  concurrency: number;
  quiet: boolean;
  /** With --db: opens the database's side of the audit for the checkpoint's origin. */
  db?: (origin: string) => Promise<DbAudit>;
}

/** Audits the log at source. Throws CliError when it cannot even start. */
export async function audit(source: TileSource, opts: AuditOptions): Promise<AuditResult> {
  const raw = await source.read('checkpoint');
  if (raw === null) throw new CliError(`no checkpoint at ${source.where}; is this a tlog-tiles log?`);
  const { checkpoint, signatureVerified } = openLogCheckpoint(new TextDecoder().decode(raw), opts.vkey, opts.origin);
  if (!signatureVerified && !opts.quiet) {
    process.stderr.write('warning: checkpoint signature NOT checked; pass --log-key <vkey> to check it\n');
  }
  const db = opts.db === undefined ? null : await opts.db(checkpoint.origin);
  try {
    const target = db === null ? { size: checkpoint.size, root: checkpoint.root } : await db.plan(checkpoint, opts.vkey);
    const result = await auditTree(source, checkpoint, signatureVerified, target, db, opts);
    if (db === null) return result;
    db.finish();
    const mismatches = [...db.mismatches, ...result.mismatches];
    return { ...result, ok: mismatches.length === 0, mismatches, database: db.summary };
  } finally {
    await db?.close();
  }
}

// auditTree: recompute the tree of target.size from the bundles, checking
// every tile and target.root (the bucket's checkpoint, or with --db the
// database's signed tree), and hand each bundle's entries to the database check.
async function auditTree(
  source: TileSource,
  checkpoint: Checkpoint,
  signatureVerified: boolean,
  target: { size: number; root: Hash },
  db: DbAudit | null,
  opts: AuditOptions,
): Promise<AuditResult> {
  const size = target.size;
  const auditor = new TreeAuditor(size, (tile) => readTile(source, tile));
  const progress = new Progress({ total: size, unit: 'entries', silent: opts.quiet });
  const bundleCount = Math.ceil(size / TILE_WIDTH);

  // Download bundle k and level-0 tile k ahead in a window of `concurrency`,
  // consume them strictly in order.
  const fetchPair = (k: number) => {
    const width = Math.min(TILE_WIDTH, size - k * TILE_WIDTH);
    return Promise.all([
      readTile(source, { level: -1, index: k, width }),
      readTile(source, { level: 0, index: k, width }),
    ]);
  };
  const window: Promise<[Uint8Array | null, Uint8Array | null]>[] = [];
  let next = 0;
  const fill = () => {
    while (window.length < opts.concurrency && next < bundleCount) {
      const p = fetchPair(next++);
      p.catch(() => {}); // surfaced when awaited in order
      window.push(p);
    }
  };
  let entries = 0;
  for (let k = 0; k < bundleCount; k++) {
    fill();
    const [bundle, tile] = await window.shift()!;
    const width = Math.min(TILE_WIDTH, size - k * TILE_WIDTH);
    const bundleId: TileId = { level: -1, index: k, width };
    let leaves: Uint8Array[];
    if (bundle === null) {
      auditor.mismatches.push({ path: tilePath(bundleId), problem: 'missing' });
      throw new CliError(`${tilePath(bundleId)} is missing at ${source.where}; cannot recompute the tree past entry ${k * TILE_WIDTH}`);
    }
    try {
      leaves = decodeBundle(bundle, width);
    } catch (err) {
      throw new CliError(`${tilePath(bundleId)} does not parse as a ${width}-entry bundle: ${(err as Error).message}`);
    }
    const hashes = leaves.map((e) => leafHash(e));
    await auditor.addLeaves(k, hashes, tile);
    await db?.bundle(k * TILE_WIDTH, leaves, hashes);
    entries += width;
    progress.update(entries);
  }
  const root = await auditor.finish();
  progress.finish();
  const rootOk = size === 0 || (root !== null && hashEqual(root, target.root));
  if (!rootOk) {
    auditor.mismatches.push({
      path: size === checkpoint.size ? 'checkpoint' : `database's signed checkpoint (size ${size})`,
      problem: `root ${formatHash(target.root)} differs from the recomputed ${root === null ? '?' : formatHash(root)}`,
    });
  }
  return {
    ok: auditor.mismatches.length === 0,
    source: source.where,
    origin: checkpoint.origin,
    treeSize: size,
    rootHash: formatHash(target.root),
    signatureVerified,
    entries,
    bundles: bundleCount,
    tiles: auditor.tilesChecked,
    mismatches: auditor.mismatches,
  };
}

/**
 * Reads a tile or bundle. A missing partial falls back to the full tile's
 * prefix (tlog-tiles allows deleting partials once the full one exists).
 */
export async function readTile(source: TileSource, tile: TileId): Promise<Uint8Array | null> {
  const data = await source.read(tilePath(tile));
  if (data !== null || tile.width === TILE_WIDTH) return data;
  const full = await source.read(tilePath({ ...tile, width: TILE_WIDTH }));
  if (full === null) return null;
  if (tile.level >= 0) return full.subarray(0, tile.width * 32);
  // A bundle prefix: walk the first `width` length-prefixed entries.
  let o = 0;
  for (let i = 0; i < tile.width && o + 2 <= full.length; i++) o += 2 + full[o]! * 256 + full[o + 1]!;
  return full.subarray(0, Math.min(o, full.length));
}

function verdict(r: AuditResult): string {
  const sig = r.signatureVerified ? 'signature verified' : 'signature NOT checked (no --log-key)';
  const db = r.database;
  const dbLine =
    db === undefined
      ? ''
      : `database ${db.target} (schema ${db.schema}): signed size ${db.signedSize ?? 'none'}, published ${db.publishedSize}, ` +
        `${plural(db.sequenced, 'entry', 'entries')} sequenced; ${plural(db.entriesCompared, 'entry', 'entries')} compared with the bundles.\n`;
  if (r.ok) {
    return (
      `OK: ${r.origin} at size ${r.treeSize} checks out: ${plural(r.entries, 'entry', 'entries')} in ` +
      `${plural(r.bundles, 'bundle', 'bundles')}, ${plural(r.tiles, 'hash tile', 'hash tiles')}, and the root ${r.rootHash} all recomputed from the entries (${sig}).\n` +
      dbLine
    );
  }
  const lines = r.mismatches.slice(0, 20).map((m) => `  ${m.path}: ${m.problem}\n`);
  const more = r.mismatches.length > 20 ? `  ... and ${r.mismatches.length - 20} more\n` : '';
  return `FAIL: ${r.origin} at size ${r.treeSize}: ${plural(r.mismatches.length, 'problem')} (${sig}):\n${lines.join('')}${more}${dbLine}`;
}
