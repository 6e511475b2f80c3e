// What every view gets: the server's log info, the trust decision (which
// key verifies), and the latest checkpoint checked with that key.

import { TileClient } from '../client/tile-client.js';
import { parseNote } from '../note/note.js';
import { checkpointNote, logInfo, witnessStatus, type LogInfo, type WitnessStatus } from './api.js';
import { checkCheckpoint, type CheckpointCheck } from './checkpoint-check.js';
import { trustFor, type Trust } from './trust.js';

export interface Ctx {
  info: LogInfo;
  trust: Trust;
  /** Re-renders the current route (after pinning a key, say). */
  rerender(): void;
}

export async function loadContext(rerender: () => void): Promise<Ctx> {
  const info = await logInfo();
  return { info, trust: trustFor(info), rerender };
}

export interface LatestCheckpoint {
  note: string;
  witnesses: WitnessStatus | null;
  check: CheckpointCheck;
}

export async function latestCheckpoint(ctx: Ctx): Promise<LatestCheckpoint> {
  const note = await checkpointNote();
  // Witness keys matter only for cosignature lines; without any, skip the
  // probe (a log without witnesses answers it 404).
  const witnesses = cosignatureLines(note) > 0 ? await witnessStatus() : null;
  const keys = witnesses?.witnesses.map((w) => w.verifierKey) ?? [];
  return { note, witnesses, check: checkCheckpoint(note, ctx.trust, keys) };
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
