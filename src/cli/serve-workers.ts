// serve --read-workers N: the log's process becomes a node:cluster primary.
// It keeps the engine and the full app, listening only on a private unix
// socket (mode 0600, in the state directory); N worker processes
// (read-worker.ts) listen on the public address, answer /checkpoint and
// /tile/... themselves and forward everything else to that socket. Node 20
// has no SO_REUSEPORT option, so the port is shared through the cluster:
// with SCHED_RR the primary accepts each connection and hands it to the
// workers in turn. It is on a connection's path once, at accept, never per
// request; SCHED_NONE (each worker accepting for itself) left one worker with
// most of a burst of connections and halved the throughput under load.
//
// Freshness: the primary sends each newly published checkpoint to every
// worker from the publication event itself, which fires after the
// checkpoint (and, before it, every tile it covers) is in the tiles
// directory and before any add waiting for it is answered; a worker never
// serves a checkpoint whose tiles are missing, and the message is on its way
// before the acknowledgement that names it. Same-size changes (new witness
// cosignatures) are sent within CHECKPOINT_POLL_MS.
//
// A worker that dies is replaced (after a pause that grows while replacements
// die young). close() drains: each worker stops accepting and finishes its
// requests (forwarded ones still reach the primary, whose socket is closed
// last), then exits.

import cluster, { type Worker } from 'node:cluster';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RequestListener } from 'node:http';
import type { Logger } from 'pino';
import { acceptForwarded } from '../http/forwarded-for.js';
import { startListener, type RunningServer } from '../http/server.js';
import type { LogObserver } from '../log/index.js';
import type { PublishedCheckpointLike } from '../http/log-api.js';
import { isFromWorker, READ_WORKER_ENV, type ReadWorkerConfig, type ToWorker } from './read-worker-protocol.js';

/** Same-size checkpoint changes (cosignatures) reach the workers this soon. */
const CHECKPOINT_POLL_MS = 250;
/** Longest a worker may take to start listening. */
const START_TIMEOUT_MS = 30_000;
/** A unix socket path must fit sun_path (108 bytes on Linux, with its NUL). */
const MAX_SOCKET_PATH = 100;
const CLOSE_GRACE_MS = 5_000;

export interface ReadWorkersOptions {
  count: number;
  host: string;
  port: number;
  tilesDir: string;
  stateDir: string;
  logLevel: string;
  /** Per worker (default 64 MiB). */
  cacheBytes?: number;
}

/** What the primary needs of the log: its checkpoint and the publication events. */
export interface PublishingLog {
  checkpoint(): PublishedCheckpointLike;
  observe(o: LogObserver): () => void;
}

// The worker's entry beside this file: read-worker.js when built or bundled,
// read-worker.ts when run from source through tsx.
function workerEntry(): string {
  const self = fileURLToPath(import.meta.url);
  return path.join(path.dirname(self), `read-worker${path.extname(self)}`);
}

/** The private socket's path: in the state directory if it fits, else in a fresh 0700 directory under the temp dir. */
function privateSocketPath(stateDir: string): { socketPath: string; tempDir: string | null } {
  const inState = path.join(stateDir, 'http.sock');
  if (Buffer.byteLength(inState) <= MAX_SOCKET_PATH) return { socketPath: inState, tempDir: null };
  const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tilelog-'));
  return { socketPath: path.join(tempDir, 'http.sock'), tempDir };
}

/** Removes a socket left by a killed run (the state lock says none is live); refuses to touch anything else. */
function removeStaleSocket(socketPath: string): void {
  let st;
  try {
    st = fs.lstatSync(socketPath);
  } catch {
    return;
  }
  if (!st.isSocket()) throw new Error(`${socketPath} exists and is not a socket; remove it and start again`);
  fs.unlinkSync(socketPath);
}

