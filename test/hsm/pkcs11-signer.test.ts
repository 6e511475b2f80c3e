// The PKCS#11 signer on a real SoftHSM2 token (never a mock): keys made in
// the token sign notes that verify, a key imported from a seed signs byte for
// byte like the same seed in a file, the private key cannot be read back,
// and the failures (no token, wrong PIN, no key, the token going away while
// running) give the named errors.

import * as fs from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { isTilelogError } from '../../src/errors.js';
import { ckr, loadPkcs11js, Pkcs11Module } from '../../src/hsm/pkcs11-module.js';
import { generatePkcs11Key, importPkcs11Key } from '../../src/hsm/pkcs11-keygen.js';
import { openPkcs11Signer } from '../../src/hsm/pkcs11-signer.js';
import { parsePkcs11Uri } from '../../src/hsm/pkcs11-uri.js';
import { generateSignerKey, noteSigner, openCheckpoint, parseSignerKey, parseVerifierKey, seedSigner, signCheckpoint } from '../../src/note/index.js';
import { describeHsm, makeSoftHsm, SOFTHSM_MODULE, USER_PIN, type SoftHsm } from '../support/softhsm.js';

const utf8 = (s: string) => new TextEncoder().encode(s);

async function rejectsWith(p: Promise<unknown>, code: string): Promise<Error> {
  try {
    await p;
  } catch (err) {
    expect(isTilelogError(err), String(err)).toBe(true);
    expect((err as { code: string }).code, String(err)).toBe(code);
    return err as Error;
  }
  throw new Error(`expected ${code}, but it resolved`);
}

function throwsWith(fn: () => unknown, code: string): Error {
  try {
    fn();
  } catch (err) {
    expect((err as { code?: string }).code, String(err)).toBe(code);
    return err as Error;
  }
  throw new Error(`expected ${code}, but nothing was thrown`);
}

