// Split-view detection: the checkpoint we trust must be consistent with the
// one every other source shows for the same log (another URL of the log, a
// mirror, or a witness's monitoring endpoint `<witness>/<hex sha256(origin)>/checkpoint`).
//
// A compare checkpoint counts only if the log key signed it (else it proves
// nothing about the log and is reported as unverified). Then:
//   same size                 the roots must be equal
//   smaller than ours         consistency proof from our log's tiles (authenticated by our root)
//   larger than ours          consistency proof from the source's tiles (a log URL), or from
//                             our log's tiles for a witness; tiles that are not there yet
//                             leave it unchecked this poll
// Any failure is MONITOR_SPLIT_VIEW with both notes and the proof.

import { sha256 } from '@noble/hashes/sha2.js';
import { ClientError, InconsistencyError, TileClient, trustPolicy, verifyCheckpoint, type TrustPolicy, type VerifiedCheckpoint } from '../client/index.js';
import { hashEqual, toHex } from '../merkle/index.js';
import { MonitorAlert } from './alert.js';
import type { FetchRecorder } from './recorder.js';

export interface CompareSource {
  /** As given on the command line. */
  label: string;
  checkpointUrl: string;
  /** A tlog-tiles prefix whose tiles prove the source's larger trees; null for a witness. */
  tilesUrl: string | null;
}

export type CompareStatus = 'agree' | 'behind' | 'ahead' | 'unchecked' | 'unverified' | 'unreachable';

export interface CompareOutcome {
  source: string;
  status: CompareStatus;
  size: number | null;
  detail?: string;
}

/** Another URL of the same log (a tlog-tiles prefix), or a URL ending in /checkpoint taken as is. */
export function logSource(url: string): CompareSource {
  const base = url.replace(/\/+$/, '');
  if (base.endsWith('/checkpoint')) return { label: url, checkpointUrl: base, tilesUrl: null };
  return { label: url, checkpointUrl: `${base}/checkpoint`, tilesUrl: base };
}

/** A witness's monitoring endpoint for origin (c2sp.org/tlog-witness). */
export function witnessSource(url: string, origin: string): CompareSource {
  const base = url.replace(/\/+$/, '');
  return { label: url, checkpointUrl: `${base}/${toHex(sha256(new TextEncoder().encode(origin)))}/checkpoint`, tilesUrl: null };
}

/** The policy compare checkpoints are held to: the log's signature only. */
export function logOnlyPolicy(policy: TrustPolicy): TrustPolicy {
  return trustPolicy({ origin: policy.origin, logKey: policy.logKey, witnesses: [], quorum: 0 });
}

export interface CompareContext {
  ours: VerifiedCheckpoint;
  primary: TileClient;
  recorder: FetchRecorder;
  logOnly: TrustPolicy;
}

/** Compares ours with one source; throws MonitorAlert('MONITOR_SPLIT_VIEW') on a split view. */
export async function compareWith(source: CompareSource, ctx: CompareContext): Promise<CompareOutcome> {
  const out = (status: CompareStatus, size: number | null, detail?: string): CompareOutcome => ({ source: source.label, status, size, ...(detail === undefined ? {} : { detail }) });
  let text: string;
  try {
    const res = await ctx.recorder.fetch(source.checkpointUrl);
    if (!res.ok) {
      await res.body?.cancel().catch(() => {});
      return out('unreachable', null, `HTTP ${res.status}`);
    }
    text = await res.text();
  } catch (err) {
    return out('unreachable', null, (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message);
  }
  let theirs: VerifiedCheckpoint;
  try {
    theirs = verifyCheckpoint(text, ctx.logOnly);
  } catch (err) {
    return out('unverified', null, (err as Error).message);
  }
  const ours = ctx.ours;
  const split = (message: string, proof: readonly Uint8Array[] = [], cause?: unknown) =>
    new MonitorAlert('MONITOR_SPLIT_VIEW', `${source.label} shows a different tree: ${message}`, {
      checkpoints: { received: ours.note, [`compare-${source.label}`]: theirs.note },
      proof,
      details: { source: source.label, ourSize: ours.size, theirSize: theirs.size },
    }, cause === undefined ? undefined : { cause });

  if (theirs.size === ours.size) {
    if (!hashEqual(theirs.root, ours.root)) throw split(`two roots for size ${ours.size}`);
    return out('agree', theirs.size);
  }
  const older = theirs.size < ours.size ? theirs : ours;
  const newer = theirs.size < ours.size ? ours : theirs;
  const usePrimary = newer === ours || source.tilesUrl === null;
  const client = usePrimary ? ctx.primary : new TileClient({ baseUrl: source.tilesUrl!, fetch: ctx.recorder.fetch, policy: ctx.logOnly, tileCacheSize: 64 });
  try {
    await client.consistencyProof(older, newer);
  } catch (err) {
    if (err instanceof InconsistencyError) throw split(`sizes ${older.size} and ${newer.size} are not consistent: ${err.message}`, err.proof, err);
    if (err instanceof ClientError && err.code === 'CLIENT_TILE_INVALID') {
      // Our log's tiles do not match a root its key signed: a split view.
      if (usePrimary) throw split(`the log's tiles do not match its checkpoint of size ${newer.size} shown there: ${err.message}`, [], err);
      return out('unchecked', theirs.size, err.message);
    }
    if (err instanceof ClientError) return out('unchecked', theirs.size, err.message);
    throw err;
  }
  return out(theirs.size < ours.size ? 'behind' : 'ahead', theirs.size);
}
