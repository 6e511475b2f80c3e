// Processes of one log (PostgreSQL) share the registry's submitter key and
// may start at once on a fresh log: each submits its own key.added (their
// time claims differ), one is applied first and the other is refused by the
// fold. Both registries must open, on the key the log now holds; the same for
// the CA's keys. Two registries with their own indexes over one Log stand in
// for the processes.
import * as path from 'node:path';
import { expect, it } from 'vitest';
import { CertificateAuthority } from '../../src/ca/ca.js';
import { loadCaKeys } from '../../src/ca/keys.js';
import { spkiSha256, toHex } from '../../src/ca/x509.js';
import { openLog } from '../../src/log/index.js';
import { decodeEntry } from '../../src/registry/entries/index.js';
import { Registry } from '../../src/registry/registry.js';
import { StateIndex } from '../../src/registry/state-index.js';
import { MemoryTileStore } from '../../src/storage/memory-tile-store.js';
import { SqliteSequenceDB } from '../../src/storage/sqlite-sequence-db.js';
import { quietLogger } from '../log/helpers.js';
import { ORIGIN, registryKey, T0, tempDir, testSigner } from './helpers.js';

it('two registries (and CAs) with one key opening a fresh log at once: all open, each key added once', async () => {
  const tmp = tempDir('tilelog-registry-shared-');
  const db = new SqliteSequenceDB(path.join(tmp.dir, 'log.db'), { origin: ORIGIN });
  const log = await openLog({ origin: ORIGIN, signer: testSigner, db, tiles: new MemoryTileStore(), logger: quietLogger });
  const indexes = [0, 1].map((k) => new StateIndex(path.join(tmp.dir, `registry-${k}.db`), ORIGIN));
  try {
    const opened = await Promise.all(indexes.map((index, k) => Registry.open({ log, index, key: registryKey, nowSeconds: () => T0 + k })));
    expect(opened).toHaveLength(2);
    // Both key.added entries are in the log; only the first is applied, and both indexes agree.
    const entries = await Promise.all([0, 1].map(async (i) => decodeEntry(await log.entry(i))));
    expect(entries.map((e) => [e.type, e.time].join(' ')).sort()).toEqual([`key.added ${T0}`, `key.added ${T0 + 1}`]);
    for (const index of indexes) {
      expect(index.keys()).toMatchObject([{ kid: registryKey.kid, status: 'active' }]);
      expect([index.outcome(0)?.applied, index.outcome(1)?.applied]).toEqual([true, false]);
    }
    // The same for the CA keys (processes sharing --registry-ca-dir's keys): each CA opens, each key logged once.
    const keys = await loadCaKeys({ dir: path.join(tmp.dir, 'ca') });
    const cas = await Promise.all(opened.map((registry, k) => CertificateAuthority.open({ registry, keys, nowMs: () => (T0 + 10 + k) * 1000 })));
    for (const ca of cas) {
      await ca.index.catchUp();
      for (const role of ['root', 'intermediate'] as const) expect(ca.index.caKey(toHex(spkiSha256(keys[role].certificate)))?.role).toBe(role);
    }
    const applied = indexes[0]!.nextIndex;
    const caEntries = [];
    for (let i = 2; i < applied; i++) if (indexes[0]!.outcome(i)?.applied) caEntries.push(decodeEntry(await log.entry(i)).type);
    expect(caEntries).toEqual(['ca.key.added', 'ca.key.added']);
  } finally {
    for (const index of indexes) index.close();
    await log.close();
    db.close();
    tmp.cleanup();
  }
});
