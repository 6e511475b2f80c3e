import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, SHARED_VECTORS, tempDir } from './helpers.js';

const TREE = path.join(SHARED_VECTORS, 'tree');
const VKEY = fs.readFileSync(path.join(SHARED_VECTORS, 'log.vkey'), 'utf8').trim();

function copyTree(): string {
  const dir = tempDir('tilelog-audit-');
  fs.cpSync(TREE, dir, { recursive: true });
  return dir;
}

describe('tilelog audit <dir> on the golden 70,000-entry tree', () => {
  it('recomputes every tile and the root and verifies the signature', async () => {
    const r = await runCli(['audit', TREE, '--log-key', VKEY, '--json']);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(result).toMatchObject({
      ok: true,
      origin: 'vectors.tilelog.example/log',
      treeSize: 70000,
      signatureVerified: true,
      entries: 70000,
      bundles: 274,
      // 274 level-0 tiles, tile/1/000, tile/1/001.p/17, tile/2/000.p/1
      tiles: 277,
      mismatches: [],
    });
  });

  it('prints a friendly verdict and progress on stderr', async () => {
    const r = await runCli(['audit', TREE, '--log-key', VKEY]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^OK: vectors\.tilelog\.example\/log at size 70000 checks out/);
    expect(r.stdout).toContain('signature verified');
    expect(r.stderr).toMatch(/100\.0% 70,000\/70,000 entries/);
  });

  it('warns when no key is given', async () => {
    const r = await runCli(['audit', TREE]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('signature NOT checked');
  });

  it('detects a tampered level-1 hash tile', async () => {
    const dir = copyTree();
    const file = path.join(dir, 'tile/1/000');
    const data = fs.readFileSync(file);
    data[100] = data[100]! ^ 1;
    fs.writeFileSync(file, data);
    const r = await runCli(['audit', dir, '--json']);
    expect(r.code).toBe(1);
    const result = JSON.parse(r.stdout) as { ok: boolean; mismatches: { path: string }[] };
    expect(result.ok).toBe(false);
    expect(result.mismatches.map((m) => m.path)).toContain('tile/1/000');
  });

  it('detects a tampered entry (its level-0 tile and the root no longer match)', async () => {
    const dir = copyTree();
    const file = path.join(dir, 'tile/entries/005');
    const data = fs.readFileSync(file);
    data[2] = data[2]! ^ 1; // first byte of the first entry
    fs.writeFileSync(file, data);
    const r = await runCli(['audit', dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAIL: /);
    expect(r.stdout).toContain('tile/0/005');
  });

  it('detects a missing hash tile and a checkpoint signed by another key', async () => {
    const dir = copyTree();
    fs.rmSync(path.join(dir, 'tile/2/000.p/1'));
    const r = await runCli(['audit', dir, '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).mismatches).toContainEqual({ path: 'tile/2/000.p/1', problem: 'missing' });
    const text = await runCli(['audit', dir]);
    expect(text.code).toBe(1);
    // One missing tile is one problem, in the singular.
    expect(JSON.parse(r.stdout).mismatches).toHaveLength(1);
    expect(text.stdout).toMatch(/^FAIL: vectors\.tilelog\.example\/log at size 70000: 1 problem \(/);

    const otherKey = 'vectors.tilelog.example/log+00000000+AcZUkBVnnxOdpCzhkV7z1F0r8rxC8iVmWlLHc3HZdOoK';
    const bad = await runCli(['audit', TREE, '--log-key', otherKey]);
    expect(bad.code).not.toBe(0);
  });

  it('fails clearly on a directory that holds no log', async () => {
    const r = await runCli(['audit', tempDir()]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no checkpoint');
  });
});
