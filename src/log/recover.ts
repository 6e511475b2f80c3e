// Recovery: run when this process starts to lead (today: at open, where the
// lease is acquired; with a shared store: at every acquisition, since the
// previous leader may have died anywhere), before the signer does anything
// else. It trusts the store (SequenceStore + TreeStateStore) and repairs or
// refuses the public TileStore against it. Its one write to the trusted state
// (step 1) is fenced: a lost lease refuses it (LOG_NOT_LEADER).
//
//   1. A DB that never signed anything: refuse if a public checkpoint already
//      exists (a fresh log over someone's tiles, or a lost DB); otherwise sign
//      and commit the empty tree (size 0).
//   2. Check the DB against itself: the stored edge must reproduce the stored
//      root, the stored checkpoint text must verify under our key and name the
//      same (size, root), the history must hold that root for that size, and
//      the durable sequence must reach that size. Any mismatch: LOG_CORRUPT.
//   3. Before ANY write to the tile store: its public checkpoint, if any,
//      must be one of ours: our origin, a valid signature under our key, and
//      a (size, root) the DB signed. Another origin or key: the tiles belong
//      to another log (LOG_FOREIGN_TILES, naming both logs); ahead of the DB,
//      or another root for a size: LOG_CORRUPT. Nothing is written either way,
//      so pointing a log at another log's tiles can never damage them.
//   4. Replay the last integration step (prevSize -> size) from the DB's
//      previous edge and entries; it must reproduce the root. Rewrite any of
//      its tiles or bundles that are missing or differ (a crash cannot cause
//      that, since writes are atomic and precede the commit, but a damaged
//      disk or a careless operator can).
//   5. Publish: an identical public checkpoint is fine; a missing one or an
//      older one of ours (checked in 3) is republished, through the log's
//      PublicCheckpoint writer (public-checkpoint.ts), seeded here with the
//      ETag read in 3: the write is conditional on that version, so a writer
//      that published meanwhile is never overwritten (LOG_SUPERSEDED).
//      With witnesses the public checkpoint carries cosignatures and may lag
//      the DB by design: an older or same-size checkpoint of ours is kept as
//      it is (the cosigner re-gathers cosignatures for the DB's checkpoint and
//      publishes it); only a missing one is written, from the DB, as above.
//      So recovery publishes nothing but the DB's latest signed checkpoint,
//      and never moves the public checkpoint backwards.
// Integrating durable entries beyond the committed size (a half-done
// integration) is the checkpointer's normal work; openLog waits for it.

import { TilelogError, isTilelogError } from '../errors.js';
import { TreeEdge } from '../merkle/edge.js';
import { EMPTY_ROOT, hashEqual, toHexSafe } from './util.js';
import { tilePath } from '../merkle/layout.js';
import { openCheckpoint, parseCheckpoint } from '../note/checkpoint.js';
import { parseVerifierKey } from '../note/keys.js';
import type { Fence } from '../storage/log-store.js';
import type { TreeState } from '../storage/sequence-db.js';
import { CHECKPOINT_PATH, bytesEqual } from '../storage/tile-store.js';
import { integrate } from './integrator.js';
import type { ResolvedOptions } from './options.js';
import { commitSigned, notLeader, type PublishedCheckpoint } from './publisher.js';
import { describeClaims, judgePublic, type ForeignCheckpoint, type PublicCheckpoint } from './public-checkpoint.js';

export type { ForeignCheckpoint } from './public-checkpoint.js';

export interface Recovered {
  state: TreeState;
  published: PublishedCheckpoint;
  /** Tile and bundle paths rewritten in step 3. */
  repaired: string[];
}

