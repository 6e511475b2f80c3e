// CountingStore: a TileStore that passes every call to another one and counts
// the calls the engine makes (what it asks for), whatever the store does on
// the wire. Benches compare these counts across stores on the same load.

import { CHECKPOINT_PATH, type TileStore, type VersionedObject } from '../src/storage/tile-store.js';

export interface EngineCalls {
  /** createIdempotent + overwrite + replaceIfMatch: object writes asked for. */
  writes: number;
  writeBytes: number;
  /** read + readWithEtag. */
  reads: number;
  deletes: number;
}

export function noCalls(): EngineCalls {
  return { writes: 0, writeBytes: 0, reads: 0, deletes: 0 };
}

export class CountingStore implements TileStore {
  readonly calls: EngineCalls = noCalls();
  /** The size of each checkpoint written (its second line), in order; a retried write of one size counts once. */
  readonly checkpointSizes: number[] = [];
  readonly #inner: TileStore;

  constructor(inner: TileStore) {
    this.#inner = inner;
  }

  get description(): string {
    return this.#inner.description;
  }

  read(path: string): Promise<Uint8Array | null> {
    this.calls.reads++;
    return this.#inner.read(path);
  }

  readWithEtag(path: string): Promise<VersionedObject | null> {
    this.calls.reads++;
    return this.#inner.readWithEtag(path);
  }

  createIdempotent(path: string, data: Uint8Array): Promise<void> {
    this.#wrote(data);
    return this.#inner.createIdempotent(path, data);
  }

  overwrite(path: string, data: Uint8Array): Promise<void> {
    this.#wrote(data);
    return this.#inner.overwrite(path, data);
  }

  async replaceIfMatch(path: string, data: Uint8Array, etag: string | null): Promise<string> {
    this.#wrote(data);
    const etagOut = await this.#inner.replaceIfMatch(path, data, etag);
    const size = Number(new TextDecoder().decode(data).split('\n')[1]);
    if (path === CHECKPOINT_PATH && this.checkpointSizes.at(-1) !== size) this.checkpointSizes.push(size);
    return etagOut;
  }

  delete(path: string): Promise<void> {
    this.calls.deletes++;
    return this.#inner.delete(path);
  }

  #wrote(data: Uint8Array): void {
    this.calls.writes++;
    this.calls.writeBytes += data.length;
  }
}
