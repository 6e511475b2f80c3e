// A throw-away PostgreSQL for trying `tilelog serve --db` (the README's
// "Several frontends on PostgreSQL"), from the machine's own binaries
// (Debian's `postgresql` package):
//   npm run pg-test-server -- [--port N] [--database NAME]
// initdb into a new directory under the temporary directory, start the server
// on 127.0.0.1:N (default: a free port; as root, as the `postgres` user, like
// the tests: postgres-cluster.ts), create the database (default "tilelog"),
// and print one JSON line on stdout once it takes connections:
//   {"url":"postgres://tilelog@127.0.0.1:N/tilelog","pid":...,"dataDir":"..."}
// Ctrl-C, SIGTERM or, when stdin is a pipe from a parent, its end: stop the
// server and delete the directory. Any local user connects as the superuser
// "tilelog" without a password (trust), and nothing outlives the process:
// for trying tilelog out and for its tests, never for data you keep.

import { fstatSync, readFileSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { localPgUnavailable, privateCluster } from './postgres-cluster.js';

const USAGE = 'usage: npm run pg-test-server -- [--port N] [--database NAME]';

function fail(message: string, code: number): never {
  process.stderr.write(`pg-test-server: ${message}\n`);
  process.exit(code);
}

function options(): { port: number; database: string } {
  let values;
  try {
    values = parseArgs({ options: { port: { type: 'string', default: '0' }, database: { type: 'string', default: 'tilelog' } } }).values;
  } catch (err) {
    fail(`${(err as Error).message}\n${USAGE}`, 2);
  }
  const port = /^\d{1,5}$/.test(values.port) ? Number(values.port) : NaN;
  if (!(port >= 0 && port <= 65535)) fail(`--port must be a port number (0: a free one), got ${JSON.stringify(values.port)}\n${USAGE}`, 2);
  // A plain identifier: it goes into CREATE DATABASE unquoted.
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(values.database)) fail(`--database must match [a-z_][a-z0-9_]* (at most 63 characters), got ${JSON.stringify(values.database)}`, 2);
  return { port, database: values.database };
}

// portFree(port): whether 127.0.0.1:port can be bound now (checked before
// initdb, so a taken port costs nothing and gets a clear message).
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

const { port, database } = options();
const missing = localPgUnavailable();
if (missing !== null) {
  fail(`${missing}.\nOn Debian or Ubuntu: sudo apt-get install postgresql (this script starts a server of its own; it does not use the package's)`, 1);
}
if (port !== 0 && !(await portFree(port))) fail(`127.0.0.1:${port} is in use; choose another --port (or --port 0 for a free one)`, 1);

let cluster;
try {
  cluster = await privateCluster(port);
} catch (err) {
  fail((err as Error).message, 1);
}
const { default: pg } = await import('pg');
const admin = new pg.Client({ connectionString: cluster.url('postgres') });
try {
  await admin.connect();
  if (database !== 'postgres') await admin.query(`CREATE DATABASE ${database}`);
} catch (err) {
  cluster.stop();
  fail(`PostgreSQL started but creating the database ${database} failed: ${(err as Error).message}`, 1);
} finally {
  await admin.end().catch(() => undefined);
}

const url = cluster.url(database);
process.stdout.write(`${JSON.stringify({ url, pid: process.pid, dataDir: cluster.dataDir })}\n`);
process.stderr.write(`PostgreSQL on 127.0.0.1:${cluster.port}, data in ${cluster.dataDir}\n  ${url}\nCtrl-C stops it and deletes the data.\n`);

// cluster.stop() is synchronous (pg_ctl stop, then the directory goes), so a
// second signal meanwhile waits until it is done.
const stop = (): void => {
  cluster.stop();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('SIGHUP', stop);
// A server that died by itself (killed, out of disk) ends this process too,
// with the reason, rather than leaving a URL that no longer answers.
const postmaster = Number(readFileSync(path.join(cluster.dataDir!, 'postmaster.pid'), 'utf8').split('\n')[0]);
setInterval(() => {
  try {
    process.kill(postmaster, 0);
  } catch {
    let log = '';
    try {
      log = readFileSync(path.join(path.dirname(cluster.dataDir!), 'server.log'), 'utf8').slice(-2000);
    } catch {
      // no log to show
    }
    process.stderr.write(`pg-test-server: PostgreSQL (pid ${postmaster}) stopped by itself; the end of its log:\n${log}`);
    cluster.stop();
    process.exit(1);
  }
}, 1000).unref();
const stdin = fstatSync(0);
if (stdin.isFIFO() || stdin.isSocket()) {
  process.stdin.on('end', stop);
  process.stdin.resume();
} else {
  // Nothing else keeps the event loop alive: the server runs as its own process.
  setInterval(() => undefined, 1 << 30);
}
