// Making Ed25519 keys inside a PKCS#11 token: generated there (the private
// key never exists outside the token), or imported from a seed (moving an
// existing log's key file into a token: a log's identity is its key, so an
// existing log keeps it). Either way the private key object is a token
// object, private, sensitive and not extractable (CKA_VALUE can never be
// read back), with a public key object of the same label and ID beside it
// (the signer reads the public key from it). An existing key of that name
// is never replaced.

import * as crypto from 'node:crypto';
import type * as P from 'pkcs11js';
import { TilelogError } from '../errors.js';
import { CKK_EC_EDWARDS, CKM_EC_EDWARDS_KEY_PAIR_GEN, ED25519_EC_PARAMS, ckr, loadPkcs11js, Pkcs11Module, type Handle } from './pkcs11-module.js';
import { Pkcs11Signer, type Pkcs11SignerOptions } from './pkcs11-signer.js';
import { keyTemplate, nameOf } from './pkcs11-token-key.js';
import { parsePkcs11Uri, type Pkcs11Uri } from './pkcs11-uri.js';

/** Generates a new Ed25519 key pair in the token named by uri and opens a signer on it. */
export async function generatePkcs11Key(uri: string | Pkcs11Uri, options: Pkcs11SignerOptions = {}): Promise<Pkcs11Signer> {
  return openEd25519(await makeKeyObjects(uri, options, ED25519_EC_PARAMS, (module, session, priv, pub) => {
    try {
      module.lib.C_GenerateKeyPair(session, { mechanism: CKM_EC_EDWARDS_KEY_PAIR_GEN }, pub, priv);
    } catch (err) {
      throw new TilelogError('SIGNER_CONFIG', `pkcs11: the token cannot generate an Ed25519 key (CKM_EC_EDWARDS_KEY_PAIR_GEN: ${ckr(err) ?? (err as Error).message})`, {
        cause: err,
      });
    }
  }));
}

/** Stores the Ed25519 key of a 32-byte seed in the token named by uri (not extractable from then on) and opens a signer on it. */
export async function importPkcs11Key(uri: string | Pkcs11Uri, seed: Uint8Array, options: Pkcs11SignerOptions = {}): Promise<Pkcs11Signer> {
  if (!(seed instanceof Uint8Array) || seed.length !== 32) throw new RangeError('pkcs11: an Ed25519 seed is 32 bytes');
  const publicKey = ed25519PublicKey(seed);
  return openEd25519(await makeKeyObjects(uri, options, ED25519_EC_PARAMS, (module, session, priv, pub) => {
    const { lib, js } = module;
    lib.C_CreateObject(session, [
      { type: js.CKA_CLASS, value: js.CKO_PUBLIC_KEY },
      { type: js.CKA_KEY_TYPE, value: CKK_EC_EDWARDS },
      ...pub,
      { type: js.CKA_EC_POINT, value: Buffer.concat([Buffer.from([0x04, 0x20]), publicKey]) },
    ]);
    lib.C_CreateObject(session, [
      { type: js.CKA_CLASS, value: js.CKO_PRIVATE_KEY },
      { type: js.CKA_KEY_TYPE, value: CKK_EC_EDWARDS },
      ...priv,
      { type: js.CKA_EC_PARAMS, value: Buffer.from(ED25519_EC_PARAMS) },
      { type: js.CKA_VALUE, value: Buffer.from(seed) },
    ]);
  }));
}

function openEd25519(made: { module: Pkcs11Module; uri: Pkcs11Uri }): Pkcs11Signer {
  return Pkcs11Signer.open(made.module, made.uri);
}

export type MakeKeyObjects = (module: Pkcs11Module, session: Handle, privateTemplate: P.Template, publicTemplate: P.Template) => void;

/**
 * Runs make in a read-write session on uri's token with the templates of a
 * new key pair (token objects labelled from object=, the private one
 * private, sensitive and not extractable, the public one carrying
 * ecParams); refuses a label already in use. Returns where it made them.
 */
export async function makeKeyObjects(
  uri: string | Pkcs11Uri,
  options: Pkcs11SignerOptions,
  ecParams: Uint8Array,
  make: MakeKeyObjects,
): Promise<{ module: Pkcs11Module; uri: Pkcs11Uri }> {
  const parsed = typeof uri === 'string' ? parsePkcs11Uri(uri) : uri;
  if (parsed.path.object === undefined) throw new TilelogError('SIGNER_CONFIG', 'pkcs11: a new key needs a label: add object=<name> to the URI');
  if (parsed.type !== undefined && parsed.type !== 'private') throw new TilelogError('SIGNER_CONFIG', `pkcs11: type=${parsed.type} is not a key pair; leave type out`);
  const js = await loadPkcs11js(options.binding);
  const module = Pkcs11Module.get(js, parsed.modulePath);
  const { lib } = module;
  const slot = module.findSlot(parsed);
  const session = lib.C_OpenSession(slot, js.CKF_SERIAL_SESSION | js.CKF_RW_SESSION);
  try {
    module.login(session, parsed);
    for (const cls of [js.CKO_PRIVATE_KEY, js.CKO_PUBLIC_KEY]) {
      if (module.findObjects(session, keyTemplate(module, parsed, cls)).length > 0) {
        throw new TilelogError('SIGNER_CONFIG', `pkcs11: the token already holds a key ${nameOf(parsed)}; refusing to replace it (pick another object=)`);
      }
    }
    // CKA_ID links the pair for tools that match keys by ID; a random one unless the URI gives it.
    const id = Buffer.from(parsed.id ?? crypto.randomBytes(16));
    const common: P.Template = [
      { type: js.CKA_TOKEN, value: true },
      { type: js.CKA_LABEL, value: parsed.path.object },
      { type: js.CKA_ID, value: id },
    ];
    const priv: P.Template = [
      ...common,
      { type: js.CKA_PRIVATE, value: true },
      { type: js.CKA_SENSITIVE, value: true },
      { type: js.CKA_EXTRACTABLE, value: false },
      { type: js.CKA_SIGN, value: true },
    ];
    const pub: P.Template = [...common, { type: js.CKA_PRIVATE, value: false }, { type: js.CKA_VERIFY, value: true }, { type: js.CKA_EC_PARAMS, value: Buffer.from(ecParams) }];
    make(module, session, priv, pub);
  } finally {
    try {
      lib.C_CloseSession(session);
    } catch {
      // gone already
    }
  }
  return { module, uri: parsed };
}

function ed25519PublicKey(seed: Uint8Array): Buffer {
  const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
  const jwk = crypto.createPublicKey(crypto.createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' })).export({ format: 'jwk' });
  return Buffer.from(jwk.x!, 'base64url');
}
