// Golden vectors: appending the 70,000 vector entries through the full Log
// (SQLite + files), publishing exactly at the vector checkpoint sizes, must give
// every checkpoint byte for byte and exactly the vector tile tree.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { openFileLog, type Log } from '../../src/log/index.js';
import { parseSignerKey } from '../../src/note/keys.js';
import { tempDir, vectorsDir, quietLogger } from './helpers.js';

const ORIGIN = 'vectors.tilelog.example/log';
const SIZES = [1, 2, 3, 255, 256, 257, 1000, 65535, 65536, 70000];

function listFiles(root: string, rel = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(path.join(root, rel))) {
    const r = rel === '' ? name : `${rel}/${name}`;
    if (statSync(path.join(root, r)).isDirectory()) out.push(...listFiles(root, r));
    else out.push(r);
  }
  return out.sort();
}

describe('golden vectors through the Log', () => {
  const tmp = tempDir('tilelog-golden-');
  afterAll(() => tmp.cleanup());

  test('checkpoints at every vector size and the whole tile tree match byte for byte', async () => {
    const entries = readFileSync(path.join(vectorsDir, 'entries.b64'), 'utf8')
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => new Uint8Array(Buffer.from(l, 'base64')));
    expect(entries.length).toBe(70000);
    const signer = parseSignerKey(readFileSync(path.join(vectorsDir, 'log.skey'), 'utf8').trim());
    const tilesDir = path.join(tmp.dir, 'tiles');
    const log: Log = await openFileLog({
      origin: ORIGIN,
      signer,
      stateDir: path.join(tmp.dir, 'state'),
      tilesDir,
      // One batch and one checkpoint per step, so only the vector sizes are published.
      batchMaxEntries: 70000,
      maxPendingEntries: 70000,
      integrateMaxEntries: 70000,
      dedup: false,
      logger: quietLogger,
    });
    let done = 0;
    for (const size of SIZES) {
      const adds = entries.slice(done, size).map((e) => log.add(e));
      const results = await Promise.all(adds);
      results.forEach((r, k) => expect(r.index).toBe(done + k));
      const cp = await log.waitForCheckpoint(size - 1);
      expect(cp.size).toBe(size);
      expect(cp.text).toBe(readFileSync(path.join(vectorsDir, 'checkpoints', String(size)), 'utf8'));
      done = size;
    }
    await log.close();

    const want = listFiles(path.join(vectorsDir, 'tree'));
    const got = listFiles(tilesDir);
    expect(got).toEqual(want);
    for (const f of got) {
      const a = readFileSync(path.join(tilesDir, f));
      const b = readFileSync(path.join(vectorsDir, 'tree', f));
      if (!a.equals(b)) expect.fail(`${f} differs from the vector`);
    }
  });
});
