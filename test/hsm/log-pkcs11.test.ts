// A log and a witness with their keys in a real SoftHSM2 token.
//
// Ed25519 is deterministic, so a log whose key was imported into the token
// from a known seed must publish, checkpoint for checkpoint, the same bytes
// as a log signing with that seed in a file; Go's sumdb/note and tlog
// (test/interop/tlogcheck) verify the token-signed tree. A token removed
// while the log runs stops signing, not sequencing: adds are still made
// durable, /readyz and ?wait=checkpoint answer 503 SIGNER_UNAVAILABLE, the
// public checkpoint stays the last signed one (nothing unsigned, no second
// root), and publication resumes by itself once the token is back.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Pkcs11Module } from '../../src/hsm/pkcs11-module.js';
import { generatePkcs11Key, importPkcs11Key } from '../../src/hsm/pkcs11-keygen.js';
import type { Pkcs11Signer } from '../../src/hsm/pkcs11-signer.js';
import { createLogApp } from '../../src/http/index.js';
import { openFileLog, type Log } from '../../src/log/index.js';
import { verifyConsistency } from '../../src/merkle/verify.js';
import { cosignatureSigner, generateSignerKey, noteSigner, openCheckpoint, openNote, parseCosignatureVerifierKey, parseSignerKey, parseVerifierKey } from '../../src/note/index.js';
import { SqliteWitnessStore } from '../../src/witness/sqlite-store.js';
import { createWitnessApp, Witness } from '../../src/witness/index.js';
import { buildTlogcheck, goMissing, INSTALL_HINT, runTlogcheck } from '../interop/tlogcheck.js';
import { quietLogger, tempDir, utf8 } from '../log/helpers.js';
import { body, SIGSUM_ORIGIN, SIGSUM_PROOFS, SIGSUM_VKEY, sigsumNote, WITNESS_NAME, witnessSigner } from '../witness/helpers.js';
import { describeHsm, makeSoftHsm, type SoftHsm } from '../support/softhsm.js';

const ORIGIN = 'hsm.tilelog.example/log';
const SEED = new Uint8Array(32).map((_, i) => (i * 31 + 11) & 0xff);

async function until(what: string, f: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await f())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Every file under dir, by relative path. */
function files(dir: string, rel = ''): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const p = path.join(rel, e.name);
    if (e.isDirectory()) for (const [k, v] of files(dir, p)) out.set(k, v);
    else out.set(p, fs.readFileSync(path.join(dir, p)));
  }
  return out;
}

