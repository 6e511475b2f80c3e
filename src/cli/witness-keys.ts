// The witness's cosigner keys for `tilelog witness serve`: a key file or a
// key in a PKCS#11 token, and the check that it is not a log's key.

import type { SqliteWitnessStore } from '../witness/sqlite-store.js';
import { KEY_TYPE_COSIGNATURE_V1, parseCosignerKey, parseVerifierKey, signerKeyType, type CosignatureSigner } from '../note/index.js';
import { CliError, UsageError } from './common.js';
import { readPrivateKeyFile } from './key-file.js';
import { isPkcs11Uri, openTokenCosigner } from './signing-key.js';

// A cosigner from a key file or a token; a file key carries its name, a token key takes it from nameFlag.
export async function openCosigner(key: string, name: string | undefined, nameFlag: string): Promise<{ signer: CosignatureSigner; type: number }> {
  const opened = isPkcs11Uri(key) ? { signer: await openTokenCosigner(key, name), type: KEY_TYPE_COSIGNATURE_V1 } : readCosignerKeyFile(key);
  if (name !== undefined && name !== opened.signer.name) throw new UsageError(`${nameFlag} ${name} differs from the key's name ${opened.signer.name}; leave out ${nameFlag} with a key file`);
  return opened;
}


/** The cosigner and the type byte of its key string (its role: see checkWitnessKeyRole). */
function readCosignerKeyFile(file: string): { signer: CosignatureSigner; type: number } {
  return readPrivateKeyFile(file, (skey) => ({ signer: parseCosignerKey(skey), type: signerKeyType(skey) }), `tilelog witness keygen --name <name> --out ${file}`);
}

const NEW_WITNESS_KEY = "make the witness its own key with 'tilelog witness keygen --name <name> --out <file>' and configure logs with the verifier key it prints";

/**
 * A witness must not sign with a log's key: its cosignatures would then
 * vouch for nothing. Refused when the key is one the witness trusts as a
 * log's (same Ed25519 public key); a plain type 0x01 key otherwise gets a
 * loud warning, since that is what 'tilelog keygen' makes for logs (and also
 * what other witness software writes); a type 0x04 key is a witness key.
 */
export function checkWitnessKeyRole(file: string, signer: CosignatureSigner, type: number, store: SqliteWitnessStore): void {
  for (const { origin, keys } of store.listLogs()) {
    for (const vkey of keys) {
      const logKey = parseVerifierKey(vkey);
      if (Buffer.from(logKey.publicKey).equals(Buffer.from(signer.publicKey))) {
        throw new CliError(`${file} is the signing key of log ${origin} (${vkey}), which this witness cosigns; a witness needs a key of its own: ${NEW_WITNESS_KEY}`);
      }
    }
  }
  if (type === KEY_TYPE_COSIGNATURE_V1) return;
  process.stderr.write(
    `WARNING: ${file} is a plain Ed25519 note key (type 0x01), the kind 'tilelog keygen' makes for logs, not a witness key (type 0x04).\n` +
      `WARNING: if it is a log's key, stop: cosignatures made with a log's own key prove nothing; ${NEW_WITNESS_KEY}.\n` +
      `WARNING: keys made by other witness software are type 0x01 too; for those this warning is expected.\n`,
  );
}
