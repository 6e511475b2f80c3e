// A batch on its way to tilelog_sequence (pg-log-store.ts) and back: repeats
// inside the batch folded onto their first occurrence before the call (the
// function needs distinct hashes), and the function's answer (the first new
// index and the slots already in the log) mapped back to input order. Pure.

import { TilelogError } from '../errors.js';
import type { SequencedEntry, SequenceResult } from './log-store.js';
import { safeInteger } from './pg-schema.js';

/** A batch with its in-batch repeats folded: what goes to the database. */
export interface BatchPlan {
  readonly hashes: Uint8Array[];
  readonly data: Uint8Array[];
  /** For each input position, its position in hashes/data (the first occurrence). */
  readonly slot: number[];
  /** For each input position, whether an earlier position of this batch has the same hash. */
  readonly repeat: boolean[];
}

// planBatch(batch, dedup): with dedup, the distinct hashes in first-occurrence
// order (a repeat maps to its first occurrence); without, the batch as is.
export function planBatch(batch: readonly SequencedEntry[], dedup: boolean): BatchPlan {
  const hashes: Uint8Array[] = [];
  const data: Uint8Array[] = [];
  const slot: number[] = new Array(batch.length);
  const repeat: boolean[] = new Array(batch.length).fill(false);
  const seen = dedup ? new Map<string, number>() : null;
  for (let k = 0; k < batch.length; k++) {
    const e = batch[k]!;
    if (e.leafHash.byteLength !== 32) throw new TilelogError('MERKLE_BAD_HASH', `postgres: leaf hash ${k} is not 32 bytes`);
    if (e.bytes.byteLength < 1 || e.bytes.byteLength > 65535) {
      throw new TilelogError('LOG_ENTRY_SIZE', `postgres: entry ${k} has ${e.bytes.byteLength} bytes (1..65535 allowed)`);
    }
    if (seen !== null) {
      const key = Buffer.from(e.leafHash.buffer, e.leafHash.byteOffset, 32).toString('latin1');
      const first = seen.get(key);
      if (first !== undefined) {
        slot[k] = first;
        repeat[k] = true;
        continue;
      }
      seen.set(key, hashes.length);
    }
    slot[k] = hashes.length;
    hashes.push(e.leafHash);
    data.push(e.bytes);
  }
  return { hashes, data, slot, repeat };
}

// assignIndexes: the function stored the non-duplicate slots at firstIndex,
// firstIndex + 1, ... in slot order; dupOrd (1-based slots) / dupIdx give the
// earlier index of each slot already in the log. Results in input order.
export function assignIndexes(plan: BatchPlan, firstIndex: number, dupOrd: unknown, dupIdx: unknown): SequenceResult[] {
  const ords = Array.isArray(dupOrd) ? dupOrd : [];
  const idxs = Array.isArray(dupIdx) ? dupIdx : [];
  if (ords.length !== idxs.length) throw new TilelogError('STORAGE_IO', 'postgres: tilelog_sequence answered mismatched duplicate lists');
  const existing = new Map<number, number>();
  for (let k = 0; k < ords.length; k++) existing.set(safeInteger(ords[k], 'dup_ord') - 1, safeInteger(idxs[k], 'dup_idx'));
  const slotIndex: number[] = new Array(plan.hashes.length);
  let next = firstIndex;
  for (let s = 0; s < plan.hashes.length; s++) slotIndex[s] = existing.get(s) ?? next++;
  return plan.slot.map((s, k) => ({ index: slotIndex[s]!, duplicate: plan.repeat[k]! || existing.has(s) }));
}