// recover(opts, checkpoint, fence): the steps above, as the leader holding
// fence; checkpoint is the log's public checkpoint writer, seeded here and
// used for step 5's republish.
export async function recover(opts: ResolvedOptions, checkpoint: PublicCheckpoint, fence: Fence): Promise<Recovered> {
  const { store, tiles, origin, signer, hasher, logger } = opts;
  const found = await tiles.readWithEtag(CHECKPOINT_PATH);
  const publicBytes = found?.data ?? null;

  // 1. A brand-new log.
  let state = await store.state();
  const created = state === null;
  if (state === null) {
    if (publicBytes !== null) {
      throw corrupt(
        'the tile store already has a public checkpoint but the state database has none; ' +
          'refusing to start a new log over existing tiles (wrong state directory, or a lost database?)',
      );
    }
    const empty = TreeEdge.empty().toBytes();
    const committed = await commitSigned(store, fence, null, origin, signer, {
      size: 0,
      root: EMPTY_ROOT,
      edge: empty,
      prevSize: 0,
      prevEdge: empty,
    });
    if (committed === 'lost') throw notLeader('creating the log');
    state = committed;
    logger.info(`created log ${origin}`);
  }

  // 2. The DB agrees with itself.
  await checkState(opts, state);

  // 3. The public checkpoint is ours: checked before any write to the tiles.
  const publicText = publicBytes === null ? null : new TextDecoder().decode(publicBytes);
  const pub = publicText === null || publicText === state.text ? null : await checkPublic(opts, state, publicText);
  checkpoint.seed(found?.etag ?? null, publicText === null ? null : (pub?.size ?? state.size));

  // 4. Replay and repair the last integration step.
  const repaired: string[] = [];
  if (state.prevSize < state.size) {
    let prevEdge: TreeEdge;
    try {
      prevEdge = TreeEdge.fromBytes(state.prevSize, state.prevEdge);
    } catch (err) {
      throw corrupt(`the stored previous edge (size ${state.prevSize}) does not parse`, err);
    }
    const step = await integrate(prevEdge, store, state.size, hasher);
    if (!hashEqual(step.root, state.root)) {
      throw corrupt(`replaying entries [${state.prevSize}, ${state.size}) does not reproduce the signed root`);
    }
    // Up to REPAIR_CONCURRENCY objects at once: a step holds up to about
    // 2·integrateMaxEntries/256 of them, and read one by one they made most of a restart.
    await eachConcurrently(step.writes, REPAIR_CONCURRENCY, async (w) => {
      const path = tilePath(w.tile);
      const existing = await tiles.read(path);
      if (existing === null || !bytesEqual(existing, w.data)) {
        logger.warn(`repairing ${path} (${existing === null ? 'missing' : 'damaged'})`);
        await tiles.overwrite(path, w.data);
        repaired.push(path);
      }
    });
  }

  // 5. Publish the DB's checkpoint where the public one is missing or older.
  const stored: PublishedCheckpoint = { size: state.size, root: state.root, text: state.text };
  let published = stored;
  if (publicText === null) {
    if (!created) logger.warn(`the public checkpoint is missing; republishing size ${state.size}`);
    published = await checkpoint.write(stored);
  } else if (pub !== null) {
    if (opts.witnesses !== null) {
      // Lagging by design (cosigner.ts); keep serving it until a cosigned one replaces it.
      if (pub.size < state.size) logger.info(`public checkpoint at size ${pub.size}; cosigning size ${state.size}`);
      published = { size: pub.size, root: pub.root, text: publicText };
    } else {
      const why = pub.size < state.size ? "is older than the database's" : 'carries other signatures';
      logger.warn(`the public checkpoint (size ${pub.size}) ${why}; republishing size ${state.size}`);
      published = await checkpoint.write(stored);
    }
  }
  return { state, published, repaired };
}

/** Tiles and bundles of the replayed step compared (and repaired) at once in step 4. */
const REPAIR_CONCURRENCY = 32;

