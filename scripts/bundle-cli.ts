// Bundles the CLI (src/cli/main.ts, read-worker.ts and storage/sqlite-worker.ts,
// with everything they import, npm packages included) into dist/cli/main.js,
// read-worker.js and sqlite-worker.js,
// over tsc's copies. Part of `npm run build`, after tsc.
//
//   node --import tsx scripts/bundle-cli.ts
//
// Why: a restart of `tilelog serve` spent most of its CPU in Node loading
// about 280 ES modules one by one (resolving, reading and compiling each;
// zod alone is 95 files): ~1.1 s of CPU to /readyz on an empty log, ~0.65 s
// from the bundle (measured in the same run, bench/scale.bench.ts restart CPU).
//
// Layout: every output file sits in dist/cli, the depth of tsc's output, so
// the sources' import.meta.url-relative paths hold (serve.ts finds
// ../explorer/, serve-workers.ts finds read-worker.js beside it, version.ts
// and the OpenAPI document walk up to package.json). Splitting keeps each verb
// in its own chunk (`bundle-<name>-<hash>.js`): a verb loads only its code,
// and serve loads the registry and the CA only with --registry, as before.
// Old chunks are removed first, so they do not pile up.
// The library entry points (dist/log, dist/merkle, ...) stay tsc's
// unbundled modules.
//
// External (loaded from node_modules at run time, as before): native addons
// (better-sqlite3 and pkcs11js find their .node files relative to their own
// package) and the optional packages loaded only for some flags (pg for
// --db, the AWS SDK for --tiles s3://), which are not always installed.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const REPO = fileURLToPath(new URL('../', import.meta.url));
const OUT_DIR = path.join(REPO, 'dist/cli');
const CHUNK_PREFIX = 'bundle-';
export const EXTERNAL = ['better-sqlite3', 'pkcs11js', 'pg', 'pg-native', '@aws-sdk/*'];

/** Bundles the CLI into outDir (dist/cli; a test bundles elsewhere); returns the bytes written per file. */
export async function bundleCli(outDir = OUT_DIR): Promise<Map<string, number>> {
  fs.mkdirSync(outDir, { recursive: true });
  for (const name of fs.readdirSync(outDir)) {
    if (name.startsWith(CHUNK_PREFIX)) fs.rmSync(path.join(outDir, name));
  }
  const result = await build({
    absWorkingDir: REPO,
    // sqlite-worker.ts: the thread that holds the SQLite state, found beside the chunk that starts it (sqlite-worker-store.ts).
    entryPoints: [path.join(REPO, 'src/cli/main.ts'), path.join(REPO, 'src/cli/read-worker.ts'), path.join(REPO, 'src/storage/sqlite-worker.ts')],
    outdir: outDir,
    entryNames: '[name]',
    chunkNames: `${CHUNK_PREFIX}[name]-[hash]`,
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: EXTERNAL,
    // CommonJS packages (pino, prom-client, better-sqlite3's wrapper) call
    // require(); an ES module has none, so give each output file one.
    banner: { js: "import { createRequire as __tilelogCreateRequire } from 'node:module'; const require = __tilelogCreateRequire(import.meta.url);" },
    tsconfig: path.join(REPO, 'tsconfig.build.json'),
    metafile: true,
    logLevel: 'warning',
  });
  const sizes = new Map<string, number>();
  for (const [file, out] of Object.entries(result.metafile.outputs)) sizes.set(path.relative(REPO, path.resolve(REPO, file)), out.bytes);
  return sizes;
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const sizes = await bundleCli();
  const total = [...sizes.values()].reduce((a, b) => a + b, 0);
  process.stderr.write(`cli bundle: ${sizes.size} files, ${(total / 1024).toFixed(0)} KiB in dist/cli (main.js ${((sizes.get('dist/cli/main.js') ?? 0) / 1024).toFixed(0)} KiB)\n`);
}
