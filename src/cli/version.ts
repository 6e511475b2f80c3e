// The package version for `tilelog --version`. The CLI runs from different
// depths (src/cli, dist/cli, a test bundle three levels down), so the
// package.json is found by walking up rather than by a fixed relative path.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The version of the nearest package.json named "tilelog" at or above `fromDir`; undefined when there is none. */
export function packageVersion(fromDir: string = path.dirname(fileURLToPath(import.meta.url))): string | undefined {
  for (let dir = path.resolve(fromDir); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'package.json');
    try {
      const pkg = JSON.parse(fs.readFileSync(candidate, 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'tilelog' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // absent or not JSON: keep walking up
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}
