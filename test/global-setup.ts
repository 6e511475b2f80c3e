// Runs once before the suite: bundles the CLI (src/cli/main.ts and everything
// it imports from src/) into one ES module with esbuild, so each of the many
// CLI child processes the tests start loads plain JavaScript instead of going
// through tsx's loader hooks file by file. npm packages stay external: the bundle runs
// on the installed node_modules exactly as the built CLI does.
//
// The bundle sits three directories below the repository root, like
// src/http/openapi/document.ts, so the source's import.meta.url-relative
// reads (../../../package.json) resolve to the same files.

import { build } from 'esbuild';
import { CLI_BUNDLE, REPO_ROOT } from './cli-bundle.js';
import * as fs from 'node:fs';
import * as path from 'node:path';

export default async function setup(): Promise<void> {
  fs.rmSync(path.dirname(CLI_BUNDLE), { recursive: true, force: true });
  await build({
    absWorkingDir: REPO_ROOT,
    // read-worker.ts: the process serve --read-workers starts beside main.js (serve-workers.ts);
    // sqlite-worker.ts: the thread that holds the SQLite state, also beside it (sqlite-worker-store.ts).
    entryPoints: [
      { in: path.join(REPO_ROOT, 'src/cli/main.ts'), out: 'main' },
      { in: path.join(REPO_ROOT, 'src/cli/read-worker.ts'), out: 'read-worker' },
      { in: path.join(REPO_ROOT, 'src/storage/sqlite-worker.ts'), out: 'sqlite-worker' },
    ],
    outdir: path.dirname(CLI_BUNDLE),
    bundle: true,
    // One chunk per verb: a child loads only the verb it runs and the npm
    // packages that verb imports (a --help costs ~0.13 s of CPU, not ~1 s).
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: true, // a .map beside it, for node --enable-source-maps
    logLevel: 'warning',
  });
}
