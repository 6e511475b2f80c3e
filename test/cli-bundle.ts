// Where test/global-setup.ts puts the bundled CLI that tests start as a
// child process (`node <CLI_BUNDLE> <verb> ...`).

import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Three levels below the root, like src/http/openapi/document.ts (see global-setup.ts). */
export const CLI_BUNDLE = path.join(REPO_ROOT, 'test-artifacts', 'cli', 'bundle', 'main.js');
