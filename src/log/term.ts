// Term: what one term of leadership runs, from the acquisition to its end.
//
// startTerm() first runs recovery (recover.ts: the previous holder may have
// stopped anywhere; it reads the public checkpoint WITH its ETag and seeds a
// fresh PublicCheckpoint writer with it, so every later write of this term is
// conditional on the version recovery saw), records what the bucket holds as
// the published state (fenced), reads the witnesses' stored sizes, then builds
// the term's checkpointer, cosigner and partial-tile collector with the
// term's fence. Nothing of a term outlives it: stop() closes all three, and
// the writer of a term that ended refuses every later write.
//
// `ended` resolves once with the reason the term's signer stopped: the lease
// or a fenced write said another process leads (LOG_NOT_LEADER), the public
// checkpoint moved past this process (LOG_SUPERSEDED), or a fatal error
// (LOG_FORK, foreign tiles, a tile conflict, corruption). The Log decides
// which of those send it back to being a candidate.

import { TilelogError } from '../errors.js';
import { consistencyProof } from '../merkle/proof.js';
import { parseVerifierKey } from '../note/keys.js';
import type { Leadership } from '../storage/log-store.js';
import { Checkpointer } from './checkpointer.js';
import { Cosigner, witnessSizes } from './cosigner.js';
import type { Observers } from './observer.js';
import type { ResolvedOptions } from './options.js';
import { PublicCheckpoint } from './public-checkpoint.js';
import { notLeader, type PublishedCheckpoint } from './publisher.js';
import { recover, type Recovered } from './recover.js';
import type { StorageHealth } from './storage-health.js';
import type { TileCache } from './tile-cache.js';
import { publishedHashReader } from './tile-reader.js';
import { TileGc } from './tile-gc.js';
import type { TileSummaries } from './tile-summaries.js';

/** What a term shares with the rest of its Log. */
export interface TermContext {
  readonly cache: TileCache;
  readonly observers: Observers;
  readonly health: StorageHealth;
  /** A checkpoint this term made public (after the store's published state was asked to follow). */
  onPublished(cp: PublishedCheckpoint): void;
  /** Summaries of the full tiles the term writes, and for the cosigner's proofs. */
  readonly summaries: TileSummaries | null;
}

export interface Term {
  readonly leadership: Leadership;
  readonly recovered: Recovered;
  readonly checkpointer: Checkpointer;
  readonly cosigner: Cosigner | null;
  readonly gc: TileGc;
  readonly publicCheckpoint: PublicCheckpoint;
  /** Resolves with the reason this term's signer stopped. */
  readonly ended: Promise<TilelogError>;
  /** Starts the loops (after the Log is built around them). */
  start(): void;
  /** Stops the loops of this term; with publish, the checkpointer first publishes everything durable (clean close). */
  stop(): Promise<void>;
}