/** app: the log process's listener (logRequestListener), which answers what the workers forward. */
export async function startReadWorkers(app: RequestListener, log: PublishingLog, o: ReadWorkersOptions, logger: Logger): Promise<RunningServer> {
  const { socketPath, tempDir } = privateSocketPath(o.stateDir);
  removeStaleSocket(socketPath);
  // A worker closes its connection only to abandon a request (its client left): that must abort the request here.
  const upstream = await startListener(acceptForwarded(app), {
    socketPath,
    host: o.host,
    answerAfterHalfClose: false,
  });
  fs.chmodSync(socketPath, 0o600);

  const cfg: ReadWorkerConfig = {
    tilesDir: o.tilesDir,
    socketPath,
    host: o.host,
    port: o.port,
    logLevel: o.logLevel,
    cacheBytes: o.cacheBytes ?? 64 * 1024 * 1024,
    closeGraceMs: CLOSE_GRACE_MS,
  };
  cluster.schedulingPolicy = cluster.SCHED_RR;
  cluster.setupPrimary({ exec: workerEntry(), args: [], silent: false });

  const workers = new Set<Worker>();
  let closing = false;
  let bound: { host: string; port: number } | null = null;
  let sent: PublishedCheckpointLike | null = null;
  const message = (cp: PublishedCheckpointLike): ToWorker => ({ t: 'checkpoint', size: cp.size, root: Buffer.from(cp.root).toString('base64'), text: cp.text });
  const broadcast = (): void => {
    const cp = log.checkpoint();
    if (cp.text === sent?.text) return;
    sent = cp;
    const m = message(cp);
    for (const w of workers) if (w.isConnected()) w.send(m);
  };
  const unobserve = log.observe({ checkpointPublished: broadcast });
  const poll = setInterval(broadcast, CHECKPOINT_POLL_MS);
  poll.unref();

  let startFailed: (err: Error) => void = () => {};
  let started: () => void = () => {};
  const allListening = new Promise<void>((resolve, reject) => {
    started = resolve;
    startFailed = reject;
  });
  let listening = 0;
  let restartDelayMs = 0;

  const fork = (): void => {
    // After the first worker bound the port, the others take that port (port 0 would otherwise draw a new one once all had died).
    const env = { [READ_WORKER_ENV]: JSON.stringify(bound === null ? cfg : { ...cfg, port: bound.port }) };
    const w = cluster.fork(env);
    const bornAt = Date.now();
    workers.add(w);
    w.on('message', (m: unknown) => {
      if (!isFromWorker(m)) return;
      if (m.t === 'hello') w.send(message(log.checkpoint()));
      else if (m.t === 'listening') {
        bound ??= { host: m.host, port: m.port };
        if (++listening === o.count) started();
      } else {
        const err = Object.assign(new Error(`read worker: cannot listen on ${o.host}:${o.port}: ${m.message}`), { code: m.code });
        startFailed(err);
      }
    });
    w.on('exit', (code, signal) => {
      workers.delete(w);
      if (closing) return;
      if (bound === null) {
        startFailed(new Error(`read worker ${w.process.pid} exited (${signal ?? `code ${code}`}) before listening`));
        return;
      }
      // A replacement that dies young waits longer each time (up to 5 s): a crash loop must not spin.
      restartDelayMs = Date.now() - bornAt < 5_000 ? Math.min(Math.max(restartDelayMs * 2, 100), 5_000) : 0;
      logger.warn(`read worker ${w.process.pid} exited (${signal ?? `code ${code}`}); starting a new one${restartDelayMs > 0 ? ` in ${restartDelayMs} ms` : ''}`);
      setTimeout(() => {
        if (!closing) fork();
      }, restartDelayMs).unref();
    });
  };

  const close = async (): Promise<void> => {
    closing = true;
    clearInterval(poll);
    unobserve();
    await Promise.all(
      [...workers].map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.isDead()) return resolve();
            const kill = setTimeout(() => w.process.kill('SIGKILL'), CLOSE_GRACE_MS + 2_000);
            w.once('exit', () => {
              clearTimeout(kill);
              resolve();
            });
            if (w.isConnected()) w.send({ t: 'drain' } satisfies ToWorker);
            else w.process.kill('SIGTERM');
          }),
      ),
    );
    await upstream.close();
    fs.rmSync(tempDir ?? socketPath, { recursive: true, force: true });
  };

  for (let i = 0; i < o.count; i++) fork();
  const timeout = setTimeout(() => startFailed(new Error(`read workers did not start listening within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
  try {
    await allListening;
  } catch (err) {
    await close();
    throw err;
  } finally {
    clearTimeout(timeout);
  }
  const b = bound!;
  const shownHost = b.host.includes(':') ? `[${b.host}]` : b.host;
  logger.info(`${o.count} read workers serve /checkpoint and /tile/ on ${shownHost}:${b.port}; everything else goes to this process at ${socketPath}`);
  return { url: `http://${shownHost}:${b.port}`, host: b.host, port: b.port, close };
}
