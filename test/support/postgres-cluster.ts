// A private PostgreSQL for the tests: initdb into a temporary directory and
// pg_ctl start on a free port of 127.0.0.1, unix socket in the same directory,
// fsync on (the kill tests mean something). Never the machine's own cluster.
//
// - sharedCluster(): one cluster per vitest run. The first worker that needs
//   it starts it under a lock (mkdir) in the run directory that
//   postgres-global-setup.ts created; the others wait for its cluster.json;
//   the global teardown stops it. Outside vitest (a bench), a cluster per
//   process, stopped at exit. TILELOG_TEST_PG=postgres://... uses that
//   server instead (no restarts then).
// - privateCluster(): a cluster of one's own (tests that restart the server;
//   `npm run pg-test-server`, pg-server-main.ts, on a port of the caller's).
// - freshDatabase(cluster): a new, empty database per test file.
// - describePg() (postgres.ts): the suite, or, when PostgreSQL is missing,
//   a FAILING test under CI (process.env.CI) and a visible skip elsewhere.
//
// As root (CI, this machine) initdb refuses to run, so the server runs as the
// `postgres` user (runuser), in directories it owns. Binaries: TILELOG_PG_BIN,
// else the newest /usr/lib/postgresql/*/bin, else initdb on the PATH.

import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from './free-port.js';

export interface PgCluster {
  /** A URL of database db (default postgres) as the superuser tilelog. */
  url(db?: string): string;
  readonly port: number;
  /** The data directory; null for an external server (TILELOG_TEST_PG). */
  readonly dataDir: string | null;
  /** pg_ctl restart with the given shutdown mode (immediate: a crash). */
  restart(mode: 'fast' | 'immediate'): void;
  stop(): void;
}

/** Where the run's shared cluster lives (set by postgres-global-setup.ts). */
export const RUN_DIR_ENV = 'TILELOG_TEST_PG_RUN';

// pgBin(): the directory holding initdb and pg_ctl, or null.
export function pgBin(): string | null {
  const given = process.env.TILELOG_PG_BIN;
  if (given !== undefined && given !== '') return fs.existsSync(path.join(given, 'initdb')) ? given : null;
  try {
    const versions = fs
      .readdirSync('/usr/lib/postgresql')
      .filter((v) => fs.existsSync(path.join('/usr/lib/postgresql', v, 'bin', 'initdb')))
      .sort((a, b) => Number(a) - Number(b));
    if (versions.length > 0) return path.join('/usr/lib/postgresql', versions[versions.length - 1]!, 'bin');
  } catch {
    // no Debian layout
  }
  const which = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' });
  const found = which.stdout.trim();
  return which.status === 0 && found !== '' ? path.dirname(fs.realpathSync(found)) : null;
}

/** Why PostgreSQL tests cannot run here, or null when they can. */
export function pgUnavailable(): string | null {
  if (process.env.TILELOG_TEST_PG) return null;
  const local = localPgUnavailable();
  return local === null ? null : `${local}; or set TILELOG_TEST_PG to a running server's URL`;
}

