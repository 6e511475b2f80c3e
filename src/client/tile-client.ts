// TileClient: reads a C2SP tlog-tiles log over HTTP (any fetch function) and
// proves everything itself. It trusts only the policy's keys: the checkpoint
// is verified with verifyCheckpoint, every hash comes from tiles that
// src/merkle's tileHashReader authenticates against the signed root, and
// entries are checked against those hashes. No proof API is used.
//
// Fetching: each proof is one readHashes batch, so it reads the fewest tiles
// that both hold and authenticate the hashes (the right edge of the tree plus
// each needed full tile's ancestors); they are fetched in parallel. A partial
// tile (`.p/W`) that is gone (404) is read from its full tile, whose first W
// hashes are the same. Tiles are cached in a bounded LRU only after their
// batch authenticated, so a bad answer never sticks. A tile's bytes at a given
// width never change, so partial tiles are cached too (keyed by width).
// Gzip `Content-Encoding` is undone by fetch itself.

import { TilelogError } from '../errors.js';
import { decodeBundle as decodeEntryBundle } from '../merkle/bundle.js';
import type { Hash } from '../merkle/hash.js';
import { hashEqual, HASH_SIZE, leafHash } from '../merkle/hash.js';
import type { TileId } from '../merkle/layout.js';
import { ENTRIES_LEVEL, TILE_WIDTH, tilePath, tileWidthAt } from '../merkle/layout.js';
import { assertSafeIndex } from '../merkle/math.js';
import { consistencyProof as buildConsistency, inclusionProof as buildInclusion } from '../merkle/proof.js';
import { storedHashIndex } from '../merkle/stored.js';
import { tileHashReader } from '../merkle/tilehash.js';
import { treeHashFromHashes, treeHashIndexes, type HashReader } from '../merkle/tree.js';
import type { Checkpoint } from '../note/checkpoint.js';
import { MAX_NOTE_SIZE } from '../note/note.js';
import { BUNDLE_VERSION, type ProofBundle } from './bundle.js';
import { verifyCheckpoint, type VerifiedCheckpoint } from './checkpoint.js';
import { ClientError, messageOf } from './errors.js';
import { Lru } from './lru.js';
import { asTrustPolicy, type TrustPolicy, type TrustPolicyInput } from './policy.js';
import { verifyConsistency, verifyInclusion } from './proofs.js';

/** Any fetch: the global one, undici's, a test double. */
export type FetchLike = (url: string, init?: RequestInit) => Promise<Response>;

export interface TileClientOptions {
  /** The log's URL prefix (`<prefix>/checkpoint`, `<prefix>/tile/...`). Without it, fetch gets bare paths. */
  baseUrl?: string;
  /** The fetch to use; default globalThis.fetch. */
  fetch?: FetchLike;
  /** Keys and quorum that checkpoints must satisfy. */
  policy: TrustPolicy | TrustPolicyInput;
  /** Tiles kept in the LRU cache (default 1024, at most 8 MiB); 0 disables it. */
  tileCacheSize?: number;
  /** The clock for checkpoint freshness, in POSIX seconds (default Date.now()/1000). */
  nowSeconds?: () => number;
}

/** Default number of tiles the LRU keeps. */
export const DEFAULT_TILE_CACHE_SIZE = 1024;
const MAX_BUNDLE_FILE = TILE_WIDTH * (2 + 65535);

const tileKey = (t: TileId): string => `${t.level}/${t.index}/${t.width}`;

export class TileClient {
  readonly policy: TrustPolicy;
  readonly #base: string;
  readonly #fetch: FetchLike;
  readonly #cache: Lru<string, Uint8Array>;
  readonly #now: () => number;

