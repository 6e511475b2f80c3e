// Where the audit reads a log from: a base URL (any tlog-tiles server or
// static host) or a local directory laid out the same way (e.g. tiles/).
// Both answer null for an absent object.

import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { getBytes } from './client.js';

export interface TileSource {
  /** Human-readable location. */
  readonly where: string;
  /** Reads `checkpoint` or `tile/...`; null when absent. */
  read(objectPath: string): Promise<Uint8Array | null>;
}

export function urlSource(baseUrl: string): TileSource {
  const base = baseUrl.replace(/\/+$/, '');
  return {
    where: base,
    read: (p) => getBytes(`${base}/${p}`),
  };
}

export function dirSource(dir: string): TileSource {
  const root = path.resolve(dir);
  return {
    where: root,
    async read(p) {
      try {
        return new Uint8Array(await fs.readFile(path.join(root, ...p.split('/'))));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') return null;
        throw err;
      }
    },
  };
}
