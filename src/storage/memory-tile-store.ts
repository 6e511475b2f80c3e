// An in-memory TileStore for tests. It enforces the contract the way a strict
// object store would: paths must be canonical public paths, and rewriting an
// immutable object with different bytes throws STORAGE_CONFLICT. Stored and
// returned bytes are copies, so callers cannot mutate the store by accident.

import {
  assertPublicPath,
  bytesEqual,
  conflictError,
  contentEtag,
  preconditionError,
  type TileStore,
  type VersionedObject,
} from './tile-store.js';

export class MemoryTileStore implements TileStore {
  readonly objects = new Map<string, Uint8Array>();
  /** Counts of each verb, for tests. */
  readonly counts = { read: 0, createIdempotent: 0, overwrite: 0, delete: 0, replaceIfMatch: 0 };
  readonly description = 'an in-memory tile store';

  async read(path: string): Promise<Uint8Array | null> {
    assertPublicPath(path);
    this.counts.read++;
    const data = this.objects.get(path);
    return data === undefined ? null : data.slice();
  }

  async createIdempotent(path: string, data: Uint8Array): Promise<void> {
    assertPublicPath(path);
    this.counts.createIdempotent++;
    const existing = this.objects.get(path);
    if (existing !== undefined) {
      if (!bytesEqual(existing, data)) throw conflictError(path);
      return;
    }
    this.objects.set(path, data.slice());
  }

  async overwrite(path: string, data: Uint8Array): Promise<void> {
    assertPublicPath(path);
    this.counts.overwrite++;
    this.objects.set(path, data.slice());
  }

  async delete(path: string): Promise<void> {
    assertPublicPath(path);
    this.counts.delete++;
    this.objects.delete(path);
  }

  async readWithEtag(path: string): Promise<VersionedObject | null> {
    const data = await this.read(path);
    return data === null ? null : { data, etag: contentEtag(data) };
  }

  async replaceIfMatch(path: string, data: Uint8Array, etag: string | null): Promise<string> {
    assertPublicPath(path);
    this.counts.replaceIfMatch++;
    const existing = this.objects.get(path);
    const current = existing === undefined ? null : contentEtag(existing);
    if (current !== etag) throw preconditionError(path, etag);
    this.objects.set(path, data.slice());
    return contentEtag(data);
  }
}
