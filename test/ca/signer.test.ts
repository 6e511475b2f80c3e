// openCaSigner: a CA key reference that is a file path opens a PKCS#8 key
// file (mode 0600) whose signatures verify with its public key; a missing
// file or one others can read is refused with CA_CONFIG; loadCaKeys takes
// such a reference in place of the key file in the CA dir. (The pkcs11: form
// is tested on SoftHSM2 in test/hsm/ca-pkcs11.test.ts.)

import * as fs from 'node:fs';
import * as path from 'node:path';
import { webcrypto } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadCaKeys } from '../../src/ca/keys.js';
import { generateSigner, openCaSigner } from '../../src/ca/signer.js';
import { x509 } from '../../src/ca/x509.js';
import { tempDir } from '../cli/helpers.js';

describe('openCaSigner with a key file', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir('tilelog-ca-signer-');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const writeKey = async (name: string, mode = 0o600) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, (await generateSigner()).pkcs8Pem, { mode });
    fs.chmodSync(file, mode);
    return file;
  };

  it('signs DER ECDSA signatures that verify with its public key', async () => {
    const signer = await openCaSigner(await writeKey('k.key'));
    const data = new TextEncoder().encode('an OCSP response to be');
    const der = await signer.sign(data);
    const raw = new x509.AsnEcSignatureFormatter().toWebSignature(signer.algorithm, der);
    expect(raw).not.toBeNull();
    expect(await webcrypto.subtle.verify(signer.algorithm, signer.publicKey, raw!, data)).toBe(true);
    expect(await webcrypto.subtle.verify(signer.algorithm, signer.publicKey, raw!, new TextEncoder().encode('something else'))).toBe(false);
  });

  it('refuses a missing file and one others can read, naming the file', async () => {
    await expect(openCaSigner(path.join(dir, 'absent.key'))).rejects.toMatchObject({ code: 'CA_CONFIG', message: expect.stringMatching(/cannot read the key file .*absent\.key \(ENOENT\)/) });
    await expect(openCaSigner(await writeKey('loose.key', 0o644))).rejects.toMatchObject({ code: 'CA_CONFIG', message: expect.stringMatching(/readable by others.*chmod 600/) });
  });

  it('loadCaKeys uses a key file named elsewhere for the intermediate, and writes none in the CA dir for it', async () => {
    const inter = await writeKey('elsewhere.key');
    const caDir = path.join(dir, 'ca');
    const keys = await loadCaKeys({ dir: caDir, intermediateKey: inter });
    expect(fs.readdirSync(caDir).sort()).toEqual(['ca-intermediate.crt', 'ca-root.crt', 'ca-root.key']);
    const spki = new Uint8Array(await webcrypto.subtle.exportKey('spki', (await openCaSigner(inter)).publicKey));
    expect(Buffer.from(spki).equals(Buffer.from(keys.intermediate.certificate.publicKey.rawData))).toBe(true);
    // Another key under the same certificate: refused.
    await expect(loadCaKeys({ dir: caDir, intermediateKey: await writeKey('other.key') })).rejects.toMatchObject({
      code: 'CA_CONFIG',
      message: expect.stringMatching(/ca-intermediate\.crt is not the certificate of the intermediate key .*other\.key: it holds another public key/),
    });
  });
});
