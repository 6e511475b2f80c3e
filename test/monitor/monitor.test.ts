// The Monitor library in process: compare sources ahead of the log (proved
// from the mirror's tiles, or the log's own for a witness), a webhook that is
// down does not hide the alert, and an alert leaves the state untouched.
import { sha256 } from '@noble/hashes/sha2.js';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toHex } from '../../src/merkle/index.js';
import { Monitor, logSource, witnessSource } from '../../src/monitor/index.js';
import { LOG_VKEY, ORIGIN, WITNESSES, buildLog, cosign, evidenceDirs, serveDir, tempDir, type BuiltLog, type StaticServer } from './helpers.js';

let root: string;
let log: BuiltLog;
let primary: StaticServer;
let mirror: StaticServer;
let witness: StaticServer;
const hex = toHex(sha256(new TextEncoder().encode(ORIGIN)));

beforeAll(async () => {
  root = tempDir();
  log = await buildLog(root, [1000, 3000]);
  [primary, mirror, witness] = await Promise.all([serveDir(log.tilesDir), serveDir(log.tilesDir), serveDir(tempDir())]);
}, 60_000);

afterAll(async () => {
  await Promise.all([primary, mirror, witness].map((s) => s?.close()));
  fs.rmSync(root, { recursive: true, force: true });
});

describe('Monitor', () => {
  it('accepts sources ahead of the log once their larger tree is proven consistent', async () => {
    primary.override.set('checkpoint', log.checkpoints.get(1000)!);
    witness.override.set(`${hex}/checkpoint`, cosign(log.checkpoints.get(3000)!, [WITNESSES[0]!.signerKey]));
    const m = Monitor.open({
      url: primary.url,
      logKey: LOG_VKEY,
      stateDir: tempDir(),
      compare: [logSource(mirror.url), witnessSource(witness.url, ORIGIN)],
    });
    try {
      const r = await m.poll();
      expect(r.status).toBe('ok');
      expect(r.compare).toEqual([
        { source: mirror.url, status: 'ahead', size: 3000 },
        { source: witness.url, status: 'ahead', size: 3000 },
      ]);
      expect(r.audited).toBe(1000);
    } finally {
      m.close();
      primary.override.clear();
    }
  });

  it('audits an older checkpoint whose partial tiles and bundle are gone, from the full ones', async () => {
    primary.override.set('checkpoint', log.checkpoints.get(1000)!);
    for (const p of ['tile/0/003.p/232', 'tile/entries/003.p/232']) primary.override.set(p, null);
    const m = Monitor.open({ url: primary.url, logKey: LOG_VKEY, stateDir: tempDir() });
    const mark = primary.requests.length;
    try {
      const r = await m.poll();
      expect(r.status, JSON.stringify(r)).toBe('ok');
      expect(r.audited).toBe(1000);
      expect(primary.requests.slice(mark)).toEqual(expect.arrayContaining(['tile/entries/003.p/232', 'tile/entries/003', 'tile/0/003']));
    } finally {
      m.close();
      primary.override.clear();
    }
  });

  it('reports a compare checkpoint not signed by the log as unverified, not as a split view', async () => {
    witness.override.set(`${hex}/checkpoint`, 'not a checkpoint\n');
    const m = Monitor.open({ url: primary.url, logKey: LOG_VKEY, stateDir: tempDir(), compare: [witnessSource(witness.url, ORIGIN)] });
    try {
      const r = await m.poll();
      expect(r.status).toBe('ok');
      expect(r.compare[0]).toMatchObject({ status: 'unverified', size: null });
    } finally {
      m.close();
    }
  });

  it('an alert with a webhook that is down still saves evidence and says the webhook failed; a repeat is raised once', async () => {
    const stateDir = tempDir();
    const warnings: string[] = [];
    const m = Monitor.open({ url: primary.url, logKey: LOG_VKEY, stateDir, webhook: 'http://127.0.0.1:1/hook', warn: (l) => warnings.push(l) });
    try {
      expect((await m.poll()).status).toBe('ok');
      const saved = fs.readFileSync(path.join(stateDir, 'state.json'), 'utf8');
      primary.override.set('checkpoint', log.checkpoints.get(1000)!);
      const r = await m.poll();
      expect(r.status).toBe('alert');
      expect(r.alert?.code).toBe('MONITOR_ROLLBACK');
      expect(r.webhookError).not.toBeNull();
      expect(warnings.join('\n')).toContain('webhook http://127.0.0.1:1/hook failed');
      expect(evidenceDirs(stateDir)).toHaveLength(1);
      expect(r.size).toBe(3000);
      // The same lie on the next poll is the same alert: no second evidence dir or webhook.
      const again = await m.poll();
      expect(again.alert).toBe(r.alert);
      expect(evidenceDirs(stateDir)).toHaveLength(1);
      expect(warnings.filter((w) => w.includes('webhook'))).toHaveLength(1);
      const after = JSON.parse(fs.readFileSync(path.join(stateDir, 'state.json'), 'utf8'));
      expect({ ...after, updatedAt: null }).toEqual({ ...JSON.parse(saved), updatedAt: null });
    } finally {
      m.close();
      primary.override.clear();
    }
  });
});
