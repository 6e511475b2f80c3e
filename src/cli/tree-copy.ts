// Copying a log's public tree to another store (a directory to a bucket, a
// bucket to a directory, ...), verifying every object. The destination must
// end up a complete tlog-tiles log for the source's checkpoint, or keep no new
// checkpoint at all:
//
//   1. Read the source checkpoint; verify its signature (--log-key) or at
//      least parse it and check its origin.
//   2. Read the destination's checkpoint. Absent: a fresh copy. The same
//      tree: only missing objects are added. Older, of the same log, with a
//      root the source's tiles reproduce at that size: the copy extends it.
//      Anything else (another origin, a newer or a different tree) is refused
//      before anything is written.
//   3. Bundle by bundle, in order: recompute the leaf hashes, check the
//      level-0 tile and every upper tile against them (audit-tree.ts) BEFORE
//      writing; then create each object with createIdempotent (a re-run finds
//      the same bytes: fine; other bytes: STORAGE_CONFLICT, refused) and read
//      it back, which must give the same bytes.
//   4. The recomputed root must equal the checkpoint's; only then is the
//      checkpoint written, last, with replaceIfMatch against the version read
//      in step 2 (a writer that appeared meanwhile is not overwritten), and
//      read back.
// A crash or refusal before step 4 leaves objects no checkpoint names yet,
// which a re-run completes. Entries forged together with matching tiles are
// only caught by the root check in step 4: such a copy writes objects but
// never a checkpoint.

import { TilelogError } from '../errors.js';
import {
  decodeBundle,
  hashEqual,
  leafHash,
  tilePath,
  tilesForSize,
  toBase64,
  treeHash,
  unauthenticatedTileHashReader,
  TILE_WIDTH,
  type Hash,
  type TileId,
} from '../merkle/index.js';
import { parseCheckpoint, parseNote, type Checkpoint } from '../note/index.js';
import { bytesEqual, CHECKPOINT_PATH, type TileStore } from '../storage/tile-store.js';
import { readTile } from './audit.js';
import { TreeAuditor } from './audit-tree.js';
import { CliError } from './common.js';
import type { TileSource } from './tile-source.js';
import { openLogCheckpoint } from './trust.js';

export interface CopyOptions {
  /** Verify the checkpoints with this key (its name is the expected origin unless origin is given). */
  vkey: string | undefined;
  origin: string | undefined;
  /** Check everything, write nothing. */
  dryRun: boolean;
  /** Objects written (and read back) at once. */
  concurrency: number;
  /** Called with the entries covered so far, of the checkpoint's size. */
  onProgress?: (entries: number, treeSize: number) => void;
}

export type DestinationState = 'empty' | 'same-tree' | 'older';

export interface CopyResult {
  origin: string;
  treeSize: number;
  rootHash: string;
  signatureVerified: boolean;
  destination: DestinationState;
  /** The destination's tree size before the copy (0 when empty). */
  destinationSizeBefore: number;
  /** Tiles and bundles checked and (unless dryRun) created or found identical. */
  objects: number;
  bytes: number;
  checkpointWritten: boolean;
  dryRun: boolean;
}

