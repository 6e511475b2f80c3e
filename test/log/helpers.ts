import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSignerKey, parseSignerKey } from '../../src/note/keys.js';
import type { LogLogger } from '../../src/log/options.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const vectorsDir = path.resolve(repoRoot, 'test/golden');

export const ORIGIN = 'test.tilelog.example/log';
const seed = new Uint8Array(32).fill(7);
export const testKey = generateSignerKey(ORIGIN, seed);
export const testSigner = parseSignerKey(testKey.signerKey);

export const quietLogger: LogLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

export function tempDir(prefix = 'tilelog-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Bytes of every file under dir (apparent sizes). */
export function treeBytes(dir: string): number {
  let total = 0;
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const st = statSync(path.join(dir, name));
    if (st.isFile()) total += st.size;
  }
  return total;
}
