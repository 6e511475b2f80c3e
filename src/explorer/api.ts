// The server's answers the browser reads, typed. Nothing here is trusted:
// callers verify checkpoints and proofs with the pinned key before they say
// "verified". Optional endpoints (witnesses, checkpoint history, registry)
// answer null when the server does not have them (404).

import { decodeBundleJson, type ProofBundle } from '../client/bundle.js';

export interface LogInfo {
  origin: string;
  verifierKey: string;
  treeSize: number;
  rootHash: string;
}

export interface WitnessInfo {
  name: string;
  url: string;
  verifierKey: string;
  size: number;
  lastError: string | null;
  lastCosignedAt: number | null;
}

export interface WitnessStatus {
  /** The log's c2sp.org/tlog-policy text (older servers may not send it). */
  policy?: string;
  witnesses: WitnessInfo[];
  signedSize: number;
  publishedSize: number;
}

/** One point of GET /v1/log/checkpoints: a published tree size, its root, when (ms) if known. */
export interface CheckpointPoint {
  size: number;
  rootHash: string;
  time: number | null;
}

export interface RegistryInfo {
  origin: string;
  logKey: string;
  registryKey: string;
  submitterKeys: Array<{ kid: string; publicKey: string; label: string; status: string; addedIndex: number }>;
}

/** GET /v1/agents/{name}: the record (recordOf) plus where its entries are. */
export interface AgentAnswer {
  name: string;
  status: string;
  owner: string;
  alias: string | null;
  capabilities: string[];
  endpoints: Array<{ protocol: string; url: string }>;
  publicKey: string;
  lastChange: string;
  seq: number;
  time: number;
  entryIndex: number;
  leafHash: string;
  registeredIndex: number;
  registeredTime: number;
}

export class ApiError extends Error {
  constructor(
    readonly path: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

async function get(path: string, accept: string): Promise<Response | null> {
  const res = await fetch(path, { headers: { Accept: accept }, cache: 'no-cache' });
  if (res.status === 404) return null;
  if (!res.ok) {
    let message = `${path}: HTTP ${res.status}`;
    try {
      const body = (await res.json()) as { error?: { message?: string } };
      if (body.error?.message !== undefined) message += `: ${body.error.message}`;
    } catch {
      // not a JSON error body
    }
    throw new ApiError(path, res.status, message);
  }
  return res;
}

async function json<T>(path: string): Promise<T | null> {
  const res = await get(path, 'application/json');
  return res === null ? null : ((await res.json()) as T);
}

function required<T>(path: string, v: T | null): T {
  if (v === null) throw new ApiError(path, 404, `${path}: not found`);
  return v;
}

export async function logInfo(): Promise<LogInfo> {
  return required('/v1/log/info', await json<LogInfo>('/v1/log/info'));
}

/** The signed checkpoint note, as served (verify before use). */
export async function checkpointNote(): Promise<string> {
  const res = required('/checkpoint', await get('/checkpoint', 'text/plain'));
  return res.text();
}

export function witnessStatus(): Promise<WitnessStatus | null> {
  return json<WitnessStatus>('/v1/log/witnesses');
}

export async function checkpointHistory(limit: number): Promise<CheckpointPoint[] | null> {
  const r = await json<{ checkpoints: CheckpointPoint[] }>(`/v1/log/checkpoints?limit=${limit}`);
  return r === null ? null : r.checkpoints;
}

/** The proof bundle of an entry: decoded, or the decode error with the raw text. */
export type BundleAnswer = { ok: true; bundle: ProofBundle; text: string } | { ok: false; error: unknown; text: string };

export async function entryBundle(index: number): Promise<BundleAnswer | null> {
  const path = `/v1/log/entry/${index}`;
  const res = await get(path, 'application/json');
  if (res === null) return null;
  const text = await res.text();
  try {
    return { ok: true, bundle: decodeBundleJson(text), text };
  } catch (error) {
    return { ok: false, error, text };
  }
}

/** The index of the entry with this leaf hash (64 lower-case hex), or null. */
export async function lookupLeaf(hex: string): Promise<number | null> {
  const r = await json<{ index: number }>(`/v1/log/lookup/${hex}`);
  return r === null ? null : r.index;
}

/** The registry's keys, or null when this server runs without --registry. */
export function registryInfo(): Promise<RegistryInfo | null> {
  return json<RegistryInfo>('/v1/registry');
}

export function agent(name: string): Promise<AgentAnswer | null> {
  return json<AgentAnswer>(`/v1/agents/${encodeURIComponent(name)}`);
}
