// Never touch a tree that is not ours (issue 11, item 2): two real logs X and
// Y whose last integration steps wrote partial tiles at the same paths;
// `tilelog serve --state X --tiles Y` must refuse before writing a byte (X's
// recovery would otherwise "repair" Y's partial tiles with X's entries), say
// which directory belongs to which log, and leave Y auditable.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeKeyFile } from '../../src/cli/key-file.js';
import { openFileLog } from '../../src/log/index.js';
import { generateSignerKey, parseSignerKey } from '../../src/note/index.js';
import { quietLogger } from '../log/helpers.js';
import { runCli, tempDir } from './helpers.js';

let dir: string;
const X = { origin: 'x.tilelog.example/log', key: generateSignerKey('x.tilelog.example/log') };
const Y = { origin: 'y.tilelog.example/log', key: generateSignerKey('y.tilelog.example/log') };

// A closed log in <dir>/<name>/{state,tiles}: checkpoints at sizes 3 then 5,
// so its last step (3 -> 5) wrote tile/0/000.p/5 and tile/entries/000.p/5.
async function build(name: string, log: typeof X): Promise<void> {
  const stateDir = path.join(dir, name, 'state');
  fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  writeKeyFile(path.join(stateDir, 'log.key'), log.key.signerKey, false);
  const l = await openFileLog({ origin: log.origin, signer: parseSignerKey(log.key.signerKey), stateDir, tilesDir: path.join(dir, name, 'tiles'), logger: quietLogger });
  try {
    for (const [from, to] of [[0, 3], [3, 5]] as const) {
      const added = await Promise.all(Array.from({ length: to - from }, (_, i) => l.add(new TextEncoder().encode(`${name} entry ${from + i}`))));
      await l.waitForCheckpoint(Math.max(...added.map((a) => a.index)));
    }
  } finally {
    await l.close();
  }
}

/** Every file under root: relative path -> sha256 of its bytes (symlinks by target). */
function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string): void => {
    for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const r = path.join(rel, e.name);
      if (e.isDirectory()) walk(r);
      else if (e.isSymbolicLink()) out[r] = `link:${fs.readlinkSync(path.join(root, r))}`;
      else out[r] = createHash('sha256').update(fs.readFileSync(path.join(root, r))).digest('hex');
    }
  };
  walk('');
  return out;
}

beforeAll(async () => {
  dir = tempDir('tilelog-foreign-');
  await build('x', X);
  await build('y', Y);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('serve --state <log X> --tiles <log Y>', () => {
  it('the two logs have partial tiles at the same paths with different bytes (so X would rewrite them)', () => {
    for (const p of ['tile/0/000.p/5', 'tile/entries/000.p/5']) {
      const x = fs.readFileSync(path.join(dir, 'x/tiles', p));
      const y = fs.readFileSync(path.join(dir, 'y/tiles', p));
      expect(x.equals(y), p).toBe(false);
    }
  });

  it('is refused with a message naming both logs, and Y is byte-identical afterwards and still audits', async () => {
    const tilesY = path.join(dir, 'y/tiles');
    const stateX = path.join(dir, 'x/state');
    const before = snapshot(tilesY);
    const r = await runCli(['serve', '--state', stateX, '--tiles', tilesY, '--listen', '127.0.0.1:0', '--log-level', 'silent']);
    expect(r.code).toBe(1);
    const yKeyId = Y.key.verifierKey.split('+').slice(0, 2).join('+');
    const xKeyId = X.key.verifierKey.split('+').slice(0, 2).join('+');
    expect(r.stderr).toContain(`the tiles directory ${tilesY} holds the tree of origin ${Y.origin}, size 5, signed by ${yKeyId}`);
    expect(r.stderr).toContain(`the state directory ${stateX} is the log of origin ${X.origin}, key ${xKeyId}`);
    expect(r.stderr).toMatch(/without writing anything/);
    expect(r.stderr).toMatch(/LOG_FOREIGN_TILES/);
    expect(snapshot(tilesY)).toEqual(before);

    const audit = await runCli(['audit', tilesY, '--log-key', Y.key.verifierKey, '--json']);
    expect(audit.code, audit.stderr).toBe(0);
    expect(JSON.parse(audit.stdout)).toMatchObject({ ok: true, treeSize: 5 });
  });
});