  constructor(options: TileClientOptions) {
    const { baseUrl, fetch: f, policy, tileCacheSize = DEFAULT_TILE_CACHE_SIZE, nowSeconds = () => Math.floor(Date.now() / 1000) } = options;
    if (baseUrl === undefined && f === undefined) throw new TypeError('TileClient: give baseUrl or fetch');
    this.policy = asTrustPolicy(policy);
    this.#base = baseUrl === undefined ? '' : baseUrl.replace(/\/+$/, '');
    const g = f ?? (globalThis.fetch as FetchLike | undefined);
    if (g === undefined) throw new TypeError('TileClient: no fetch in this environment; pass options.fetch');
    this.#fetch = f ?? ((url, init) => g(url, init));
    this.#cache = new Lru(tileCacheSize);
    this.#now = nowSeconds;
  }

  /** Tiles now in the cache. */
  get cachedTiles(): number {
    return this.#cache.size;
  }

  /** Fetches `<prefix>/checkpoint` and verifies it with the policy. */
  async checkpoint(): Promise<VerifiedCheckpoint> {
    const data = await this.#get('checkpoint', MAX_NOTE_SIZE);
    if (data === null) throw new ClientError('CLIENT_NOT_FOUND', `fetch: ${this.#url('checkpoint')}: 404`);
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(data);
    } catch (err) {
      throw new ClientError('CLIENT_CHECKPOINT_SIGNATURE', 'checkpoint: not valid UTF-8', { cause: err });
    }
    return verifyCheckpoint(text, this.policy, this.#now());
  }