describeHsm('PKCS#11 signer on SoftHSM2', () => {
  let hsm: SoftHsm;
  beforeAll(() => {
    hsm = makeSoftHsm(['tilelog', 'other']);
  });
  afterAll(() => {
    Pkcs11Module.finalizeAll();
    hsm.remove();
  });

  it('generates a key in the token whose note signatures verify with the printed verifier key', async () => {
    const signer = await generatePkcs11Key(hsm.uri('gen-key'));
    expect(signer.publicKey).toHaveLength(32);
    const log = noteSigner('example.com/hsm-log', signer, 0x01);
    const text = signCheckpoint({ origin: 'example.com/hsm-log', size: 3, root: new Uint8Array(32).fill(9), extensions: [] }, log);
    const opened = openCheckpoint(text, 'example.com/hsm-log', [parseVerifierKey(log.verifierKey)]);
    expect(opened.checkpoint.size).toBe(3);
    // A second open (another process, a restart) reads the same public key from the token.
    const again = await openPkcs11Signer(hsm.uri('gen-key'));
    expect(noteSigner('example.com/hsm-log', again, 0x01).verifierKey).toBe(log.verifierKey);
    // Never replaces an existing key.
    await rejectsWith(generatePkcs11Key(hsm.uri('gen-key')), 'SIGNER_CONFIG');
  });

  it('signs byte for byte like the file key of the same seed (Ed25519 is deterministic)', async () => {
    const seed = new Uint8Array(32).map((_, i) => (i * 7 + 3) & 0xff);
    const file = parseSignerKey(generateSignerKey('example.com/same', seed).signerKey);
    const token = noteSigner('example.com/same', await importPkcs11Key(hsm.uri('imported'), seed), 0x01);
    expect(token.verifierKey).toBe(file.verifierKey);
    expect(token.keyId).toBe(file.keyId);
    for (const msg of ['a', 'example.com/same\n1\nAAAA\n', 'x'.repeat(5000)]) {
      expect(Buffer.from(token.sign(utf8(msg))).equals(Buffer.from(file.sign(utf8(msg))))).toBe(true);
    }
    expect(Buffer.from(seedSigner(seed).publicKey).equals(Buffer.from(token.publicKey))).toBe(true);
  });

  it('keeps the private key in the token: CKA_VALUE is refused, sensitive and never extractable', async () => {
    await generatePkcs11Key(hsm.uri('secret-key'));
    await importPkcs11Key(hsm.uri('secret-import'), new Uint8Array(32).fill(1));
    const js = await loadPkcs11js();
    const m = Pkcs11Module.get(js, SOFTHSM_MODULE);
    const uri = parsePkcs11Uri(hsm.uri('secret-key'));
    const slot = m.findSlot(uri);
    const session = m.lib.C_OpenSession(slot, js.CKF_SERIAL_SESSION);
    try {
      m.lib.C_Login(session, js.CKU_USER, USER_PIN);
    } catch (err) {
      if (ckr(err) !== 'CKR_USER_ALREADY_LOGGED_IN') throw err;
    }
    for (const label of ['secret-key', 'secret-import']) {
      const [key] = m.findObjects(session, [
        { type: js.CKA_CLASS, value: js.CKO_PRIVATE_KEY },
        { type: js.CKA_LABEL, value: label },
      ]);
      expect(key).toBeDefined();
      let refused: string | null = null;
      try {
        m.lib.C_GetAttributeValue(session, key!, [{ type: js.CKA_VALUE }]);
      } catch (err) {
        refused = ckr(err);
      }
      expect(refused).toBe('CKR_ATTRIBUTE_SENSITIVE');
      const [sensitive, extractable] = m.lib.C_GetAttributeValue(session, key!, [{ type: js.CKA_SENSITIVE }, { type: js.CKA_EXTRACTABLE }]);
      expect(sensitive!.value[0]).toBe(1);
      expect(extractable!.value[0]).toBe(0);
    }
    // Generated in the token: it never left it.
    const [gen] = m.findObjects(session, [
      { type: js.CKA_CLASS, value: js.CKO_PRIVATE_KEY },
      { type: js.CKA_LABEL, value: 'secret-key' },
    ]);
    const [never] = m.lib.C_GetAttributeValue(session, gen!, [{ type: js.CKA_NEVER_EXTRACTABLE }]);
    expect(never!.value[0]).toBe(1);
    m.lib.C_CloseSession(session);
  });

  it('names what is wrong at open: no such token, no such key, a wrong PIN, a PIN file others can read, a missing module', async () => {
    await generatePkcs11Key(hsm.uri('present'));
    const noToken = await rejectsWith(openPkcs11Signer(hsm.uri('present', 'absent-token')), 'SIGNER_CONFIG');
    expect(noToken.message).toMatch(/no token .* matches .*"absent-token".*tokens present: .*"tilelog"/);
    const noKey = await rejectsWith(openPkcs11Signer(hsm.uri('absent-key')), 'SIGNER_CONFIG');
    expect(noKey.message).toMatch(/no private key object="absent-key"/);

    const wrong = `${hsm.dir}/wrong-pin`;
    fs.writeFileSync(wrong, '0000\n', { mode: 0o600 });
    // The other token: the login state of 'tilelog' is shared by every session of this process.
    await generatePkcs11Key(hsm.uri('k', 'other'));
    Pkcs11Module.finalizeAll(); // log out of every token
    const wrongPin = await rejectsWith(openPkcs11Signer(hsm.uri('k', 'other').replace(hsm.pinFile, wrong)), 'SIGNER_CONFIG');
    expect(wrongPin.message).toMatch(/refused the PIN in .*wrong-pin \(CKR_PIN_INCORRECT\)/);
    expect(wrongPin.message).not.toContain('0000');

    const loose = `${hsm.dir}/loose-pin`;
    fs.writeFileSync(loose, `${USER_PIN}\n`, { mode: 0o644 });
    fs.chmodSync(loose, 0o644);
    expect((await rejectsWith(openPkcs11Signer(hsm.uri('k', 'other').replace(hsm.pinFile, loose)), 'SIGNER_CONFIG')).message).toMatch(/chmod 600/);

    const noModule = hsm.uri('k').replace(SOFTHSM_MODULE, '/nonexistent/libpkcs11.so');
    expect((await rejectsWith(openPkcs11Signer(noModule), 'SIGNER_CONFIG')).message).toMatch(/does not exist/);
    expect((await rejectsWith(openPkcs11Signer(hsm.uri('k'), { binding: 'pkcs11js-not-installed' }), 'SIGNER_CONFIG')).message).toMatch(/npm install pkcs11js@/);
  });

  it('fails to sign while the token is gone, never returns bytes, and signs again once it is back', async () => {
    const seed = new Uint8Array(32).fill(42);
    const signer = await importPkcs11Key(hsm.uri('removable'), seed);
    const file = seedSigner(seed);
    const msg = utf8('checkpoint text\n');
    expect(Buffer.from(signer.sign(msg)).equals(Buffer.from(file.sign(msg)))).toBe(true);

    // Removal, modelled honestly: SoftHSM2 keeps each token in a directory
    // under its tokendir; moving that directory away is what unplugging a
    // USB token does to the library: the objects behind the open session
    // vanish (SoftHSM2 answers CKR_OBJECT_HANDLE_INVALID, then
    // CKR_GENERAL_ERROR for slot calls until initialised again).
    const [tokenDir] = fs.readdirSync(hsm.tokenDir).filter((d) => hasKey(`${hsm.tokenDir}/${d}`, 'removable'));
    expect(tokenDir).toBeDefined();
    const away = `${hsm.dir}/unplugged`;
    fs.renameSync(`${hsm.tokenDir}/${tokenDir}`, away);
    for (let i = 0; i < 3; i++) {
      const err = throwsWith(() => signer.sign(msg), 'SIGNER_UNAVAILABLE');
      expect(err.message).toMatch(/nothing was signed/);
    }
    expect(signer.failures).toBe(3);

    // Plugged back in: the next signature opens a new session on the same key.
    fs.renameSync(away, `${hsm.tokenDir}/${tokenDir}`);
    expect(Buffer.from(signer.sign(msg)).equals(Buffer.from(file.sign(msg)))).toBe(true);
  });

  it('refuses to sign with another key put under the same name while the token was away', async () => {
    const signer = await importPkcs11Key(hsm.uri('swapped'), new Uint8Array(32).fill(5));
    const [tokenDir] = fs.readdirSync(hsm.tokenDir).filter((d) => hasKey(`${hsm.tokenDir}/${d}`, 'swapped'));
    const saved = `${hsm.dir}/saved-token`;
    fs.cpSync(`${hsm.tokenDir}/${tokenDir}`, saved, { recursive: true });
    // Replace the token's contents: delete the key objects, import another seed under the label.
    const js = await loadPkcs11js();
    const m = Pkcs11Module.get(js, SOFTHSM_MODULE);
    const uri = parsePkcs11Uri(hsm.uri('swapped'));
    const s = m.lib.C_OpenSession(m.findSlot(uri), js.CKF_SERIAL_SESSION | js.CKF_RW_SESSION);
    for (const cls of [js.CKO_PRIVATE_KEY, js.CKO_PUBLIC_KEY]) {
      for (const h of m.findObjects(s, [{ type: js.CKA_CLASS, value: cls }, { type: js.CKA_LABEL, value: 'swapped' }])) m.lib.C_DestroyObject(s, h);
    }
    m.lib.C_CloseSession(s);
    await importPkcs11Key(hsm.uri('swapped'), new Uint8Array(32).fill(6));
    m.reinitialize(); // every session (the signer's too) is gone, as after a removal
    const err = throwsWith(() => signer.sign(utf8('x')), 'SIGNER_UNAVAILABLE');
    expect(err.message).toMatch(/another public key/);
    fs.rmSync(saved, { recursive: true });
  });
});

/** True when a SoftHSM2 token directory's files mention label (object files hold the label in clear). */
function hasKey(dir: string, label: string): boolean {
  return fs.readdirSync(dir).some((f) => fs.readFileSync(`${dir}/${f}`).includes(Buffer.from(label)));
}
