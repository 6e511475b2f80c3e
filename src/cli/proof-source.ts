// Where `tilelog proof` gets its proofs: tilelog's JSON API (/v1/log/...), or,
// when the URL has none (a static mirror, a bucket, any tlog-tiles log), the
// tiles themselves through TileClient, which authenticates every hash it reads
// against the signed checkpoint. Either way proof.ts verifies what it gets.
//
// The probe is GET /v1/log/info: a JSON object means a tilelog server; a 404
// or an answer that is not JSON (a static server's HTML error page) means no
// API. Anything else (a 500, a refused connection) is an error, not a reason
// to fall back.

import { ClientError, TileClient, trustPolicy } from '../client/index.js';
import { fromBase64Strict, type Hash } from '../merkle/index.js';
import { getJson } from './client.js';
import { CliError } from './common.js';
import { logKeyFor, openServerCheckpoint, type ServerCheckpoint } from './trust.js';

export interface ProofSource {
  /** True when proofs are computed from tiles (no proof API). */
  readonly computed: boolean;
  /** The latest checkpoint, signature checked. */
  readonly latest: ServerCheckpoint;
  /** Entry `index` (< latest size); from tiles it is checked against the authenticated leaf hash. */
  entry(index: number): Promise<Uint8Array>;
  /** The root of the tree of size `size` and the inclusion proof of `index` in it. */
  inclusion(index: number, size: number): Promise<{ root: Hash; proof: Hash[] }>;
  /** Roots of both sizes and the consistency proof between them (1 <= oldSize <= newSize <= latest size). */
  consistency(oldSize: number, newSize: number): Promise<{ oldRoot: Hash; newRoot: Hash; proof: Hash[] }>;
}

type Json = Record<string, unknown>;

/** Probes url for the API, checks the latest checkpoint with the key, and returns the matching source. */
export async function openProofSource(url: string, logKeyFlag: string | undefined): Promise<ProofSource> {
  const info = await probeInfo(url);
  if (info === null && logKeyFlag === undefined) {
    throw new CliError(
      `${url} has no tilelog API (GET ${url}/v1/log/info: not found), so there is no server to ask for the log's key; ` +
        `pass --log-key <vkey> (from the log's operator) and the proof is computed from the tiles`,
    );
  }
  const key = await logKeyFor(url, logKeyFlag, async () => info ?? {});
  const text = await getCheckpointText(url, info === null);
  const latest = openServerCheckpoint(text, key.vkey, key.keyFromServer);
  return info === null ? tileSource(url, latest) : apiSource(url, latest);
}

// GET /v1/log/info: the JSON object, or null when the URL has no such API.
async function probeInfo(url: string): Promise<Json | null> {
  const target = `${url}/v1/log/info`;
  const res = await fetch(target).catch((err: Error) => {
    throw new CliError(`cannot reach ${target} (${(err.cause as { code?: string } | undefined)?.code ?? err.message}); is the log served there? Set --url or $TILELOG_URL`);
  });
  if (res.status === 404 || res.status === 410) {
    await res.body?.cancel().catch(() => {});
    return null;
  }
  const body = await res.text();
  if (!res.ok) throw new CliError(`${target}: HTTP ${res.status} ${body.slice(0, 200)}`);
  try {
    const parsed: unknown = JSON.parse(body);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Json) : null;
  } catch {
    return null;
  }
}

async function getCheckpointText(url: string, staticLog: boolean): Promise<string> {
  const target = `${url}/checkpoint`;
  const res = await fetch(target).catch((err: Error) => {
    throw new CliError(`cannot reach ${target} (${err.message}); is the log served there? Set --url or $TILELOG_URL`);
  });
  if (res.status === 404 && staticLog) {
    throw new CliError(
      `${url} is neither a tilelog server (no /v1/log/info) nor a tlog-tiles log (no checkpoint at ${target}); ` +
        `--url must be the directory that holds checkpoint and tile/`,
    );
  }
  if (!res.ok) throw new CliError(`${target}: HTTP ${res.status}`);
  return res.text();
}

function apiSource(url: string, latest: ServerCheckpoint): ProofSource {
  return {
    computed: false,
    latest,
    async entry(index) {
      const e = await getJson<Json>(`${url}/v1/log/entry/${index}`);
      return fromBase64Strict(String(e.entry), undefined);
    },
    async inclusion(index, size) {
      const p = await getJson<Json>(`${url}/v1/log/inclusion/${index}/${size}`);
      return { root: hash('rootHash', p.rootHash), proof: hashes('inclusionProof', p.inclusionProof) };
    },
    async consistency(oldSize, newSize) {
      const c = await getJson<Json>(`${url}/v1/log/consistency/${oldSize}/${newSize}`);
      return { oldRoot: hash('oldRoot', c.oldRoot), newRoot: hash('newRoot', c.newRoot), proof: hashes('consistencyProof', c.consistencyProof) };
    },
  };
}

// Every hash read here is authenticated against latest's signed root by
// TileClient; a tree of an older size is a prefix of it, so its root and
// proofs come from the same tiles (no tile of the older size is needed).
function tileSource(url: string, latest: ServerCheckpoint): ProofSource {
  const client = new TileClient({ baseUrl: url, policy: trustPolicy({ logKey: latest.vkey }) });
  const signed = latest.checkpoint;
  return {
    computed: true,
    latest,
    entry: (index) => fromTiles(url, async () => (await client.entries(index, index + 1, signed))[0]!),
    inclusion: (index, size) =>
      fromTiles(url, async () => ({ root: await client.treeHash(size, signed), proof: await client.inclusionProof(index, signed, size) })),
    consistency: (oldSize, newSize) =>
      fromTiles(url, async () => ({
        oldRoot: await client.treeHash(oldSize, signed),
        newRoot: await client.treeHash(newSize, signed),
        proof: await client.prefixConsistencyProof(oldSize, newSize, signed),
      })),
  };
}

// The client's errors, said for a CLI user: what is missing or wrong, where.
async function fromTiles<T>(url: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (!(err instanceof ClientError)) throw err;
    if (err.code === 'CLIENT_NOT_FOUND') {
      throw new CliError(`cannot compute the proof from tiles: a tile is missing at ${url} (${err.message}); the mirror is incomplete or not yet synced`);
    }
    if (err.code === 'CLIENT_TILE_INVALID') {
      throw new CliError(`the tiles at ${url} do NOT match the signed checkpoint: ${err.message}`);
    }
    throw new CliError(`computing the proof from tiles at ${url} failed: ${err.message} (${err.code})`);
  }
}

function hashes(name: string, value: unknown): Hash[] {
  if (!Array.isArray(value)) throw new CliError(`the server's answer has no ${name} array`);
  return value.map((h) => hash(name, h));
}

function hash(name: string, value: unknown): Hash {
  if (typeof value !== 'string') throw new CliError(`the server's answer has no ${name}`);
  return fromBase64Strict(value, 32);
}
