// API keys for registry writes. A key is 32 random bytes, shown once as
// `tlk_<base64url>`; the registry keeps only SHA-256(key) and the owner it
// acts for, one per line in <state>/registry-api-keys:
//   sha256:<64 hex> <owner>
// Lines starting with '#' and blank lines are ignored.

import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { TilelogError } from '../../errors.js';

const OWNER = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const LINE = /^sha256:([0-9a-f]{64}) +(\S+)$/;

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** A fresh API key and the line to store for it. */
export function newApiKey(owner: string): { key: string; line: string } {
  if (!OWNER.test(owner)) throw new TilelogError('REGISTRY_CONFIG', `registry: owner ${JSON.stringify(owner)} must be a-z, 0-9, ._- (1..64, starting with a letter or digit)`);
  const key = `tlk_${randomBytes(32).toString('base64url')}`;
  return { key, line: `sha256:${hashApiKey(key)} ${owner}` };
}

/** What the registry's write routes need: the owner an API key acts for, or null. */
export interface ApiKeyLookup {
  ownerOf(key: string): string | null;
}

export class ApiKeys implements ApiKeyLookup {
  readonly #owners: Map<string, string>;

  constructor(lines: Iterable<string>) {
    this.#owners = new Map();
    let n = 0;
    for (const raw of lines) {
      n++;
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      const m = LINE.exec(line);
      if (m === null || !OWNER.test(m[2]!)) throw new TilelogError('REGISTRY_CONFIG', `registry: API key line ${n} must be "sha256:<64 hex> <owner>"`);
      this.#owners.set(m[1]!, m[2]!);
    }
  }

  /** Reads the key file; a missing file means no keys (every write is refused). */
  static fromFile(file: string): ApiKeys {
    let text = '';
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    return new ApiKeys(text.split('\n'));
  }

  get size(): number {
    return this.#owners.size;
  }

  /** The owner a key acts for, or null. */
  ownerOf(key: string): string | null {
    return this.#owners.get(hashApiKey(key)) ?? null;
  }
}