// eachConcurrently: fn for every item, at most `limit` at once; rejects with
// the first failure once the others have settled (none is left running).
async function eachConcurrently<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { err: unknown } | null = null;
  const worker = async (): Promise<void> => {
    while (failure === null && next < items.length) {
      try {
        await fn(items[next++]!);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== null) throw (failure as { err: unknown }).err;
}

// checkState: step 2 (see the header).
async function checkState(opts: ResolvedOptions, state: TreeState): Promise<void> {
  const { store, origin, signer, hasher } = opts;
  let edge: TreeEdge;
  try {
    edge = TreeEdge.fromBytes(state.size, state.edge);
  } catch (err) {
    throw corrupt(`the stored right edge does not fit size ${state.size}`, err);
  }
  if (!hashEqual(edge.root(hasher), state.root)) {
    throw corrupt(`the stored right edge does not reproduce the signed root of size ${state.size}`);
  }
  let size: number;
  let root: Uint8Array;
  try {
    const opened = openCheckpoint(state.text, origin, [parseVerifierKey(signer.verifierKey)]);
    size = opened.checkpoint.size;
    root = opened.checkpoint.root;
  } catch (err) {
    if (isTilelogError(err, 'NOTE_UNVERIFIED') || isTilelogError(err, 'NOTE_BAD_SIGNATURE')) {
      throw new TilelogError(
        'LOG_CONFIG',
        `log: the last checkpoint in the state database was not signed by ${signer.verifierKey}; wrong key file?`,
        { cause: err },
      );
    }
    throw corrupt('the stored checkpoint text does not parse as a checkpoint of this log', err);
  }
  if (size !== state.size || !hashEqual(root, state.root)) {
    throw corrupt(`the stored checkpoint text (size ${size}) does not match the stored tree state (size ${state.size})`);
  }
  const historic = await store.rootForSize(state.size);
  if (historic === null || !hashEqual(historic, state.root)) {
    throw corrupt(`the checkpoint history has ${historic === null ? 'no root' : 'another root'} for size ${state.size}`);
  }
  const durable = await store.nextIndex();
  if (durable < state.size) {
    throw corrupt(`the durable sequence (${durable} entries) is shorter than the signed tree (${state.size})`);
  }
}

// checkPublic: step 3 (see the header). The (size, root) of a public
// checkpoint that is ours and not ahead of the DB; throws otherwise.
async function checkPublic(opts: ResolvedOptions, state: TreeState, text: string): Promise<{ size: number; root: Uint8Array }> {
  const v = await judgePublic(text, opts.origin, parseVerifierKey(opts.signer.verifierKey), opts.store);
  if (v.kind === 'foreign') {
    throw new ForeignTilesError(v.found, { origin: opts.origin, verifierKey: opts.signer.verifierKey }, v.cause);
  }
  if (v.size > state.size) {
    throw corrupt(
      `the public checkpoint (size ${v.size}) is ahead of the last checkpoint the state database signed ` +
        `(size ${state.size}): the database was rolled back (restored from an older backup or dump, or a replica that lost ` +
        `commits), or the tiles belong to another deployment of this log. Signing from it could publish a smaller or forked ` +
        `tree, so this log signs nothing. Never restore a log's database onto a live log: bring back the database that ` +
        `signed size ${v.size} (or a replica that has it); the entries acknowledged after the backup are only there`,
    );
  }
  if (v.kind === 'unsigned') {
    throw corrupt(
      `the public checkpoint (size ${v.size}, root ${toHexSafe(v.root)}) contradicts the state database ` +
        `(${v.known === null ? 'which never signed that size' : `root ${toHexSafe(v.known)}`})`,
    );
  }
  return v;
}

/**
 * The tile store's public checkpoint is not a checkpoint of this log (another
 * origin or key, or no valid signature): its tiles belong to another log, and
 * recovery refused before writing anything. `found` is what that checkpoint
 * claims; `ours` is this log. describe() names the directories for a message.
 */
export class ForeignTilesError extends TilelogError {
  readonly found: ForeignCheckpoint;
  readonly ours: { origin: string; verifierKey: string };
  constructor(found: ForeignCheckpoint, ours: { origin: string; verifierKey: string }, cause: unknown) {
    super('LOG_FOREIGN_TILES', ForeignTilesError.describe(found, ours, 'the tile store', 'the state database'), { cause });
    this.found = found;
    this.ours = ours;
  }

  static describe(found: ForeignCheckpoint, ours: { origin: string; verifierKey: string }, tiles: string, state: string): string {
    const claims = describeClaims(found);
    const ourKeyId = ours.verifierKey.split('+').slice(0, 2).join('+');
    return (
      `log: refusing to start without writing anything: ${tiles} holds ${claims}, ` +
      `but ${state} is the log of origin ${ours.origin}, key ${ourKeyId}. ` +
      `They are two different logs: point the tiles directory at this log's own tiles (or an empty directory for a new one), ` +
      `or use the state directory and key that belong to those tiles`
    );
  }
}

function corrupt(why: string, cause?: unknown): TilelogError {
  return new TilelogError('LOG_CORRUPT', `log: refusing to start: ${why}`, cause === undefined ? undefined : { cause });
}
