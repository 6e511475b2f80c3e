// vitest globalSetup: a run directory for the shared PostgreSQL cluster. The
// cluster itself starts lazily, in the first worker that needs it
// (postgres-cluster.ts sharedCluster), so a run without PostgreSQL tests pays nothing.
// Teardown stops it and removes the directory.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RUN_DIR_ENV, stopSharedCluster } from './postgres-cluster.js';

export default function setup(): () => void {
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tilelog-pgrun-'));
  // The server user must reach runDir/pg.
  fs.chmodSync(runDir, 0o755);
  process.env[RUN_DIR_ENV] = runDir;
  return () => stopSharedCluster(runDir);
}
