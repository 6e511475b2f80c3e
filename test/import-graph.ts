// Walks the static import graph of src/ from an entry file, for the tests
// that keep browser-safe entry points (tilelog/client, tilelog/registry)
// free of Node built-ins and server code.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const SRC = fileURLToPath(new URL('../src/', import.meta.url));

/** The only packages a browser-safe module may import. */
export const BROWSER_SAFE_PACKAGES = [/^@noble\//, /^cbor-x$/];

const IMPORT_RE = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g;

/** Every source file reached from entry, and each bare specifier with a file that imports it. */
export function walkImports(entry: string): { files: Set<string>; bare: Map<string, string> } {
  const files = new Set<string>();
  const bare = new Map<string, string>();
  const todo = [entry];
  while (todo.length > 0) {
    const f = todo.pop()!;
    if (files.has(f)) continue;
    files.add(f);
    for (const m of fs.readFileSync(f, 'utf8').matchAll(IMPORT_RE)) {
      const s = (m[1] ?? m[2] ?? m[3])!;
      if (s.startsWith('.')) todo.push(path.resolve(path.dirname(f), s).replace(/\.js$/, '.ts'));
      else bare.set(s, path.relative(SRC, f));
    }
  }
  return { files, bare };
}

/**
 * Node-only globals (Buffer, process, require, __dirname, __filename) used in
 * the code of files, comments and strings aside: "<file>: <name>" per use.
 */
export function nodeGlobalsUsed(files: Iterable<string>): string[] {
  const found: string[] = [];
  for (const f of files) {
    const code = fs
      .readFileSync(f, 'utf8')
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/(^|[^:])\/\/.*$/gm, '$1')
      .replace(/'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|`(?:[^`\\]|\\.)*`/g, "''");
    for (const m of code.matchAll(/(?<![.\w$])(Buffer|process|require|__dirname|__filename)\b/g)) found.push(`${path.relative(SRC, f)}: ${m[1]}`);
  }
  return [...new Set(found)];
}
