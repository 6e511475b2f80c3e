// A new intermediate key in the PKCS#11 token of the configured one: the
// rotation of a CA whose intermediate is a pkcs11: URI. The admin names only
// the label of a key already made in that token (tilelog keygen --ca --key
// '<URI>;object=<label>'); the URI is the configured one with the object
// replaced. Never more than the label comes over HTTP: a module path or a
// PIN source there would let an admin key make the server load any shared
// library or read any file.

import { TilelogError } from '../errors.js';
import { formatPkcs11Uri, parsePkcs11Uri, redactPkcs11Uri } from '../hsm/pkcs11-uri.js';
import { openCaSigner, type CaSigner } from './signer.js';

/** A token object label: 1-64 characters, letters, digits, '.', '_', '-' (no escaping needed in a URI). */
const LABEL = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The URI of object in the token of base: base's token, module and PIN source; its object, id and type dropped. */
export function siblingKeyUri(base: string, object: string): string {
  if (typeof object !== 'string' || !LABEL.test(object)) {
    throw new TilelogError('CA_BAD_REQUEST', "ca: object must be a token key label of 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit");
  }
  const { id: _id, type: _type, ...rest } = parsePkcs11Uri(base);
  return formatPkcs11Uri({ ...rest, path: { ...rest.path, object } });
}

/** Opens the key object in the token of base; CA_BAD_REQUEST saying how to make it when the token has none. */
export async function openSiblingKey(base: string, object: string): Promise<{ uri: string; signer: CaSigner }> {
  const uri = siblingKeyUri(base, object);
  try {
    return { uri, signer: await openCaSigner(uri) };
  } catch (err) {
    if (!(err instanceof TilelogError && err.code === 'SIGNER_CONFIG')) throw err;
    throw new TilelogError(
      'CA_BAD_REQUEST',
      `ca: cannot use the token key object=${object} as the new intermediate (${err.message}); make it first with tilelog keygen --ca --key '${redactPkcs11Uri(uri)}'`,
      { cause: err },
    );
  }
}

/** The rotation's answer to a request without an object on a token CA, or with one on a file CA. */
export function objectMismatch(tokenUri: string | null): TilelogError {
  return tokenUri === null
    ? new TilelogError(
        'CA_BAD_REQUEST',
        'ca: this CA keeps its intermediate in a key file, so a rotation makes a new key file; rotate without object, or serve with --registry-ca-intermediate-key pkcs11:... to keep intermediates in a token',
      )
    : new TilelogError(
        'CA_BAD_REQUEST',
        `ca: this CA keeps its intermediate in a PKCS#11 token; make the new key there (tilelog keygen --ca --key '${redactPkcs11Uri(siblingKeyUri(tokenUri, 'LABEL'))}') and rotate with its label (tilelog ca rotate --object LABEL, or {"object": "LABEL"})`,
      );
}
