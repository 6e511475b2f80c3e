// What the log's process (the cluster primary, serve-workers.ts) and its read
// workers (read-worker.ts) tell each other over the cluster's IPC channel,
// and the configuration a worker is started with. Workers get no key, no
// database and no write access: only the tiles directory to read, the
// private socket to forward to, and the published checkpoints.

/** The environment variable holding a worker's ReadWorkerConfig as JSON. */
export const READ_WORKER_ENV = 'TILELOG_READ_WORKER';

export interface ReadWorkerConfig {
  tilesDir: string;
  /** The log process's private unix socket (mode 0600). */
  socketPath: string;
  host: string;
  port: number;
  logLevel: string;
  /** Bound of the worker's cache of full tiles and bundles. */
  cacheBytes: number;
  /** How long a draining worker lets in-flight requests finish. */
  closeGraceMs: number;
}

/** Primary to worker. */
export type ToWorker =
  /** The newest public checkpoint (sent after it, and every tile it covers, is in the tiles directory). */
  | { t: 'checkpoint'; size: number; root: string; text: string }
  /** Stop accepting, finish in-flight requests, exit 0. */
  | { t: 'drain' };

/** Worker to primary. */
export type FromWorker =
  /** Ready for the first checkpoint. */
  | { t: 'hello' }
  | { t: 'listening'; host: string; port: number }
  /** Could not listen (code: EADDRINUSE, EACCES, ...); the worker exits. */
  | { t: 'failed'; code: string; message: string };

export function isToWorker(m: unknown): m is ToWorker {
  return typeof m === 'object' && m !== null && ((m as ToWorker).t === 'checkpoint' || (m as ToWorker).t === 'drain');
}

export function isFromWorker(m: unknown): m is FromWorker {
  const t = typeof m === 'object' && m !== null ? (m as FromWorker).t : undefined;
  return t === 'hello' || t === 'listening' || t === 'failed';
}