// startTerm(o, ctx, leadership): recovery, then the term's loops (not yet started).
export async function startTerm(o: ResolvedOptions, ctx: TermContext, leadership: Leadership): Promise<Term> {
  let checkpointer: Checkpointer | null = null;
  let endTerm: (err: TilelogError) => void = () => undefined;
  const ended = new Promise<TilelogError>((resolve) => (endTerm = resolve));
  const publicCheckpoint = new PublicCheckpoint({
    tiles: o.tiles,
    store: o.store,
    origin: o.origin,
    verifier: parseVerifierKey(o.signer.verifierKey),
    verifierKey: o.signer.verifierKey,
    shared: o.lease.shared === true,
    // A lost lease stops the writer (below) and, by its own signal, the checkpointer: no fatal stop for it.
    onStopped: (err) => {
      if (err.code !== 'LOG_NOT_LEADER') checkpointer?.stop(err);
    },
    onReconciled: (found, publishing) =>
      o.logger.warn(
        `the public checkpoint in ${o.tiles.description} changed under this process (now size ${found}, an older checkpoint of this log); ` +
          `publishing size ${publishing} over it. Is a second process writing this log?`,
      ),
  });
  // The term ends when the lease does (at its local deadline even when
  // PostgreSQL cannot be reached to say so: a partition), whatever its loops
  // are waiting for: from then on this writer starts no write (a PUT already
  // sent stays conditional on the version it saw) and the Log steps down.
  const leaseEnded = (): void => {
    const err = notLeader('leading', o.lease.shared === true, reasonOf(leadership.lost));
    publicCheckpoint.stop(err);
    endTerm(err);
  };
  if (leadership.lost.aborted) leaseEnded();
  else leadership.lost.addEventListener('abort', leaseEnded, { once: true });
  const recovered = await recover(o, publicCheckpoint, leadership.fence);
  const { state, published } = recovered;
  // R4: what the bucket holds now is the published state (fenced; never moves it back).
  await o.store.setPublished(leadership.fence, { size: published.size, text: published.text, etag: publicCheckpoint.etag });
  const storedSizes = o.witnesses === null ? new Map<string, number | null>() : await witnessSizes(o.store, o.witnesses.policy);

  let cosigner: Cosigner | null = null;
  const gc = new TileGc(
    {
      store: o.store,
      fence: leadership.fence,
      tiles: o.tiles,
      graceMs: o.partialGraceMs,
      intervalMs: o.partialGcIntervalMs,
      logger: o.logger,
      // Proofs read at the public size, the cosigner at the sizes it may publish; recovery replays the signed size.
      pinnedSizes: () => [checkpointer?.published.size ?? published.size, checkpointer?.integratedSize ?? state.size, ...(cosigner?.heldSizes ?? [])],
      onFailure: (err) => ctx.health.failed(err),
      onSuccess: () => ctx.health.ok('tiles'),
    },
    published.size,
  );
  cosigner =
    o.witnesses === null
      ? null
      : new Cosigner(
          {
            checkpoint: publicCheckpoint,
            store: o.store,
            storedSizes,
            ...o.witnesses,
            logger: o.logger,
            // Tiles for every committed size exist (written before the commit).
            proof: (oldSize, newSize) =>
              consistencyProof(
                oldSize,
                newSize,
                publishedHashReader(newSize, o.tiles, o.hasher, ctx.cache, () => checkpointer?.integratedSize ?? newSize, ctx.summaries?.source),
                o.hasher,
              ),
            onPublished: (cp) => checkpointer?.advancePublished(cp),
            onWitnessAnswered: (name, ok, ms) => ctx.observers.witnessAnswered(name, ok, ms),
            health: ctx.health,
          },
          state,
          published,
        );
  checkpointer = new Checkpointer(
    {
      store: o.store,
      leadership,
      pollMs: o.sequencePollMs,
      tiles: o.tiles,
      checkpoint: publicCheckpoint,
      origin: o.origin,
      signer: o.signer,
      hasher: o.hasher,
      integrateMaxEntries: o.integrateMaxEntries,
      checkpointIntervalMs: o.checkpointIntervalMs,
      logger: o.logger,
      rejoins: o.lease.shared === true,
      onFatal: (err) => {
        // Nothing of this term writes the public checkpoint after it stopped (the cosigner included).
        publicCheckpoint.stop(err);
        endTerm(err);
      },
      onPublished: (cp) => {
        ctx.observers.published(cp.size);
        gc.published(cp.size);
        ctx.onPublished(cp);
      },
      onAbandoned: (size) => gc.abandoned(size),
      health: ctx.health,
      cosigner,
      ...(ctx.summaries === null ? {} : { onTilesWritten: (writes) => ctx.summaries!.tilesWritten(writes) }),
    },
    state,
    published,
  );
  const cp = checkpointer;
  let stopping: Promise<void> | null = null;
  return {
    leadership,
    recovered,
    checkpointer: cp,
    cosigner,
    gc,
    publicCheckpoint,
    ended,
    start: () => {
      cp.start();
      cosigner?.start();
      gc.start();
    },
    stop: () =>
      (stopping ??= (async () => {
        await gc.close();
        await cp.close();
        endTerm(new TilelogError('LOG_CLOSED', 'log: this term of leadership was stopped'));
      })()),
  };
}

function reasonOf(signal: AbortSignal): string {
  return signal.reason instanceof Error ? signal.reason.message : 'the term ended';
}
