// The incremental full audit: entries [edge.size, checkpoint.size) are
// downloaded bundle by bundle and each leaf hash is checked against the
// level-0 tiles, which the TileClient authenticates (tileHashReader: every
// full tile against its parent, up to the right edge, which must recompute
// the signed root). The entries are also appended to our own TreeEdge, whose
// root must equal the signed root at the end: the tree is recomputed from
// the entries alone, and the edge is all the state needed to resume.
//
// Work goes in batches of bundles: one leafHashes call (one authenticated
// tile read) per batch, the batch's bundles fetched in parallel, then checked
// strictly in order. A failure stops the audit before the failing bundle is
// appended, so the edge never passes an entry that did not check out.

import { ClientError, type TileClient } from '../client/index.js';
import { decodeBundle, ENTRIES_LEVEL, hashEqual, leafHash, TILE_WIDTH, tilePath, tileWidthAt, toBase64, type Hash, type TreeEdge } from '../merkle/index.js';
import type { Checkpoint } from '../note/index.js';
import { MonitorAlert, type EvidenceFile } from './alert.js';
import type { FetchRecorder } from './recorder.js';

/** Bundles per batch (8,192 entries). */
export const AUDIT_BATCH_BUNDLES = 32;
const MAX_BUNDLE_BYTES = TILE_WIDTH * (2 + 65535);

export interface AuditOptions {
  client: TileClient;
  recorder: FetchRecorder;
  /** The log's URL prefix, for bundles. */
  baseUrl: string;
  /** The trusted checkpoint to audit up to, and its note (for evidence). */
  checkpoint: Checkpoint;
  note: string;
  /** Stop between batches when aborted (the edge stays consistent). */
  signal?: AbortSignal;
  /** Called after each batch with entries audited so far in this run. */
  onProgress?: (done: number) => void;
  /** Called after each batch: persist the edge if due. */
  onBatch?: () => void;
  /** Called with each entry once it is checked and appended to the edge, in index order. */
  onEntry?: (index: number, entry: Uint8Array, leafHash: Hash) => void;
  batchBundles?: number;
}

export interface AuditRun {
  /** Entries checked in this run. */
  entries: number;
  bundles: number;
  /** False when stopped by the signal before reaching the checkpoint's size. */
  complete: boolean;
}

/** Audits edge forward to checkpoint.size; throws MonitorAlert (TILE or BUNDLE mismatch) or a ClientError (fetch). */
export async function auditTo(edge: TreeEdge, o: AuditOptions): Promise<AuditRun> {
  const size = o.checkpoint.size;
  const batch = o.batchBundles ?? AUDIT_BATCH_BUNDLES;
  const start = edge.size;
  let bundles = 0;
  while (edge.size < size) {
    if (o.signal?.aborted) return { entries: edge.size - start, bundles, complete: false };
    const k0 = Math.floor(edge.size / TILE_WIDTH);
    const k1 = Math.min(k0 + batch, Math.ceil(size / TILE_WIDTH));
    const lo = k0 * TILE_WIDTH;
    const hi = Math.min(k1 * TILE_WIDTH, size);
    o.recorder.capture();
    const [hashes, raw] = await Promise.all([authenticatedLeafHashes(o, lo, hi), Promise.all(range(k0, k1).map((k) => fetchBundle(o, k)))]);
    for (let k = k0; k < k1; k++) {
      const first = k * TILE_WIDTH;
      const width = tileWidthAt(ENTRIES_LEVEL, k, size);
      const { entries, leaves } = bundleLeafHashes(o, k, width, raw[k - k0]!);
      const want = hashes.slice(first - lo, first - lo + width);
      checkBundle(o, k, leaves, want, raw[k - k0]!);
      checkAuditedPrefix(o, edge, k, leaves);
      const from = edge.size;
      edge.append(leaves.slice(from - first));
      if (o.onEntry !== undefined) for (let i = from; i < edge.size; i++) o.onEntry(i, entries[i - first]!, leaves[i - first]!);
      bundles++;
    }
    o.onProgress?.(edge.size - start);
    o.onBatch?.();
  }
  const root = edge.root();
  if (!hashEqual(root, o.checkpoint.root)) {
    throw new MonitorAlert('MONITOR_TILE_MISMATCH', `the entries recompute the root ${toBase64(root)}, not the signed ${toBase64(o.checkpoint.root)} of size ${size}`, {
      checkpoints: { received: o.note },
      details: { size, recomputedRoot: toBase64(root) },
    });
  }
  return { entries: edge.size - start, bundles, complete: true };
}

// Leaf hashes [lo, hi) from tiles authenticated against the checkpoint. A tile
// that does not hash to its parent, or edge tiles that miss the root, are a
// MONITOR_TILE_MISMATCH carrying every tile read for the batch.
async function authenticatedLeafHashes(o: AuditOptions, lo: number, hi: number): Promise<Hash[]> {
  try {
    return await o.client.leafHashes(lo, hi, o.checkpoint);
  } catch (err) {
    if (err instanceof ClientError && err.code === 'CLIENT_TILE_INVALID') {
      throw new MonitorAlert('MONITOR_TILE_MISMATCH', `${err.message}; entries [${lo}, ${hi})`, {
        checkpoints: { received: o.note },
        files: capturedTiles(o),
        details: { range: [lo, hi] },
      }, { cause: err });
    }
    throw err;
  }
}