/** Why a cluster cannot be started on this machine (TILELOG_TEST_PG aside), or null when it can. */
export function localPgUnavailable(): string | null {
  if (pgBin() === null) {
    return 'PostgreSQL is not installed (no initdb/pg_ctl: apt-get install postgresql, or set TILELOG_PG_BIN to the directory holding them)';
  }
  if (isRoot() && spawnSync('id', ['-u', 'postgres']).status !== 0) {
    return 'running as root and there is no postgres user to run the server as (install the postgresql package)';
  }
  return null;
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

// asServerUser(cmd, args): run a PostgreSQL program, as `postgres` when we are root.
function asServerUser(cmd: string, args: string[], cwd: string): void {
  const [file, argv] = isRoot() ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  execFileSync(file, argv, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
}

function giveToServerUser(dir: string): void {
  if (isRoot()) execFileSync('chown', ['-R', 'postgres:postgres', dir]);
}


interface ClusterInfo {
  port: number;
  dataDir: string;
  socketDir: string;
  logFile: string;
  bin: string;
}

function clusterOf(info: ClusterInfo): PgCluster {
  const ctl = (args: string[]): void => asServerUser(path.join(info.bin, 'pg_ctl'), ['-D', info.dataDir, ...args], path.dirname(info.dataDir));
  const options = `-p ${info.port} -k ${info.socketDir} -c listen_addresses=127.0.0.1 -c fsync=on -c synchronous_commit=on -c max_connections=200`;
  return {
    port: info.port,
    dataDir: info.dataDir,
    url: (db = 'postgres') => `postgres://tilelog@127.0.0.1:${info.port}/${db}`,
    restart: (mode) => ctl(['-l', info.logFile, '-w', '-t', '60', '-m', mode, '-o', options, 'restart']),
    stop: () => {
      try {
        ctl(['-m', 'fast', '-w', '-t', '30', 'stop']);
      } catch {
        // already stopped
      }
    },
  };
}

// startCluster(dir, port): initdb and start a cluster in dir (created, given
// to the server user). Port 0: a free one, retried on another if it was taken
// meanwhile; any other port is tried once.
async function startCluster(dir: string, port = 0): Promise<ClusterInfo> {
  const bin = pgBin();
  if (bin === null) throw new Error(pgUnavailable() ?? 'no PostgreSQL');
  fs.mkdirSync(dir, { recursive: true });
  const info: ClusterInfo = { port: 0, dataDir: path.join(dir, 'data'), socketDir: path.join(dir, 'sock'), logFile: path.join(dir, 'server.log'), bin };
  fs.mkdirSync(info.socketDir, { recursive: true });
  giveToServerUser(dir);
  // --no-sync only skips initdb's own fsync; the server runs with fsync=on.
  asServerUser(path.join(bin, 'initdb'), ['-D', info.dataDir, '-A', 'trust', '-U', 'tilelog', '--no-sync', '-E', 'UTF8', '--locale=C'], dir);
  let lastError: unknown;
  for (let attempt = 0; attempt < (port === 0 ? 3 : 1); attempt++) {
    info.port = port === 0 ? await freePort() : port;
    const cluster = clusterOf(info);
    try {
      const options = `-p ${info.port} -k ${info.socketDir} -c listen_addresses=127.0.0.1 -c fsync=on -c synchronous_commit=on -c max_connections=200`;
      asServerUser(path.join(bin, 'pg_ctl'), ['-D', info.dataDir, '-l', info.logFile, '-w', '-t', '60', '-o', options, 'start'], dir);
      return info;
    } catch (err) {
      lastError = err;
      cluster.stop();
    }
  }
  const log = fs.existsSync(info.logFile) ? fs.readFileSync(info.logFile, 'utf8').slice(-2000) : '';
  throw new Error(`could not start PostgreSQL in ${dir}: ${String(lastError)}\n${log}`);
}

/**
 * A cluster of one's own in a new directory under os.tmpdir(), on 127.0.0.1:port
 * (0: a free port), stopped (and its directory removed) by stop() or at process exit.
 */
export async function privateCluster(port = 0): Promise<PgCluster> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tilelog-pg-'));
  fs.chmodSync(dir, 0o755);
  let info: ClusterInfo;
  try {
    info = await startCluster(dir, port);
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const cluster = clusterOf(info);
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    cluster.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', stop);
  return { ...cluster, stop };
}

let shared: Promise<PgCluster> | undefined;

/** The run's shared cluster (see the header). */
export function sharedCluster(): Promise<PgCluster> {
  shared ??= openShared();
  return shared;
}

async function openShared(): Promise<PgCluster> {
  const external = process.env.TILELOG_TEST_PG;
  if (external) {
    const url = new URL(external);
    return {
      port: Number(url.port || 5432),
      dataDir: null,
      url: (db = 'postgres') => Object.assign(new URL(external), { pathname: `/${db}` }).toString(),
      restart: () => {
        throw new Error('TILELOG_TEST_PG: an external server cannot be restarted by the tests');
      },
      stop: () => undefined,
    };
  }
  const runDir = process.env[RUN_DIR_ENV];
  if (runDir === undefined || !fs.existsSync(runDir)) return privateCluster();
  const infoFile = path.join(runDir, 'cluster.json');
  const errorFile = path.join(runDir, 'error.txt');
  let mine = false;
  try {
    fs.mkdirSync(path.join(runDir, 'lock'));
    mine = true;
  } catch {
    // another worker starts it
  }
  if (mine) {
    try {
      const info = await startCluster(path.join(runDir, 'pg'));
      fs.writeFileSync(infoFile + '.tmp', JSON.stringify(info));
      fs.renameSync(infoFile + '.tmp', infoFile);
    } catch (err) {
      fs.writeFileSync(errorFile, String(err));
      throw err;
    }
  }
  const until = Date.now() + 120_000;
  while (!fs.existsSync(infoFile)) {
    if (fs.existsSync(errorFile)) throw new Error(`the shared PostgreSQL did not start: ${fs.readFileSync(errorFile, 'utf8')}`);
    if (Date.now() > until) throw new Error('the shared PostgreSQL did not start within 120 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  const cluster = clusterOf(JSON.parse(fs.readFileSync(infoFile, 'utf8')) as ClusterInfo);
  // Shared: other files use it; only the global teardown stops it.
  return { ...cluster, stop: () => undefined, restart: () => {
    throw new Error('the shared cluster cannot be restarted (other test files use it); use privateCluster()');
  } };
}

/** Stops the run's shared cluster, if one was started (global teardown). */
export function stopSharedCluster(runDir: string): void {
  const infoFile = path.join(runDir, 'cluster.json');
  if (fs.existsSync(infoFile)) clusterOf(JSON.parse(fs.readFileSync(infoFile, 'utf8')) as ClusterInfo).stop();
  fs.rmSync(runDir, { recursive: true, force: true });
}

let databases = 0;

/** A new empty database on cluster; returns its URL. */
export async function freshDatabase(cluster: PgCluster, prefix = 't'): Promise<string> {
  const { default: pg } = await import('pg');
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}_${databases++}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  const admin = new pg.Client({ connectionString: cluster.url('postgres') });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return cluster.url(name);
}
