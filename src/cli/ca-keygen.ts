// `tilelog keygen --ca --key <pkcs11:URI>`: makes an ECDSA P-256 key pair
// for the private CA inside a PKCS#11 token (sensitive, never extractable)
// and prints its public key. The CA's file keys need no command: serve makes
// them in the CA dir on first run.

import { createHash } from 'node:crypto';
import { CliError, EXIT_OK, UsageError } from './common.js';
import { isPkcs11Uri, printableKey } from './signing-key.js';
import { TilelogError } from '../errors.js';

export async function caTokenKeygen(uri: string | undefined, o: { origin: string | undefined; out: string | undefined; from: string | undefined; json: boolean }): Promise<number> {
  if (uri === undefined || !isPkcs11Uri(uri)) {
    throw new UsageError("--ca makes the CA's key in a PKCS#11 token: give --key pkcs11:... (CA key files are made by 'tilelog serve --registry-ca' in the CA dir)");
  }
  for (const [flag, v] of [['--origin', o.origin], ['--out', o.out], ['--from', o.from]] as const) {
    if (v !== undefined) throw new UsageError(`${flag} does not go with --ca (a CA key has no origin, and is made inside the token)`);
  }
  const { generatePkcs11EcdsaKey } = await import('../hsm/pkcs11-ecdsa.js');
  let key;
  try {
    key = await generatePkcs11EcdsaKey(uri);
  } catch (err) {
    if (err instanceof TilelogError && err.code === 'SIGNER_CONFIG') throw new CliError(err.message);
    throw err;
  }
  key.close();
  const der = Buffer.from(key.spki);
  const pem = `-----BEGIN PUBLIC KEY-----\n${der.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END PUBLIC KEY-----\n`;
  const spkiSha256 = createHash('sha256').update(der).digest('hex');
  const shown = printableKey(uri);
  if (o.json) {
    process.stdout.write(`${JSON.stringify({ publicKey: pem, spkiSha256, key: shown })}\n`);
    return EXIT_OK;
  }
  process.stderr.write(
    `made an ECDSA P-256 key inside the token (${key.description}); it cannot be exported (SHA-256 of its public key: ${spkiSha256})\n` +
      `next: serve with --registry --registry-ca and either\n` +
      `  --registry-ca-root-key '${shown}'          (the root: self-signs <CA dir>/ca-root.crt on first run)\n` +
      `  --registry-ca-intermediate-key '${shown}'  (the issuing key: the root signs <CA dir>/ca-intermediate.crt on first run)\n` +
      `make one key per role (another object=); existing certificates in the CA dir must be of these keys, else serve refuses to start\n`,
  );
  process.stdout.write(pem);
  return EXIT_OK;
}