/** Copies the tree of `from`'s checkpoint into `to` (see the header). Throws CliError on any refusal. */
export async function copyTree(from: TileSource, to: TileStore, o: CopyOptions): Promise<CopyResult> {
  // 1. The source checkpoint.
  const raw = await from.read(CHECKPOINT_PATH);
  if (raw === null) throw new CliError(`no checkpoint at ${from.where}; is this a tlog-tiles log?`);
  const text = new TextDecoder().decode(raw);
  const { checkpoint, signatureVerified } = openSource(text, o, from.where);
  const size = checkpoint.size;

  // 2. The destination.
  const dest = await destinationState(from, to, checkpoint, o);

  // 3. Every tile and bundle, checked before it is written.
  const writer = new CheckedWriter(to, o.dryRun, o.concurrency);
  let pending: [string, Uint8Array][] = [];
  const auditor = new TreeAuditor(size, async (tile) => {
    const data = await readTile(from, tile);
    if (data !== null) pending.push([tilePath(tile), data]);
    return data;
  });
  const bundles = Math.ceil(size / TILE_WIDTH);
  const fetchPair = (k: number) => {
    const width = Math.min(TILE_WIDTH, size - k * TILE_WIDTH);
    return Promise.all([readTile(from, { level: -1, index: k, width }), readTile(from, { level: 0, index: k, width })]);
  };
  const ahead: Promise<[Uint8Array | null, Uint8Array | null]>[] = [];
  let next = 0;
  for (let k = 0; k < bundles; k++) {
    while (ahead.length < o.concurrency && next < bundles) {
      const p = fetchPair(next++);
      p.catch(() => {}); // surfaced when awaited in order
      ahead.push(p);
    }
    const [bundle, tile0] = await ahead.shift()!;
    const width = Math.min(TILE_WIDTH, size - k * TILE_WIDTH);
    const bundleId: TileId = { level: -1, index: k, width };
    if (bundle === null) throw new CliError(`${tilePath(bundleId)} is missing at ${from.where}; the source is incomplete, nothing past entry ${k * TILE_WIDTH} can be copied`);
    let leaves: Hash[];
    try {
      leaves = decodeBundle(bundle, width).map((e) => leafHash(e));
    } catch (err) {
      throw new CliError(`${tilePath(bundleId)} at ${from.where} does not parse as a ${width}-entry bundle: ${(err as Error).message}`);
    }
    pending = [[tilePath(bundleId), bundle]];
    if (tile0 !== null) pending.push([tilePath({ level: 0, index: k, width }), tile0]);
    await auditor.addLeaves(k, leaves, tile0);
    refuseMismatches(auditor, from.where);
    await writer.add(pending);
    o.onProgress?.(Math.min((k + 1) * TILE_WIDTH, size), size);
  }
  pending = [];
  const root = await auditor.finish();
  refuseMismatches(auditor, from.where);
  // 4. The root, then the checkpoint, last.
  if (size > 0 && (root === null || !hashEqual(root, checkpoint.root))) {
    throw new CliError(
      `the entries at ${from.where} recompute to the root ${root === null ? '?' : toBase64(root)}, not the checkpoint's ${toBase64(checkpoint.root)}; ` +
        `the source is not the tree its checkpoint signs. No checkpoint was written to ${to.description}`,
    );
  }
  await writer.add(pending);
  await writer.drain();
  const expected = tilesForSize(size).length;
  if (writer.objects !== expected) throw new Error(`tiles copy: bad math: ${writer.objects} objects for size ${size}, expected ${expected}`);

  let checkpointWritten = false;
  if (!o.dryRun && dest.state !== 'same-tree') {
    try {
      await to.replaceIfMatch(CHECKPOINT_PATH, raw, dest.etag);
    } catch (err) {
      if (err instanceof TilelogError && err.code === 'STORAGE_PRECONDITION') {
        throw new CliError(
          `the checkpoint at ${to.description} changed during the copy: another writer is publishing there. ` +
            `Stop it (one writer per tree), then run this copy again; the objects copied so far are kept`,
        );
      }
      throw err;
    }
    const back = await to.read(CHECKPOINT_PATH);
    if (back === null || !bytesEqual(back, raw)) throw new CliError(`the checkpoint read back from ${to.description} differs from the one written`);
    checkpointWritten = true;
  }
  return {
    origin: checkpoint.origin,
    treeSize: size,
    rootHash: toBase64(checkpoint.root),
    signatureVerified,
    destination: dest.state,
    destinationSizeBefore: dest.size,
    objects: writer.objects,
    bytes: writer.bytes,
    checkpointWritten,
    dryRun: o.dryRun,
  };
}

function openSource(text: string, o: CopyOptions, where: string): { checkpoint: Checkpoint; signatureVerified: boolean } {
  let opened;
  try {
    opened = openLogCheckpoint(text, o.vkey, o.origin);
  } catch (err) {
    if (err instanceof CliError) throw new CliError(`${where}/checkpoint: ${err.message}`);
    throw new CliError(`${where}/checkpoint is not a signed checkpoint: ${(err as Error).message}`);
  }
  if (o.origin !== undefined && opened.checkpoint.origin !== o.origin) {
    throw new CliError(`${where}/checkpoint is for origin ${opened.checkpoint.origin}, not ${o.origin} (--origin)`);
  }
  return opened;
}

interface Destination {
  state: DestinationState;
  size: number;
  /** The version to replace (null: the checkpoint is absent). */
  etag: string | null;
}

