// The JSON proof API under /v1/log (formats in spec/API.md). Every hash is
// standard padded base64. Tree references are decimal sizes or the lowercase
// hex root of a checkpoint this log published. Answers between fixed tree
// sizes never change and are cached as immutable; answers about "the latest"
// checkpoint are short-lived.

import type { Context } from 'hono';
import { leafHash } from '../merkle/index.js';
import { bundleAnswer } from './bundle-answer.js';
import { CACHE_IMMUTABLE, CACHE_LATEST } from './cache.js';
import { httpError } from './errors.js';
import type { LogApi } from './log-api.js';
import { b64, parseDecimal, parseHexHash, parseTreeRef } from './params.js';

/** Throws LOG_NOT_FOUND unless size <= the latest published size. */
function requirePublished(log: LogApi, name: string, size: number): void {
  const published = log.checkpoint().size;
  if (size > published) {
    throw httpError('LOG_NOT_FOUND', `${name} ${size} is beyond the latest checkpoint (size ${published})`);
  }
}

/** GET /v1/log/entry/<index>: a proof bundle (spec/BUNDLE.md) of the entry in the latest checkpoint. */
export function entryHandler(log: LogApi) {
  return async function entry(c: Context): Promise<Response> {
    const index = parseDecimal('index', c.req.param('index')!);
    const checkpoint = log.checkpoint();
    if (index >= checkpoint.size) {
      throw httpError('LOG_NOT_FOUND', `entry ${index} is not in the latest checkpoint (size ${checkpoint.size})`);
    }
    const [data, proof] = await Promise.all([log.entry(index), log.inclusionProof(index, checkpoint.size)]);
    return bundleAnswer(c, { index, entry: data, inclusionProof: proof, checkpoint: checkpoint.text }, { 'Cache-Control': CACHE_LATEST });
  };
}

/** GET /v1/log/inclusion/<index>/<tree>. */
export function inclusionHandler(log: LogApi) {
  return async function inclusion(c: Context): Promise<Response> {
    const index = parseDecimal('index', c.req.param('index')!);
    const treeSize = await parseTreeRef('tree', c.req.param('tree')!, (r) => log.sizeForRoot(r));
    if (index >= treeSize) {
      throw httpError('MERKLE_RANGE', `index ${index} is not in a tree of size ${treeSize} (need index < size)`);
    }
    requirePublished(log, 'tree size', treeSize);
    return c.json(await inclusionAnswer(log, index, treeSize), 200, { 'Cache-Control': CACHE_IMMUTABLE });
  };
}

/** The body of a 200 to /v1/log/inclusion (index < treeSize <= published): also the fast path's (proof-fast-path.ts). */
export async function inclusionAnswer(log: LogApi, index: number, treeSize: number) {
  // The leaf hash from the tree (the level-0 tile the proof reads anyway) where the log offers it, not a database read.
  const [leaf, proof, root] = await Promise.all([
    log.leafHash !== undefined ? log.leafHash(index, treeSize) : log.entry(index).then((data) => leafHash(data)),
    log.inclusionProof(index, treeSize),
    log.treeHash(treeSize),
  ]);
  return { index, treeSize, leafHash: b64(leaf), rootHash: b64(root), inclusionProof: proof.map(b64) };
}

/** GET /v1/log/consistency/<old>/<new>. */
export function consistencyHandler(log: LogApi) {
  return async function consistency(c: Context): Promise<Response> {
    const sizeForRoot = (r: Uint8Array) => log.sizeForRoot(r);
    const oldSize = await parseTreeRef('old', c.req.param('old')!, sizeForRoot);
    const newSize = await parseTreeRef('new', c.req.param('new')!, sizeForRoot);
    if (oldSize < 1 || oldSize > newSize) {
      throw httpError('MERKLE_RANGE', `need 1 <= old <= new, got old ${oldSize} and new ${newSize}`);
    }
    requirePublished(log, 'new size', newSize);
    return c.json(await consistencyAnswer(log, oldSize, newSize), 200, { 'Cache-Control': CACHE_IMMUTABLE });
  };
}

/** The body of a 200 to /v1/log/consistency (1 <= oldSize <= newSize <= published): also the fast path's. */
export async function consistencyAnswer(log: LogApi, oldSize: number, newSize: number) {
  // The proof first: it reads most of the stored hashes the old tree's hash
  // needs (the complete subtrees left of oldSize), which the log's memo then
  // serves; run side by side, both computed them (~30% more hashing at 1M).
  const proof = await log.consistencyProof(oldSize, newSize);
  const [oldRoot, newRoot] = await Promise.all([log.treeHash(oldSize), log.treeHash(newSize)]);
  return { oldSize, newSize, oldRoot: b64(oldRoot), newRoot: b64(newRoot), consistencyProof: proof.map(b64) };
}

/** GET /v1/log/lookup/<leafhash-hex>: the index of the entry with that leaf hash. */
export function lookupHandler(log: LogApi) {
  return async function lookup(c: Context): Promise<Response> {
    const hash = parseHexHash('leaf hash', c.req.param('hash')!);
    const index = await log.lookup(hash);
    if (index === null) throw httpError('LOG_NOT_FOUND', 'no entry with that leaf hash in this log');
    return c.json({ index, leafHash: b64(hash) }, 200, { 'Cache-Control': CACHE_LATEST });
  };
}