function capturedTiles(o: AuditOptions): EvidenceFile[] {
  return o.recorder.captured().filter(([url]) => url.includes('/tile/') && !url.includes('/tile/entries/')).map(([url, data]) => ({ name: url, data }));
}

// Bundle k at its width for the checkpoint; a missing partial bundle is read
// from the full one (the first W entries are the same).
async function fetchBundle(o: AuditOptions, k: number): Promise<{ url: string; data: Uint8Array; count: number }> {
  const width = tileWidthAt(ENTRIES_LEVEL, k, o.checkpoint.size);
  const tries = [{ level: ENTRIES_LEVEL, index: k, width }];
  if (width < TILE_WIDTH) tries.push({ level: ENTRIES_LEVEL, index: k, width: TILE_WIDTH });
  for (const t of tries) {
    const url = `${o.baseUrl}/${tilePath(t)}`;
    let res: Response;
    try {
      res = await o.recorder.fetch(url);
    } catch (err) {
      throw new ClientError('CLIENT_FETCH', `fetch: ${url}: ${(err as Error).message}`, { cause: err });
    }
    if (res.status === 404 || res.status === 410) continue;
    if (!res.ok) throw new ClientError('CLIENT_FETCH', `fetch: ${url}: HTTP ${res.status}`);
    const data = new Uint8Array(await res.arrayBuffer());
    if (data.length > MAX_BUNDLE_BYTES) throw new ClientError('CLIENT_FETCH', `fetch: ${url}: ${data.length} bytes is more than any bundle`);
    return { url, data, count: t.width };
  }
  throw new ClientError('CLIENT_NOT_FOUND', `fetch: ${o.baseUrl}/${tilePath(tries[0]!)}: 404 (and no full bundle)`);
}

function bundleLeafHashes(o: AuditOptions, k: number, width: number, b: { url: string; data: Uint8Array; count: number }): { entries: Uint8Array[]; leaves: Hash[] } {
  let entries: Uint8Array[];
  try {
    entries = decodeBundle(b.data, b.count).slice(0, width);
  } catch (err) {
    throw new MonitorAlert('MONITOR_BUNDLE_MISMATCH', `${b.url} does not parse as a ${b.count}-entry bundle: ${(err as Error).message}`, {
      checkpoints: { received: o.note },
      files: [{ name: b.url, data: b.data }],
      details: { bundle: k },
    });
  }
  return { entries, leaves: entries.map((e) => leafHash(e)) };
}

// Every entry's leaf hash must be the authenticated one from the tiles.
function checkBundle(o: AuditOptions, k: number, leaves: Hash[], want: Hash[], b: { url: string; data: Uint8Array }): void {
  for (let i = 0; i < leaves.length; i++) {
    if (hashEqual(leaves[i]!, want[i]!)) continue;
    const index = k * TILE_WIDTH + i;
    const files: EvidenceFile[] = [{ name: b.url, data: b.data }, ...capturedTiles(o).filter((f) => f.name.includes(`/tile/0/`))];
    throw new MonitorAlert(
      'MONITOR_BUNDLE_MISMATCH',
      `entry ${index} in ${b.url} hashes to ${toBase64(leaves[i]!)}, but the tiles authenticated by the signed root say ${toBase64(want[i]!)}`,
      { checkpoints: { received: o.note }, files, details: { index, bundle: k, entryLeafHash: toBase64(leaves[i]!), tileLeafHash: toBase64(want[i]!) } },
    );
  }
}

// When the audit resumes inside bundle k, the entries audited before must be
// the same ones (a log that rewrites them forked, even if its tiles agree now).
function checkAuditedPrefix(o: AuditOptions, edge: TreeEdge, k: number, leaves: Hash[]): void {
  const first = k * TILE_WIDTH;
  if (edge.size <= first) return;
  const level0 = edge.partialTiles().find((t) => t.tile.level === 0);
  if (level0 === undefined || level0.tile.index !== k) throw new Error('monitor: bad math: audited edge does not end in bundle ' + k);
  for (let i = 0; i < edge.size - first; i++) {
    if (!hashEqual(level0.data.subarray(i * 32, (i + 1) * 32), leaves[i]!)) {
      throw new MonitorAlert('MONITOR_INCONSISTENT', `entry ${first + i} changed since it was audited (was ${toBase64(level0.data.subarray(i * 32, (i + 1) * 32))}, now ${toBase64(leaves[i]!)})`, {
        checkpoints: { received: o.note },
        details: { index: first + i },
      });
    }
  }
}

function range(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let i = lo; i < hi; i++) out.push(i);
  return out;
}