// destinationState: what `to` holds, refusing another log, a newer tree or a
// fork before anything is written. An older checkpoint must have the root the
// source's tiles give at its size (read through the tiles of the new size).
async function destinationState(from: TileSource, to: TileStore, src: Checkpoint, o: CopyOptions): Promise<Destination> {
  const current = await to.readWithEtag(CHECKPOINT_PATH);
  if (current === null) return { state: 'empty', size: 0, etag: null };
  const text = new TextDecoder().decode(current.data);
  let theirs: Checkpoint;
  try {
    theirs = o.vkey === undefined ? parseCheckpoint(parseNote(text).text) : openLogCheckpoint(text, o.vkey, o.origin).checkpoint;
  } catch (err) {
    throw new CliError(`${to.description} already has a checkpoint that ${o.vkey === undefined ? 'does not parse' : 'does not verify'} (${(err as Error).message}); refusing to copy over it. Copy into an empty directory or prefix`);
  }
  const refuse = (why: string) => new CliError(`${to.description} already holds ${why}; refusing to copy. Copy into an empty directory or prefix instead`);
  if (theirs.origin !== src.origin) throw refuse(`another log (origin ${theirs.origin}, size ${theirs.size}), not ${src.origin}`);
  if (theirs.size > src.size) throw refuse(`a newer checkpoint of ${src.origin} (size ${theirs.size} > ${src.size}): the source is behind`);
  if (theirs.size === src.size) {
    if (!hashEqual(theirs.root, src.root)) throw refuse(`a DIFFERENT tree of ${src.origin} at size ${src.size} (root ${toBase64(theirs.root)}, the source's is ${toBase64(src.root)}): a fork; keep both checkpoints as evidence`);
    return { state: 'same-tree', size: theirs.size, etag: current.etag };
  }
  let oldRoot: Hash;
  try {
    const readTiles = async (tiles: TileId[]) =>
      Promise.all(
        tiles.map(async (t) => {
          const data = await readTile(from, t);
          if (data === null) throw new CliError(`${tilePath(t)} is missing at ${from.where}`);
          return data;
        }),
      );
    oldRoot = await treeHash(theirs.size, unauthenticatedTileHashReader(src.size, readTiles));
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`cannot recompute the root at size ${theirs.size} from ${from.where}: ${(err as Error).message}`);
  }
  if (!hashEqual(oldRoot, theirs.root)) {
    throw refuse(`a checkpoint of ${src.origin} at size ${theirs.size} whose root ${toBase64(theirs.root)} is not the source tree's ${toBase64(oldRoot)} at that size: a fork`);
  }
  return { state: 'older', size: theirs.size, etag: current.etag };
}

function refuseMismatches(auditor: TreeAuditor, where: string): void {
  if (auditor.mismatches.length === 0) return;
  const list = auditor.mismatches.slice(0, 5).map((m) => `  ${m.path}: ${m.problem}`).join('\n');
  throw new CliError(`the source ${where} fails the audit; nothing more was copied (run 'tilelog audit' on it):\n${list}`);
}

/**
 * Creates objects at `to` with createIdempotent and reads each back, at most
 * `concurrency` at once; counts objects and bytes. A conflict or a read-back
 * that differs is a CliError (raised by add or drain).
 */
class CheckedWriter {
  objects = 0;
  bytes = 0;
  readonly #to: TileStore;
  readonly #dryRun: boolean;
  readonly #limit: number;
  readonly #inFlight = new Set<Promise<void>>();
  #failure: unknown = null;

  constructor(to: TileStore, dryRun: boolean, concurrency: number) {
    this.#to = to;
    this.#dryRun = dryRun;
    this.#limit = concurrency;
  }

  async add(objects: readonly [string, Uint8Array][]): Promise<void> {
    for (const [path, data] of objects) {
      this.objects++;
      this.bytes += data.length;
      if (this.#dryRun) continue;
      while (this.#inFlight.size >= this.#limit) await Promise.race(this.#inFlight);
      this.#throwFailure();
      const p = this.#copyOne(path, data).then(
        () => void this.#inFlight.delete(p),
        (err: unknown) => {
          this.#inFlight.delete(p);
          this.#failure ??= err;
        },
      );
      this.#inFlight.add(p);
    }
  }

  async drain(): Promise<void> {
    await Promise.all(this.#inFlight);
    this.#throwFailure();
  }

  #throwFailure(): void {
    if (this.#failure !== null) throw this.#failure;
  }

  async #copyOne(path: string, data: Uint8Array): Promise<void> {
    try {
      await this.#to.createIdempotent(path, data);
    } catch (err) {
      if (err instanceof TilelogError && err.code === 'STORAGE_CONFLICT') {
        throw new CliError(
          `${to(this.#to)} already holds ${path} with other bytes: it holds another tree (or a damaged copy). ` +
            `Nothing was overwritten; copy into an empty directory or prefix`,
        );
      }
      throw err;
    }
    const back = await this.#to.read(path);
    if (back === null || !bytesEqual(back, data)) {
      throw new CliError(`${path} read back from ${to(this.#to)} ${back === null ? 'is missing' : 'differs from the bytes written'}; the destination does not store objects faithfully`);
    }
  }
}

function to(store: TileStore): string {
  return store.description;
}
