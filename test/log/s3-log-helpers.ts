// Shared checks for logs whose public tree is in a bucket of the test S3
// server: a reader that follows the bucket's public HTTP view the way a client
// would (every checkpoint it sees, then every tile and bundle that checkpoint
// needs), the sizes of the checkpoints the server accepted (from its request
// log), and the final audit (tilelog's own `tilelog audit` code over HTTP).

import { audit, type AuditResult } from '../../src/cli/audit.js';
import { urlSource } from '../../src/cli/tile-source.js';
import { tilePath, tilesForSize } from '../../src/merkle/layout.js';
import { openCheckpoint } from '../../src/note/checkpoint.js';
import { parseVerifierKey } from '../../src/note/keys.js';
import type { LoggedRequest } from '../support/s3-server.js';

/** The size line of a checkpoint note (its second line). */
export const checkpointSize = (text: string): number => Number(text.split('\n')[1]);

export interface SeenCheckpoint {
  size: number;
  root: string;
}

// PublicReader: polls <base>/checkpoint over plain HTTP (unsigned, as any
// client); for every new checkpoint, verifies its signature and fetches every
// object tilesForSize(size) names, recording each that is missing (404) while
// that checkpoint is public. Polling is the reader's nature, not a wait.
export class PublicReader {
  readonly seen: SeenCheckpoint[] = [];
  /** "<path> (needed by size N): <status>" for every object a published checkpoint lacked. */
  readonly missing: string[] = [];
  /** Checkpoints that did not verify, and transport errors. */
  readonly problems: string[] = [];
  fetches = 0;
  #last = '';
  #stopped = false;
  #loop: Promise<void> | null = null;

  constructor(
    readonly base: string,
    readonly origin: string,
    readonly verifierKey: string,
  ) {}

  start(): this {
    this.#loop ??= this.#run();
    return this;
  }

  /** One more complete look (so the last checkpoint is checked), then stop. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#loop;
    await this.#look();
  }

  get sizes(): number[] {
    return this.seen.map((s) => s.size);
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      await this.#look();
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  async #look(): Promise<void> {
    let text: string;
    try {
      const res = await fetch(`${this.base}/checkpoint`);
      this.fetches++;
      if (res.status === 404) return;
      if (res.status !== 200) throw new Error(`checkpoint: HTTP ${res.status}`);
      text = await res.text();
    } catch (err) {
      this.problems.push(`fetch checkpoint: ${String(err)}`);
      return;
    }
    if (text === this.#last) return;
    this.#last = text;
    let size: number;
    let root: string;
    try {
      const cp = openCheckpoint(text, this.origin, [parseVerifierKey(this.verifierKey)]).checkpoint;
      size = cp.size;
      root = Buffer.from(cp.root).toString('base64');
    } catch (err) {
      this.problems.push(`a checkpoint that does not verify: ${String(err)}`);
      return;
    }
    this.seen.push({ size, root });
    await Promise.all(
      tilesForSize(size).map(async (t) => {
        const p = tilePath(t);
        const res = await fetch(`${this.base}/${p}`);
        this.fetches++;
        await res.arrayBuffer();
        if (res.status !== 200) this.missing.push(`${p} (needed by size ${size}): HTTP ${res.status}`);
      }),
    );
  }
}

/** Whether sizes never decrease. */
export const nonDecreasing = (sizes: readonly number[]): boolean => sizes.every((s, i) => i === 0 || s >= sizes[i - 1]!);

/** One root per size across every observation; returns the conflicts found. */
export function rootConflicts(seen: readonly SeenCheckpoint[]): string[] {
  const bySize = new Map<number, string>();
  const out: string[] = [];
  for (const s of seen) {
    const r = bySize.get(s.size);
    if (r !== undefined && r !== s.root) out.push(`size ${s.size}: ${r} and ${s.root}`);
    bySize.set(s.size, s.root);
  }
  return out;
}

/** The sizes of the checkpoints the server stored under `key`, in the order it stored them (successful PUTs). */
export function storedCheckpointSizes(log: readonly LoggedRequest[], key: string): number[] {
  return log
    .filter((r) => r.verb === 'PUT' && r.key === key && (r.status === 200 || r.status === 'reset' || (r.fault === 'applied-500' && r.status === 500)) && r.checkpointText !== undefined)
    .map((r) => checkpointSize(r.checkpointText!));
}

/** Audits the bucket's public HTTP view with tilelog's own audit (signature, every tile, bundles, root). */
export function auditUrl(base: string, verifierKey: string, origin: string): Promise<AuditResult> {
  return audit(urlSource(base), { vkey: verifierKey, origin, concurrency: 8, quiet: true });
}
