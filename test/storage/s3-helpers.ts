// Shared setup for the S3 store tests: a test S3 server with one bucket and
// stores opened on it under fresh prefixes (so tests never see each other's
// objects), closed after each test.

import { openS3TileStore, type S3TileStore, type S3TileStoreOptions } from '../../src/storage/s3-tile-store.js';
import { startS3TestServer, type S3TestServer } from '../support/s3-server.js';

export const BUCKET = 'tilelog-test';
export const TEST_CREDENTIALS = { accessKeyId: 'test-key', secretAccessKey: 'test-secret' };

/** Small bounds so an exhausted retry fails in well under a second. */
export const FAST_RETRY = { maxAttempts: 4, baseDelayMs: 5, maxDelayMs: 20, totalMs: 5_000, requestTimeoutMs: 2_000 };

export interface S3Fixture {
  server: S3TestServer;
  open(o?: Partial<S3TileStoreOptions>): Promise<S3TileStore>;
  closeStores(): void;
}

export async function s3Fixture(): Promise<S3Fixture> {
  const server = await startS3TestServer({ buckets: [BUCKET], publicRead: true });
  const opened: S3TileStore[] = [];
  let n = 0;
  return {
    server,
    async open(o = {}) {
      const store = await openS3TileStore({
        bucket: BUCKET,
        prefix: `t${++n}/log`,
        endpoint: server.url,
        forcePathStyle: true,
        credentials: TEST_CREDENTIALS,
        retry: FAST_RETRY,
        selfTest: false,
        ...o,
      });
      opened.push(store);
      return store;
    },
    closeStores() {
      for (const s of opened.splice(0)) s.close();
    },
  };
}
