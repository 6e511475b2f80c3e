// `npm start`: `tilelog serve` from dist/, building first only when dist/ is
// missing or older than the sources (build-freshness.mjs), so a fresh
// `npm ci && npm start` builds once (in `prepare`), not twice.
// Arguments after `npm start --` go to serve.

import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildIsStale } from './build-freshness.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
if (buildIsStale(root)) {
  process.stderr.write('npm start: building (dist/ is missing or older than the sources)...\n');
  const npm = process.env.npm_execpath;
  const r = npm !== undefined && npm !== ''
    ? spawnSync(process.execPath, [npm, 'run', '-s', 'build'], { cwd: root, stdio: 'inherit' })
    : spawnSync('npm', ['run', '-s', 'build'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
// Run the CLI in this process, so Ctrl-C and SIGTERM reach serve directly.
const main = path.join(root, 'dist/cli/main.js');
process.argv = [process.argv[0], main, 'serve', ...process.argv.slice(2)];
await import(pathToFileURL(main).href);
