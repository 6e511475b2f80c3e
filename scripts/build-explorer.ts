// Builds the log browser (src/explorer) into dist/explorer/: one minified
// ESM script and one stylesheet with content-hashed names (served as
// immutable), a favicon, and index.html pointing at them. Part of
// `npm run build`, so `npm start` serves a fresh copy.
//
//   node --import tsx scripts/build-explorer.ts [outDir]
//
// Nothing here fetches anything: esbuild bundles only files of this repo
// and node_modules, and the page loads only its own assets.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const REPO = fileURLToPath(new URL('../', import.meta.url));
const SRC = path.join(REPO, 'src/explorer');
export const DEFAULT_OUT_DIR = path.join(REPO, 'dist/explorer');

export interface BuiltFile {
  /** File name inside outDir. */
  name: string;
  bytes: number;
  gzipBytes: number;
}

export interface ExplorerBuild {
  outDir: string;
  files: BuiltFile[];
}

// A small icon of our own, so the browser's favicon request finds a file.
const FAVICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#1d4e89"/><path d="M4 12V4h8" stroke="#fff" stroke-width="2" fill="none"/></svg>\n`;

/** Bundles the explorer into outDir (emptied first) and returns the files written. */
export async function buildExplorer(outDir: string = DEFAULT_OUT_DIR): Promise<ExplorerBuild> {
  const result = await build({
    entryPoints: { app: path.join(SRC, 'main.ts'), style: path.join(SRC, 'style.css') },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    entryNames: '[name]-[hash]',
    outdir: outDir,
    write: false,
    logLevel: 'silent',
    tsconfig: path.join(SRC, 'tsconfig.json'),
  });
  const out = new Map<string, Uint8Array>();
  for (const f of result.outputFiles) out.set(path.basename(f.path), f.contents);
  const script = [...out.keys()].find((n) => n.startsWith('app-') && n.endsWith('.js'));
  const style = [...out.keys()].find((n) => n.startsWith('style-') && n.endsWith('.css'));
  if (script === undefined || style === undefined) throw new Error(`build-explorer: esbuild wrote ${[...out.keys()].join(', ')}`);
  const page = fs
    .readFileSync(path.join(SRC, 'page.html'), 'utf8')
    .replace('{{script}}', `/explorer/${script}`)
    .replace('{{style}}', `/explorer/${style}`);
  out.set('index.html', new TextEncoder().encode(page));
  out.set('favicon.svg', new TextEncoder().encode(FAVICON));

  // Old hashed files would pile up; the directory belongs to this build alone.
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(outDir, { recursive: true });
  const files: BuiltFile[] = [];
  for (const [name, data] of out) {
    fs.writeFileSync(path.join(outDir, name), data);
    files.push({ name, bytes: data.length, gzipBytes: gzipSync(data).length });
  }
  return { outDir, files };
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const built = await buildExplorer(process.argv[2] === undefined ? DEFAULT_OUT_DIR : path.resolve(process.argv[2]));
  const total = built.files.reduce((a, f) => ({ bytes: a.bytes + f.bytes, gzip: a.gzip + f.gzipBytes }), { bytes: 0, gzip: 0 });
  process.stderr.write(
    `explorer: ${built.files.map((f) => `${f.name} ${f.bytes} B (${f.gzipBytes} B gzip)`).join(', ')}; ` +
      `total ${total.bytes} B, ${total.gzip} B gzip, in ${path.relative(process.cwd(), built.outDir) || '.'}\n`,
  );
}