  /**
   * PATH(index, D[0:treeSize]) built from tiles authenticated against
   * `checkpoint`: the inclusion proof of entry `index` in `checkpoint`, or in
   * its prefix of size treeSize (index < treeSize <= checkpoint.size). A
   * prefix's proof needs only complete subtrees, stored alike in the bigger
   * tree, so no tile of the older size (long replaced) is read.
   */
  async inclusionProof(index: number, checkpoint: Checkpoint, treeSize = checkpoint.size): Promise<Hash[]> {
    assertSafeIndex('index', index);
    assertSafeIndex('treeSize', treeSize);
    if (treeSize > checkpoint.size) throw new ClientError('CLIENT_NOT_FOUND', `inclusion: size ${treeSize} is beyond the checkpoint of size ${checkpoint.size}`);
    if (index >= treeSize) {
      throw new ClientError('CLIENT_NOT_FOUND', `inclusion: entry ${index} is not in the tree of size ${treeSize}`);
    }
    return buildInclusion(treeSize, index, this.#reader(checkpoint));
  }

  /**
   * PROOF(oldSize, D[0:newSize]) for two prefixes of `checkpoint`'s tree (1 <=
   * oldSize <= newSize <= checkpoint.size), from tiles authenticated against
   * it. Not verified here: check it against the two roots (treeHash gives them).
   */
  async prefixConsistencyProof(oldSize: number, newSize: number, checkpoint: Checkpoint): Promise<Hash[]> {
    assertSafeIndex('oldSize', oldSize);
    assertSafeIndex('newSize', newSize);
    if (oldSize < 1 || oldSize > newSize || newSize > checkpoint.size) {
      throw new ClientError('CLIENT_NOT_FOUND', `consistency: sizes ${oldSize} and ${newSize} are not 1 <= old <= new <= ${checkpoint.size}`);
    }
    return oldSize === newSize ? [] : buildConsistency(oldSize, newSize, this.#reader(checkpoint));
  }

  /**
   * The consistency proof from `older` to `newer`, built from tiles authenticated
   * against `newer` and verified against `older`'s root. Throws an
   * InconsistencyError (with both checkpoints and the proof) on a rollback,
   * a fork at equal sizes, or an older root that is not a prefix.
   */
  async consistencyProof(older: Checkpoint, newer: Checkpoint): Promise<Hash[]> {
    let proof: Hash[] = [];
    if (older.size > 0 && older.size < newer.size) proof = await buildConsistency(older.size, newer.size, this.#reader(newer));
    verifyConsistency(older, newer, proof);
    return proof;
  }

  /**
   * MTH(D[0:size]), the root of the tree's first `size` entries (0 <= size <=
   * checkpoint.size), from tiles authenticated against `checkpoint`: at most
   * log2(size) + 1 stored hashes in one batch. Lets a client prove against an
   * older size with no proof API (the older tree is a prefix of the signed one).
   */
  async treeHash(size: number, checkpoint: Checkpoint): Promise<Hash> {
    assertSafeIndex('size', size);
    if (size > checkpoint.size) throw new ClientError('CLIENT_NOT_FOUND', `tree: size ${size} is beyond the checkpoint of size ${checkpoint.size}`);
    if (size === checkpoint.size) return checkpoint.root.slice();
    return treeHashFromHashes(size, await this.#reader(checkpoint).readHashes(treeHashIndexes(size)));
  }

  /** Leaf hashes [start, end) of `checkpoint`'s tree, authenticated by tiles. */
  async leafHashes(start: number, end: number, checkpoint: Checkpoint): Promise<Hash[]> {
    checkRange(start, end, checkpoint.size);
    const idx: number[] = [];
    for (let i = start; i < end; i++) idx.push(storedHashIndex(0, i));
    return this.#reader(checkpoint).readHashes(idx);
  }

  /**
   * Entry bundle `n` (entries [n·256, n·256 + W), W its width at the
   * checkpoint's size), each entry checked against the authenticated leaf hashes.
   */
  async entryBundle(n: number, checkpoint: Checkpoint): Promise<Uint8Array[]> {
    const width = tileWidthAt(0, n, checkpoint.size);
    if (width === 0) throw new ClientError('CLIENT_NOT_FOUND', `entries: bundle ${n} is beyond the checkpoint of size ${checkpoint.size}`);
    const t: TileId = { level: ENTRIES_LEVEL, index: n, width };
    let data = await this.#get(tilePath(t), MAX_BUNDLE_FILE);
    let count = width;
    if (data === null && width < TILE_WIDTH) {
      data = await this.#get(tilePath({ ...t, width: TILE_WIDTH }), MAX_BUNDLE_FILE);
      count = TILE_WIDTH;
    }
    if (data === null) throw new ClientError('CLIENT_NOT_FOUND', `fetch: ${this.#url(tilePath(t))}: 404`);
    let entries: Uint8Array[];
    try {
      entries = decodeEntryBundle(data, count).slice(0, width);
    } catch (err) {
      throw new ClientError('CLIENT_TILE_INVALID', `entries: bundle ${tilePath(t)}: ${messageOf(err)}`, { cause: err });
    }
    const first = n * TILE_WIDTH;
    const hashes = await this.leafHashes(first, first + width, checkpoint);
    entries.forEach((e, i) => {
      if (!hashEqual(leafHash(e), hashes[i]!)) {
        throw new ClientError('CLIENT_TILE_INVALID', `entries: entry ${first + i} in ${tilePath(t)} does not match its leaf hash in the tiles`);
      }
    });
    return entries.map((e) => e.slice());
  }

  /** Entries [start, end) of the checkpoint's tree, each checked against the tiles. */
  async entries(start: number, end: number, checkpoint: Checkpoint): Promise<Uint8Array[]> {
    checkRange(start, end, checkpoint.size);
    const out: Uint8Array[] = [];
    for (let n = Math.floor(start / TILE_WIDTH); n * TILE_WIDTH < end; n++) {
      const bundle = await this.entryBundle(n, checkpoint);
      const lo = Math.max(start - n * TILE_WIDTH, 0);
      const hi = Math.min(end - n * TILE_WIDTH, bundle.length);
      out.push(...bundle.slice(lo, hi));
    }
    return out;
  }

  /** A proof bundle for entry `index` in a verified checkpoint (spec/BUNDLE.md). */
  async proofBundle(index: number, checkpoint: VerifiedCheckpoint): Promise<ProofBundle> {
    const [entry] = await this.entries(index, index + 1, checkpoint);
    const inclusionProof = await this.inclusionProof(index, checkpoint);
    verifyInclusion(checkpoint, index, { entry: entry! }, inclusionProof);
    return { version: BUNDLE_VERSION, index, entry: entry!, inclusionProof, checkpoint: checkpoint.note };
  }

  /** Fetches and verifies the latest checkpoint, then proves entry `index` in it. */
  async proveEntry(index: number): Promise<ProofBundle> {
    return this.proofBundle(index, await this.checkpoint());
  }

  // A HashReader over authenticated tiles for checkpoint's tree. Tiles fetched
  // for a batch enter the cache only once the batch has authenticated.
  #reader(checkpoint: Checkpoint): HashReader {
    return {
      readHashes: async (indexes) => {
        const fetched = new Map<string, Uint8Array>();
        const reader = tileHashReader(checkpoint.size, checkpoint.root, (tiles) => Promise.all(tiles.map((t) => this.#tile(t, fetched))));
        let hashes: Hash[];
        try {
          hashes = await reader.readHashes(indexes);
        } catch (err) {
          if (err instanceof TilelogError && err.code === 'MERKLE_PROOF_INVALID') {
            throw new ClientError('CLIENT_TILE_INVALID', `tiles: ${err.message} (the server's tiles do not match the signed checkpoint)`, { cause: err });
          }
          throw err;
        }
        for (const [k, v] of fetched) this.#cache.set(k, v);
        return hashes;
      },
    };
  }

  // One hash tile at its width: from the cache (the exact tile, or the first
  // W hashes of the cached full tile), else fetched; a missing partial tile
  // is read from the full one.
  async #tile(t: TileId, fetched: Map<string, Uint8Array>): Promise<Uint8Array> {
    const bytes = t.width * HASH_SIZE;
    const hit = this.#cache.get(tileKey(t)) ?? this.#cache.get(tileKey({ ...t, width: TILE_WIDTH }))?.subarray(0, bytes);
    if (hit !== undefined) return hit;
    let data = await this.#get(tilePath(t), TILE_WIDTH * HASH_SIZE);
    if (data === null && t.width < TILE_WIDTH) {
      const full = await this.#get(tilePath({ ...t, width: TILE_WIDTH }), TILE_WIDTH * HASH_SIZE);
      data = full === null ? null : full.subarray(0, Math.min(bytes, full.length));
    }
    if (data === null) throw new ClientError('CLIENT_NOT_FOUND', `fetch: ${this.#url(tilePath(t))}: 404 (and no full tile)`);
    fetched.set(tileKey(t), data);
    return data;
  }

  #url(path: string): string {
    return this.#base === '' ? path : `${this.#base}/${path}`;
  }

  // GET path: the body, or null on 404. CLIENT_FETCH on anything else or a body over maxBytes.
  async #get(path: string, maxBytes: number): Promise<Uint8Array | null> {
    const url = this.#url(path);
    let res: Response;
    try {
      res = await this.#fetch(url);
    } catch (err) {
      throw new ClientError('CLIENT_FETCH', `fetch: ${url}: ${messageOf(err)}`, { cause: err });
    }
    if (res.status === 404 || res.status === 410) {
      await res.body?.cancel().catch(() => {});
      return null;
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => {});
      throw new ClientError('CLIENT_FETCH', `fetch: ${url}: HTTP ${res.status}`);
    }
    let body: Uint8Array;
    try {
      body = new Uint8Array(await res.arrayBuffer());
    } catch (err) {
      throw new ClientError('CLIENT_FETCH', `fetch: ${url}: reading the body: ${messageOf(err)}`, { cause: err });
    }
    if (body.length > maxBytes) throw new ClientError('CLIENT_FETCH', `fetch: ${url}: ${body.length} bytes, at most ${maxBytes} expected`);
    return body;
  }
}

function checkRange(start: number, end: number, size: number): void {
  assertSafeIndex('start', start);
  assertSafeIndex('end', end);
  if (start > end || end > size) throw new ClientError('CLIENT_NOT_FOUND', `entries: [${start}, ${end}) is not within the checkpoint of size ${size}`);
}
