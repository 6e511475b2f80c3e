// A read worker's process (serve --read-workers; the entry the cluster
// primary, serve-workers.ts, starts). It serves the public tree from the
// tiles directory read-only (FileTileStore.read only: the safe read refuses
// symlinks and anything outside the tree), the checkpoint the log's process
// sends it, and forwards every other request to that process. It holds no
// key and no database and writes nothing.
//
// Lifetime: it starts listening once it has a checkpoint; 'drain' (the
// primary's shutdown) or SIGTERM stops accepting, lets in-flight requests
// finish, and exits 0. SIGINT is ignored: a terminal's Ctrl-C reaches the
// whole process group, and the primary leads the shutdown. When the primary
// is gone (its IPC channel closes) node:cluster ends the worker at once, so
// no orphan keeps the public port.

import { TileCache } from '../log/index.js';
import { fromBase64Strict } from '../merkle/index.js';
import { forwardTo } from '../http/forward.js';
import type { PublishedCheckpointLike } from '../http/log-api.js';
import { readWorkerListener } from '../http/read-worker.js';
import { startListener, type RunningServer } from '../http/server.js';
import type { PublicTree } from '../http/tiles.js';
import { FileTileStore } from '../storage/file-tile-store.js';
import { assertPublicPath } from '../storage/tile-store.js';
import { createCliLogger, parseLogLevel } from './logger.js';
import { isToWorker, READ_WORKER_ENV, type FromWorker, type ReadWorkerConfig } from './read-worker-protocol.js';

const cfg = JSON.parse(process.env[READ_WORKER_ENV] ?? 'null') as ReadWorkerConfig | null;
if (cfg === null || process.send === undefined) {
  process.stderr.write('tilelog read worker: started without its configuration; it runs only under tilelog serve --read-workers\n');
  process.exit(2);
}
const tell = (m: FromWorker): Promise<void> => new Promise((resolve) => process.send!(m, undefined, undefined, () => resolve()));
const logger = createCliLogger({ level: parseLogLevel(READ_WORKER_ENV, cfg.logLevel), base: { component: 'read-worker' } });

const store = new FileTileStore(cfg.tilesDir, {
  onRefused: (path, reason) => logger.warn(`refused to serve ${path}: ${reason} (tampering?)`),
});
const cache = new TileCache(cfg.cacheBytes);
let checkpoint: PublishedCheckpointLike | null = null;
let gotFirst: () => void;
const first = new Promise<void>((resolve) => (gotFirst = resolve));

const tree: PublicTree = {
  checkpoint: () => checkpoint!,
  async readPublic(path) {
    assertPublicPath(path);
    return cache.read({ read: (p) => store.read(p) }, path);
  },
};

const forward = forwardTo(cfg.socketPath, (res) => {
  // The log's process is not answering (it is stopping, or gone): as the log answers when it closes.
  res.writeHead(503, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', 'Retry-After': '1' });
  res.end(JSON.stringify({ error: { code: 'LOG_CLOSED', message: 'the log is not answering (restarting or shutting down); retry shortly' } }));
});

let server: RunningServer | null = null;
let draining: Promise<void> | null = null;
function drain(): Promise<void> {
  draining ??= (async () => {
    await server?.close();
    forward.close();
    process.exit(0);
  })();
  return draining;
}

process.on('message', (m: unknown) => {
  if (!isToWorker(m)) return;
  if (m.t === 'drain') void drain();
  else if (checkpoint === null || m.size >= checkpoint.size) {
    checkpoint = { size: m.size, root: fromBase64Strict(m.root, 32), text: m.text };
    gotFirst();
  }
});
process.on('SIGINT', () => {});
process.on('SIGTERM', () => void drain());
void tell({ t: 'hello' });
await first;
try {
  server = await startListener(readWorkerListener({ tree, cache, forward, host: cfg.host, logger }), {
    host: cfg.host,
    port: cfg.port,
    closeGraceMs: cfg.closeGraceMs,
  });
} catch (err) {
  const e = err as NodeJS.ErrnoException;
  await tell({ t: 'failed', code: e.code ?? 'ERROR', message: e.message });
  process.exit(1);
}
void tell({ t: 'listening', host: server.host, port: server.port });
