// /v1/log/info, /healthz (the process answers) and /readyz (the log accepts
// traffic; 503 while starting or draining).

import type { Context } from 'hono';
import { CACHE_LATEST, CACHE_NONE } from './cache.js';
import { httpError } from './errors.js';
import type { LogApi } from './log-api.js';
import { b64 } from './params.js';

/** The endpoints listed by /v1/log/info, relative to the server root. */
export const ENDPOINTS = {
  checkpoint: '/checkpoint',
  tile: '/tile/<L>/<N>[.p/<W>]',
  entries: '/tile/entries/<N>[.p/<W>]',
  add: 'POST /add[?wait=checkpoint]',
  entry: '/v1/log/entry/<index>',
  inclusion: '/v1/log/inclusion/<index>/<size|root-hex>',
  consistency: '/v1/log/consistency/<old size|root-hex>/<new size|root-hex>',
  lookup: '/v1/log/lookup/<leaf-hash-hex>',
  info: '/v1/log/info',
  checkpoints: '/v1/log/checkpoints[?limit=<n>]',
  healthz: '/healthz',
  readyz: '/readyz',
} as const;

/** publicUrl: the URL readers fetch the tree from (a bucket or CDN), when the server knows it. */
export function infoHandler(log: LogApi, publicUrl?: () => string) {
  return function info(c: Context): Response {
    const checkpoint = log.checkpoint();
    return c.json(
      {
        origin: log.origin,
        verifierKey: log.verifierKey,
        treeSize: checkpoint.size,
        rootHash: b64(checkpoint.root),
        ...(log.dedup === undefined ? {} : { dedup: log.dedup }),
        endpoints: ENDPOINTS,
        ...(publicUrl !== undefined && { publicUrl: publicUrl() }),
      },
      200,
      { 'Cache-Control': CACHE_LATEST },
    );
  };
}

export function healthzHandler() {
  return function healthz(c: Context): Response {
    return c.json({ status: 'ok' }, 200, { 'Cache-Control': CACHE_NONE });
  };
}

// readyzHandler: 503 while starting or draining (isReady false), once the log
// stopped for good (stats().fatal: a refused compare-and-swap, another writer
// on its store; a restart is needed), and while the log reports a store that
// refuses writes (a full or failing disk; it turns ready again by itself once
// writes succeed).
export function readyzHandler(isReady: () => boolean, log?: LogApi) {
  return function readyz(c: Context): Response {
    if (!isReady()) throw httpError('LOG_CLOSED', 'the log is not accepting traffic (starting or shutting down)');
    const w = log as Partial<WritableLog> | undefined;
    const fatal = typeof w?.stats === 'function' ? (w.stats().fatal ?? null) : null;
    // The reason stays in the server log (it may name internals); adds answer with it when it is the client's business.
    if (fatal !== null) throw httpError('LOG_CLOSED', 'the log stopped and takes no more adds until an operator restarts it (see the server log)');
    if (typeof w?.writable === 'function' && !w.writable()) {
      const faults = typeof w.stats === 'function' ? w.stats().storage.faults : [];
      if (faults.length > 0 && faults.every((f) => f.component === 'signer')) {
        throw httpError('SIGNER_UNAVAILABLE', 'the log cannot sign checkpoints (its signing key is unavailable); reads are served and adds are sequenced, publication resumes once the key signs again');
      }
      const what = faults.map((f) => `${f.component} ${f.code}`).join(', ') || 'a store';
      throw httpError('STORAGE_UNAVAILABLE', `the log cannot write (${what}: the disk is full or failing); reads are served, writes resume once space returns`);
    }
    return c.json({ status: 'ready' }, 200, { 'Cache-Control': CACHE_NONE });
  };
}

/** The readiness view of src/log's Log (writable() and the storage faults in stats()). */
interface WritableLog {
  writable(): boolean;
  stats(): { storage: { faults: { component: string; code: string }[] }; fatal?: string | null };
}
