// What every view gets: the server's log info, the trust decision (which
// key verifies), the pinned witness keys, and the latest checkpoint checked
// with those keys.

import { TileClient } from '../client/tile-client.js';
import { parseNote } from '../note/note.js';
import { checkpointNote, logInfo, witnessStatus, type LogInfo, type WitnessStatus } from './api.js';
import { checkCheckpoint, type CheckpointCheck, type WitnessKeys } from './checkpoint-check.js';
import { trustFor, type Trust } from './trust.js';
import { pinnedWitnessKeys } from './witness-trust.js';

export interface Ctx {
  info: LogInfo;
  trust: Trust;
  /** Witness keys pinned in this browser (cosignatures are checked with these only, when any). */
  pinnedWitnesses: string[];
  /** Re-renders the current route (after pinning a key, say). */
  rerender(): void;
}

export async function loadContext(rerender: () => void): Promise<Ctx> {
  const info = await logInfo();
  return { info, trust: trustFor(info), pinnedWitnesses: pinnedWitnessKeys(), rerender };
}

export interface LatestCheckpoint {
  note: string;
  witnesses: WitnessStatus | null;
  witnessKeys: WitnessKeys;
  check: CheckpointCheck;
}

export async function latestCheckpoint(ctx: Ctx): Promise<LatestCheckpoint> {
  const note = await checkpointNote();
  // The server's witness list matters for cosignature lines and to compare
  // pinned keys with; without either, skip the probe (a log without
  // witnesses answers it 404).
  const pinned = ctx.pinnedWitnesses;
  const witnesses = cosignatureLines(note) > 0 || pinned.length > 0 ? await witnessStatus() : null;
  const listed = witnesses?.witnesses.map((w) => w.verifierKey) ?? [];
  const policy = witnesses?.policy ?? null;
  const witnessKeys: WitnessKeys = pinned.length > 0 ? { keys: pinned, source: 'pinned', listed, policy } : { keys: listed, source: 'listed', listed, policy };
  return { note, witnesses, witnessKeys, check: checkCheckpoint(note, ctx.trust, witnessKeys) };
}

function cosignatureLines(note: string): number {
  try {
    return parseNote(note).signatures.length - 1;
  } catch {
    return 0;
  }
}

let client: { key: string; client: TileClient } | null = null;

/** A TileClient for the trusted key (kept across views for its tile cache). */
export function tileClient(ctx: Ctx): TileClient | null {
  if (ctx.trust.policy === null) return null;
  if (client?.key !== ctx.trust.key) {
    client = { key: ctx.trust.key, client: new TileClient({ baseUrl: location.origin, policy: ctx.trust.policy }) };
  }
  return client.client;
}
