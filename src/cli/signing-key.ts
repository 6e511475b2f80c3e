// What a --key value names: a key file (PRIVATE+KEY+..., mode 0600) or a key
// in a PKCS#11 token (an RFC 7512 pkcs11: URI). A key in a token carries no
// note key name, so the name comes from the command line (--origin for a
// log, --name for a witness); the verifier key and key ID are derived from
// the public key read from the token, exactly as for a file key.
//
// The PKCS#11 code (and its native binding) is imported only when a pkcs11:
// URI is given.

import { noteSigner, type Ed25519Signer } from '../note/index.js';
import { cosignatureSigner, type CosignatureSigner } from '../note/cosignature.js';
import type { Signer } from '../note/signer.js';
import { isPkcs11Uri, redactPkcs11Uri } from '../hsm/pkcs11-uri.js';
import { UsageError } from './common.js';

export { isPkcs11Uri };

/** A --key value as it may be printed (--print-config, messages): a PIN given in a URI by mistake is hidden. */
export function printableKey(spec: string): string {
  return isPkcs11Uri(spec) ? redactPkcs11Uri(spec) : spec;
}

/** Opens the token key a pkcs11: URI names (SIGNER_CONFIG saying what is wrong when it cannot). */
export async function openTokenKey(uri: string): Promise<Signer> {
  const { openPkcs11Signer } = await import('../hsm/pkcs11-signer.js');
  return openPkcs11Signer(uri);
}

/** A log's note signer from a pkcs11: URI; name is the log's origin (--origin, which a token key needs). */
export async function openTokenLogKey(uri: string, name: string | undefined, flag = '--origin'): Promise<Ed25519Signer> {
  if (name === undefined) {
    throw new UsageError(`a key in a PKCS#11 token carries no name: give ${flag} <origin> with --key pkcs11:... (the log's origin is its key's name)`);
  }
  return noteSigner(name, await openTokenKey(uri), 0x01);
}

/** A witness's cosigner from a pkcs11: URI; name is the witness name (--name). */
export async function openTokenCosigner(uri: string, name: string | undefined): Promise<CosignatureSigner> {
  if (name === undefined) throw new UsageError('a key in a PKCS#11 token carries no name: give --name <witness name> with --key pkcs11:...');
  return cosignatureSigner(name, await openTokenKey(uri));
}