describeHsm('a log and a witness with keys in SoftHSM2', () => {
  let hsm: SoftHsm;
  let tmp: ReturnType<typeof tempDir>;
  let tokenKey: Pkcs11Signer;
  const open: Log[] = [];

  beforeAll(async () => {
    hsm = makeSoftHsm(['tilelog']);
    tmp = tempDir('tilelog-hsm-log-');
    tokenKey = await importPkcs11Key(hsm.uri('log-key'), SEED);
  });
  afterAll(async () => {
    for (const l of open) await l.close();
    Pkcs11Module.finalizeAll();
    hsm.remove();
    tmp.cleanup();
  });

  async function openAt(name: string, signer: ReturnType<typeof noteSigner>): Promise<{ log: Log; tilesDir: string }> {
    const tilesDir = path.join(tmp.dir, name, 'tiles');
    const log = await openFileLog({ origin: ORIGIN, signer, stateDir: path.join(tmp.dir, name, 'state'), tilesDir, logger: quietLogger, checkpointIntervalMs: 0 });
    open.push(log);
    return { log, tilesDir };
  }

  it('publishes checkpoints byte-identical to a file key of the same seed, which Go verifies', async () => {
    const file = parseSignerKey(generateSignerKey(ORIGIN, SEED).signerKey);
    const token = noteSigner(ORIGIN, tokenKey, 0x01);
    expect(token.verifierKey).toBe(file.verifierKey);
    const a = await openAt('file', file);
    const b = await openAt('token', token);
    expect(b.log.checkpoint().text).toBe(a.log.checkpoint().text);
    for (let i = 0; i < 20; i++) {
      // One entry, one checkpoint: both logs sign the same sequence of trees.
      const [ra, rb] = await Promise.all([a.log.add(utf8(`entry ${i}`)), b.log.add(utf8(`entry ${i}`))]);
      expect(rb.index).toBe(ra.index);
      const [ca, cb] = await Promise.all([a.log.waitForCheckpoint(i), b.log.waitForCheckpoint(i)]);
      expect(cb.size).toBe(ca.size);
      expect(cb.text).toBe(ca.text);
    }
    // The whole public tree, checkpoint included, is the same bytes.
    expect(files(b.tilesDir)).toEqual(files(a.tilesDir));
    expect(openCheckpoint(b.log.checkpoint().text, ORIGIN, [parseVerifierKey(token.verifierKey)]).checkpoint.size).toBe(20);

    const missing = goMissing();
    if (missing !== null) {
      if (process.env.CI) throw new Error(`Go is needed to verify the token-signed tree: ${missing}; ${INSTALL_HINT}`);
      console.warn(`skipping the Go check: ${missing}`);
      return;
    }
    const bin = buildTlogcheck(path.join(tmp.dir, 'go'));
    const r = runTlogcheck(bin, ['-dir', b.tilesDir, '-vkey', token.verifierKey, '-origin', ORIGIN, '-proofs', 'all']);
    expect(r.json, r.stderr).toMatchObject({ ok: true, size: 20, entries: 20 });
    const note = runTlogcheck(bin, ['verify', '-vkey', token.verifierKey, '-note', '-'], b.log.checkpoint().text);
    expect(note.json, note.stderr).toMatchObject({ ok: true });
  });

  it('keeps sequencing but stops signing while the token is removed, reports not ready, and resumes when it is back', async () => {
    const signer = noteSigner(ORIGIN, await generatePkcs11Key(hsm.uri('removal-key')), 0x01);
    const vkey = parseVerifierKey(signer.verifierKey);
    const { log } = await openAt('removal', signer);
    const app = createLogApp(log, { logError: () => undefined, waitTimeoutMs: 20_000 });
    const add = (s: string, wait: boolean) => app.request(`/add${wait ? '?wait=checkpoint' : ''}`, { method: 'POST', body: s });
    expect((await add('before', true)).status).toBe(200);
    const before = log.checkpoint();
    expect(before.size).toBe(1);

    // The removal: SoftHSM2 keeps each token in a directory of its tokendir;
    // moving it away is what unplugging a USB token does to the library (the
    // objects behind the open session vanish; slot calls fail until the
    // library is initialised again, and then the token is simply absent).
    const tokenDir = fs.readdirSync(hsm.tokenDir)[0]!;
    const away = path.join(hsm.dir, 'unplugged');
    fs.renameSync(path.join(hsm.tokenDir, tokenDir), away);

    // Sequencing goes on: the add is durable and gets its index.
    const res = await add('during 1', false);
    expect(res.status, await res.clone().text()).toBe(200);
    expect(((await res.json()) as { index: number }).index).toBe(1);
    await until('/readyz to report the signer', async () => (await app.request('/readyz')).status === 503);
    const ready = await app.request('/readyz');
    expect(((await ready.json()) as { error: { code: string } }).error.code).toBe('SIGNER_UNAVAILABLE');
    expect(log.stats().storage.faults.map((f) => f.component)).toEqual(['signer']);
    // A client that waits for its checkpoint is told at once, with Retry-After.
    const waited = await add('during 2', true);
    expect(waited.status).toBe(503);
    expect(waited.headers.get('retry-after')).not.toBeNull();
    expect(((await waited.json()) as { error: { code: string } }).error.code).toBe('SIGNER_UNAVAILABLE');
    // Nothing was published: the public checkpoint is still the last signed one.
    expect(log.checkpoint().text).toBe(before.text);
    expect(new TextDecoder().decode((await log.readPublic('checkpoint'))!)).toBe(before.text);

    // Plugged back in: the checkpointer's next retry signs; the log publishes everything durable.
    fs.renameSync(away, path.join(hsm.tokenDir, tokenDir));
    await until('the log to publish size 3', () => log.checkpoint().size === 3);
    await until('/readyz to be ready', async () => (await app.request('/readyz')).status === 200);
    const after = openCheckpoint(log.checkpoint().text, ORIGIN, [vkey]).checkpoint;
    // No fork: size 3 extends size 1.
    const proof = await log.consistencyProof(1, 3);
    expect(() => verifyConsistency(undefined, 1, 3, proof, before.root, after.root)).not.toThrow();
    expect((await add('after', true)).status).toBe(200);
  });

  it('a witness whose key is in the token cosigns like the same key in a file', async () => {
    const now = () => 1_700_000_000;
    const seed = new Uint8Array(32).fill(7); // WITNESS_KEY's seed (test/witness/helpers.ts)
    const tokenWitness = cosignatureSigner(WITNESS_NAME, await importPkcs11Key(hsm.uri('witness-key'), seed), { now });
    const fileWitness = witnessSigner(now);
    expect(tokenWitness.verifierKey).toBe(fileWitness.verifierKey);
    const answers: string[] = [];
    for (const signer of [tokenWitness, fileWitness]) {
      const store = new SqliteWitnessStore(path.join(tmp.dir, `witness-${answers.length}.db`));
      store.addLog(SIGSUM_ORIGIN, SIGSUM_VKEY);
      const app = createWitnessApp(new Witness({ store, signer, now }), { logError: () => undefined });
      const res = await app.request('/add-checkpoint', { method: 'POST', body: body(0, [], sigsumNote(1)) });
      answers.push(await res.text());
      expect(res.status, answers.at(-1)).toBe(200);
      store.close();
    }
    expect(answers[0]).toBe(answers[1]);
    const cosigned = sigsumNote(1).trimEnd() + '\n' + answers[0];
    const opened = openNote(cosigned, [parseCosignatureVerifierKey(tokenWitness.verifierKey)]);
    expect(opened.verified.map((v) => v.name)).toEqual([WITNESS_NAME]);

    // A witness key generated in the token cosigns too, verified by its printed verifier key.
    const fresh = cosignatureSigner('fresh.witness.example', await generatePkcs11Key(hsm.uri('fresh-witness')), { now });
    const store = new SqliteWitnessStore(path.join(tmp.dir, 'witness-fresh.db'));
    store.addLog(SIGSUM_ORIGIN, SIGSUM_VKEY);
    const app = createWitnessApp(new Witness({ store, signer: fresh, now }), { logError: () => undefined });
    const res = await app.request('/add-checkpoint', { method: 'POST', body: body(0, [], sigsumNote(1)) });
    expect(res.status).toBe(200);
    const note = sigsumNote(1).trimEnd() + '\n' + (await res.text());
    expect(openNote(note, [parseCosignatureVerifierKey(fresh.verifierKey)]).verified).toHaveLength(1);

    // Token removed (its directory moved away, as in the log test above): 503 with Retry-After, nothing stored; back: cosigns.
    const tokenDir = fs.readdirSync(hsm.tokenDir)[0]!;
    const away = path.join(hsm.dir, 'witness-unplugged');
    fs.renameSync(path.join(hsm.tokenDir, tokenDir), away);
    const gone = await app.request('/add-checkpoint', { method: 'POST', body: body(1, SIGSUM_PROOFS['1-3'], sigsumNote(3)) });
    expect(gone.status, await gone.clone().text()).toBe(503);
    expect(gone.headers.get('retry-after')).toBe('5');
    expect(store.latest(SIGSUM_ORIGIN)?.size).toBe(1);
    fs.renameSync(away, path.join(hsm.tokenDir, tokenDir));
    const back = await app.request('/add-checkpoint', { method: 'POST', body: body(1, SIGSUM_PROOFS['1-3'], sigsumNote(3)) });
    expect(back.status, await back.clone().text()).toBe(200);
    store.close();
  });
});
