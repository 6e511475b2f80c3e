// SIGKILL durability with the public tree in a bucket (issue 12): a child log
// process (s3-log-child.ts: SQLite state, tiles and checkpoint in the test S3
// server) adds entries continuously and is killed at random moments; after
// each kill the log is reopened here (recovery runs against the bucket) and
// checked: every acknowledged entry is at its index, the tree resumes (all
// that was sequenced is published) and the bucket audits; across all runs no
// size had two roots and the bucket's checkpoint never moved backwards (every
// checkpoint PUT the server accepted, and a reader polling the bucket's HTTP,
// which also finds every tile of every checkpoint it sees).
import * as path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { openFileLog } from '../../src/log/index.js';
import { toBase64 } from '../../src/merkle/encoding.js';
import { parseSignerKey } from '../../src/note/keys.js';
import { openS3TileStore } from '../../src/storage/s3-tile-store.js';
import { startS3TestServer, type S3TestServer } from '../support/s3-server.js';
import { quietLogger, tempDir } from '../log/helpers.js';
import { auditUrl, nonDecreasing, PublicReader, rootConflicts, storedCheckpointSizes, type SeenCheckpoint } from '../log/s3-log-helpers.js';
import { CHILD_ORIGIN, childKey, LogChild } from './s3-child-driver.js';

const BUCKET = 'crash';
const PREFIX = 'sigkill/log';
const ITERATIONS = Number(process.env.TILELOG_S3_SIGKILL_ITERATIONS ?? '6');
let srv: S3TestServer;
const tmp = tempDir('tilelog-s3-sigkill-');
beforeAll(async () => {
  srv = await startS3TestServer({ buckets: [BUCKET], publicRead: true });
});
afterAll(async () => {
  await srv.close();
  tmp.cleanup();
});

test(`${ITERATIONS} SIGKILLs with the tree in a bucket: no acknowledged entry lost, the tree resumes and audits, the checkpoint never moves back`, async () => {
  const stateDir = path.join(tmp.dir, 'state');
  const base = `${srv.url}/${BUCKET}/${PREFIX}`;
  const reader = new PublicReader(base, CHILD_ORIGIN, childKey.verifierKey).start();
  // Every ack, kept as a list: a lost entry whose index was handed out again shows as two entries at one index.
  const acked: Array<[number, string]> = [];
  const observed: SeenCheckpoint[] = [];
  const childSizes: number[] = [];
  let finalSize = 0;
  try {
    for (let run = 0; run < ITERATIONS; run++) {
      const child = new LogChild({ stateDir, endpoint: srv.url, bucket: BUCKET, prefix: PREFIX, writer: `crash-${run}`, continuous: run });
      try {
        await child.ready();
        // Killed at a random moment once it is adding (at least one ack).
        await child.line(/^ack /);
        await new Promise((r) => setTimeout(r, 20 + Math.floor(Math.random() * 400)));
      } finally {
        await child.stop();
      }
      for (const line of child.lines) {
        const [tag, a, b] = line.split(' ');
        if (tag === 'ack') acked.push([Number(a), b!]);
        if (tag === 'cp') {
          observed.push({ size: Number(a), root: b! });
          childSizes.push(Number(a));
        }
      }

      // Reopen here: recovery against the bucket, then check.
      const store = await openS3TileStore({ bucket: BUCKET, prefix: PREFIX, endpoint: srv.url, forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
      const log = await openFileLog({ origin: CHILD_ORIGIN, signer: parseSignerKey(childKey.signerKey), stateDir, tileStore: store, logger: quietLogger });
      try {
        const sequenced = log.stats().sequenced;
        const cp = sequenced === 0 ? log.checkpoint() : await log.waitForCheckpoint(sequenced - 1, AbortSignal.timeout(30_000));
        observed.push({ size: cp.size, root: toBase64(cp.root) });
        childSizes.push(cp.size);
        expect(cp.size).toBe(sequenced); // everything durable is published again
        for (const [index, entry] of acked) {
          expect(index).toBeLessThan(cp.size);
          expect(new TextDecoder().decode(await log.entry(index)), `entry ${index}`).toBe(entry);
        }
        const audited = await auditUrl(base, childKey.verifierKey, CHILD_ORIGIN);
        expect(audited, JSON.stringify(audited.mismatches)).toMatchObject({ ok: true, treeSize: cp.size, signatureVerified: true });
        finalSize = cp.size;
      } finally {
        await log.close();
        store.close();
      }
    }
  } finally {
    await reader.stop();
  }
  expect(acked.length).toBeGreaterThan(0);
  expect(rootConflicts([...observed, ...reader.seen])).toEqual([]);
  expect(nonDecreasing(childSizes), `children and reopens saw ${childSizes.join(',')}`).toBe(true);
  expect(nonDecreasing(reader.sizes), `reader saw ${reader.sizes.join(',')}`).toBe(true);
  expect(reader.missing, 'a published checkpoint lacked a tile').toEqual([]);
  expect(reader.problems).toEqual([]);
  const stored = storedCheckpointSizes(srv.log, `${PREFIX}/checkpoint`);
  expect(nonDecreasing(stored), `stored ${stored.join(',')}`).toBe(true);
  expect(stored.at(-1)).toBe(finalSize);
  console.log(`s3 crash test: ${ITERATIONS} kills, ${acked.length} acks, final size ${finalSize}, ${stored.length} checkpoint PUTs stored, reader saw ${reader.seen.length} checkpoints (${reader.fetches} fetches)`);
});
