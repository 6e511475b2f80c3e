// Whether dist/ holds a build of the current sources: every output is newer
// than every input. `npm ci` builds once (the `prepare` script); `npm start`
// then serves that build instead of building it a second time, and rebuilds
// only after a source changed. The explorer's index.html is written last by
// `npm run build`, so a build that failed halfway leaves dist/ stale.

import * as fs from 'node:fs';
import * as path from 'node:path';

// Every file the bundled CLI loads at run time beside main.js (scripts/bundle-cli.ts) counts: a dist/ from before one existed is stale.
export const BUILD_OUTPUTS = ['dist/cli/main.js', 'dist/cli/read-worker.js', 'dist/cli/sqlite-worker.js', 'dist/explorer/index.html'];
export const BUILD_INPUTS = ['src', 'scripts/build-explorer.ts', 'scripts/bundle-cli.ts', 'tsconfig.json', 'tsconfig.build.json', 'package.json'];

/** The newest mtime (ms) of a file or of any file below a directory; -Infinity when absent. */
function newestMtimeMs(p) {
  let st;
  try {
    st = fs.statSync(p);
  } catch (err) {
    if (err.code === 'ENOENT') return -Infinity;
    throw err;
  }
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs; // a deleted source changes its directory's mtime
  for (const name of fs.readdirSync(p)) newest = Math.max(newest, newestMtimeMs(path.join(p, name)));
  return newest;
}

/** True when an output is missing or older than an input (under root). */
export function buildIsStale(root) {
  let oldestOutput = Infinity;
  for (const o of BUILD_OUTPUTS) {
    const t = newestMtimeMs(path.join(root, o));
    if (t === -Infinity) return true;
    oldestOutput = Math.min(oldestOutput, t);
  }
  return BUILD_INPUTS.some((i) => newestMtimeMs(path.join(root, i)) > oldestOutput);
}
