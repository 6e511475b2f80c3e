// POST /add: the body is one raw entry of 1..65535 bytes.
//   200 {"index": n[, "duplicate": true]}                once the entry is durable;
//   ?wait=checkpoint: 200 with a proof bundle (spec/BUNDLE.md; JSON, or CBOR
//   for Accept: application/cbor) once a checkpoint covering the entry is
//   published: everything a client needs to verify inclusion offline. A
//   duplicate is flagged by the header Tilelog-Duplicate: true.

import type { Context } from 'hono';
import { MAX_ENTRY_SIZE } from '../merkle/index.js';
import { readBodyCapped } from './body-limit.js';
import { bundleAnswer } from './bundle-answer.js';
import { CACHE_NONE } from './cache.js';
import { httpError } from './errors.js';
import type { LogApi } from './log-api.js';

export interface AddOptions {
  /** How long ?wait=checkpoint may wait before answering 503 (the entry stays added). */
  waitTimeoutMs: number;
}

export function addHandler(log: LogApi, { waitTimeoutMs }: AddOptions) {
  return async function add(c: Context): Promise<Response> {
    const wait = c.req.query('wait');
    if (wait !== undefined && wait !== 'checkpoint') {
      throw httpError('HTTP_BAD_REQUEST', `unknown wait=${JSON.stringify(wait)}; the only value is wait=checkpoint`);
    }
    const entry = await readBodyCapped(c.req.raw, MAX_ENTRY_SIZE, (c.env as { incoming?: unknown } | undefined)?.incoming);
    if (entry.byteLength === 0) {
      throw httpError('LOG_ENTRY_SIZE', 'empty entry: the request body must be the entry, 1 to 65535 bytes');
    }
    const { index, duplicate } = await log.add(entry);
    const dup = duplicate ? { duplicate: true } : {};
    if (wait === undefined) return c.json({ index, ...dup }, 200, { 'Cache-Control': CACHE_NONE });

    const checkpoint = await waitForCheckpoint(log, index, c.req.raw.signal, waitTimeoutMs);
    const proof = await log.inclusionProof(index, checkpoint.size);
    const headers: Record<string, string> = { 'Cache-Control': CACHE_NONE };
    if (duplicate) headers['Tilelog-Duplicate'] = 'true';
    return bundleAnswer(c, { index, entry, inclusionProof: proof, checkpoint: checkpoint.text }, headers);
  };
}

async function waitForCheckpoint(log: LogApi, index: number, clientGone: AbortSignal, timeoutMs: number) {
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    return await log.waitForCheckpoint(index, AbortSignal.any([clientGone, timeout]));
  } catch (err) {
    if (clientGone.aborted && !timeout.aborted) {
      // Nobody is listening any more; answer something cheap and quiet.
      throw httpError('HTTP_BAD_REQUEST', 'the client closed the connection while waiting');
    }
    if (timeout.aborted) {
      throw httpError(
        'LOG_PUSHBACK',
        `entry ${index} is durable but no checkpoint covered it within ${timeoutMs} ms; fetch /v1/log/entry/${index} later`,
      );
    }
    throw err;
  }
}
