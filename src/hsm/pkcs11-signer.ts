// Pkcs11Signer: an Ed25519 Signer (src/note/signer.ts) whose private key
// stays in a PKCS#11 token; signs with CKM_EDDSA (PKCS#11 3.0; SoftHSM2
// 2.6 has it). The public key is read from the token's public key object of
// the same label/ID (CKA_EC_POINT), so the verifier key and key ID come out
// exactly as for the same key in a file. At open, one test signature proves
// the private key belongs to that public key.
//
// Failure model:
//   at open   no module, no matching token, a wrong PIN, no such key, not an
//             Ed25519 key: SIGNER_CONFIG (the process refuses to start).
//   at sign   any PKCS#11 error (token removed, session closed, device error)
//             drops the session and throws SIGNER_UNAVAILABLE: nothing was
//             signed. The next sign() opens a new session (initialising the
//             module again if the slot list itself fails), finds the key
//             again and checks it has the same public key; a different key
//             under that name is never used. Every signature is verified
//             with the public key before it is returned, so a token that
//             answers garbage produces an error, not a bad checkpoint.

import * as crypto from 'node:crypto';
import type * as P from 'pkcs11js';
import { TilelogError } from '../errors.js';
import type { Signer } from '../note/signer.js';
import { CKK_EC_EDWARDS, CKM_EDDSA, ED25519_EC_PARAMS, ckr, loadPkcs11js, Pkcs11Module, type Handle } from './pkcs11-module.js';
import { formatPkcs11Uri, parsePkcs11Uri, type Pkcs11Uri } from './pkcs11-uri.js';

export interface Pkcs11SignerOptions {
  /** Module specifier of the binding (tests of a missing binding). */
  binding?: string;
}

interface Session {
  handle: Handle;
  key: Handle;
  generation: number;
}

const PROBE = new TextEncoder().encode('tilelog pkcs11 key check');

/** Opens the Ed25519 key named by a pkcs11: URI (text or parsed). */
export async function openPkcs11Signer(uri: string | Pkcs11Uri, options: Pkcs11SignerOptions = {}): Promise<Pkcs11Signer> {
  const parsed = typeof uri === 'string' ? parsePkcs11Uri(uri) : uri;
  const js = await loadPkcs11js(options.binding);
  return Pkcs11Signer.open(Pkcs11Module.get(js, parsed.modulePath), parsed);
}

export class Pkcs11Signer implements Signer {
  readonly algorithm = 'Ed25519' as const;
  readonly publicKey: Uint8Array;
  readonly description: string;
  readonly #module: Pkcs11Module;
  readonly #uri: Pkcs11Uri;
  readonly #verifyKey: crypto.KeyObject;
  #session: Session | null;
  /** Set once the token refused the PIN on a reconnect. */
  #pinRefused: TilelogError | null = null;
  /** Signatures that failed since open (metrics, tests). */
  failures = 0;

  private constructor(module: Pkcs11Module, uri: Pkcs11Uri, session: Session, publicKey: Uint8Array) {
    this.#module = module;
    this.#uri = uri;
    this.#session = session;
    this.publicKey = publicKey;
    this.description = `the PKCS#11 key ${formatPkcs11Uri(uri)}`;
    this.#verifyKey = crypto.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicKey).toString('base64url') }, format: 'jwk' });
  }

  /** @internal Use openPkcs11Signer(). */
  static open(module: Pkcs11Module, uri: Pkcs11Uri): Pkcs11Signer {
    if (uri.type !== undefined && uri.type !== 'private') {
      throw new TilelogError('SIGNER_CONFIG', `pkcs11: type=${uri.type} names no signing key; use type=private or leave type out`);
    }
    if (uri.path.object === undefined && uri.id === undefined) {
      throw new TilelogError('SIGNER_CONFIG', 'pkcs11: name the key with object=<label> (or id=)');
    }
    const session = openSession(module, uri);
    try {
      const publicKey = readPublicKey(module, session.handle, uri);
      const signer = new Pkcs11Signer(module, uri, session, publicKey);
      let sig: Uint8Array;
      try {
        sig = signer.#signIn(session, PROBE);
      } catch (err) {
        throw new TilelogError('SIGNER_CONFIG', `pkcs11: the key ${formatPkcs11Uri(uri)} cannot sign with CKM_EDDSA: ${ckr(err) ?? (err as Error).message}`, { cause: err });
      }
      if (!signer.#valid(PROBE, sig)) {
        throw new TilelogError('SIGNER_CONFIG', `pkcs11: the private key ${formatPkcs11Uri(uri)} does not match the public key object of the same name`);
      }
      return signer;
    } catch (err) {
      closeQuietly(module, session.handle);
      throw err;
    }
  }

  sign(message: Uint8Array): Uint8Array {
    // pkcs11js passes an empty buffer as a NULL pointer, which modules refuse (CKR_ARGUMENTS_BAD); tilelog never signs nothing.
    if (message.length === 0) throw new RangeError('pkcs11: refusing to sign an empty message');
    let session: Session;
    try {
      session = this.#ensureSession();
    } catch (err) {
      this.failures++;
      throw unavailable(`cannot open a session on the token (${reason(err)})`, err);
    }
    let sig: Uint8Array;
    try {
      sig = this.#signIn(session, message);
    } catch (err) {
      this.failures++;
      this.#drop();
      throw unavailable(`the token refused to sign (${reason(err)})`, err);
    }
    if (!this.#valid(message, sig)) {
      this.failures++;
      this.#drop();
      throw unavailable('the token returned a signature that does not verify with the key\'s public key', null);
    }
    return sig;
  }

  /** Closes this signer's session (the module stays loaded for other signers). */
  close(): void {
    this.#drop();
  }

  #signIn(session: Session, message: Uint8Array): Uint8Array {
    const { lib } = this.#module;
    lib.C_SignInit(session.handle, { mechanism: CKM_EDDSA }, session.key);
    return new Uint8Array(lib.C_Sign(session.handle, Buffer.from(message.buffer, message.byteOffset, message.byteLength), Buffer.alloc(64)));
  }

  #valid(message: Uint8Array, sig: Uint8Array): boolean {
    return sig.length === 64 && crypto.verify(null, message, this.#verifyKey, sig);
  }

  // #ensureSession: the open session, or a new one on the same key (its
  // public key must be the one read at open).
  #ensureSession(): Session {
    const s = this.#session;
    if (s !== null && s.generation === this.#module.generation) return s;
    this.#session = null;
    if (this.#pinRefused !== null) throw this.#pinRefused;
    let session: Session;
    try {
      session = this.#reopen();
    } catch (err) {
      if (!pinRefused(err)) throw err;
      // Retrying a refused PIN on every pass would lock the token (a retry counter); stop until restarted.
      this.#pinRefused = new TilelogError('SIGNER_UNAVAILABLE', `${(err as Error).message}; this process will not try it again: fix the PIN file and restart`, { cause: err });
      throw this.#pinRefused;
    }
    try {
      const pub = readPublicKey(this.#module, session.handle, this.#uri);
      if (!Buffer.from(pub).equals(Buffer.from(this.publicKey))) {
        throw new TilelogError('SIGNER_UNAVAILABLE', 'pkcs11: the key under this name now has another public key; refusing to sign with it');
      }
    } catch (err) {
      closeQuietly(this.#module, session.handle);
      throw err;
    }
    this.#session = session;
    return session;
  }

  // #reopen: a new session. A module often cannot see a token that came back
  // (SoftHSM2 reads its token directory at C_Initialize, and answers
  // CKR_GENERAL_ERROR to slot calls once a token vanished) until it is
  // initialised again; a refused PIN is not retried.
  #reopen(): Session {
    try {
      return openSession(this.#module, this.#uri);
    } catch (err) {
      if (pinRefused(err)) throw err;
      this.#module.reinitialize();
      return openSession(this.#module, this.#uri);
    }
  }

  #drop(): void {
    const s = this.#session;
    this.#session = null;
    if (s !== null && s.generation === this.#module.generation) closeQuietly(this.#module, s.handle);
  }
}

// openSession(module, uri): a logged-in session on uri's token, and the
// handle of its private key.
function openSession(module: Pkcs11Module, uri: Pkcs11Uri): Session {
  const { lib, js } = module;
  const generation = module.generation;
  const slot = module.findSlot(uri);
  const handle = lib.C_OpenSession(slot, js.CKF_SERIAL_SESSION);
  try {
    module.login(handle, uri);
    const keys = module.findObjects(handle, keyTemplate(module, uri, js.CKO_PRIVATE_KEY));
    if (keys.length === 0) {
      throw new TilelogError('SIGNER_CONFIG', `pkcs11: no private key ${nameOf(uri)} in the token; create one with 'tilelog keygen --key <this URI>'`);
    }
    if (keys.length > 1) throw new TilelogError('SIGNER_CONFIG', `pkcs11: ${keys.length} private keys are named ${nameOf(uri)}; add id= to the URI`);
    const key = keys[0]!;
    const [kt] = lib.C_GetAttributeValue(handle, key, [{ type: js.CKA_KEY_TYPE }]);
    if (kt === undefined || kt.value.readUInt32LE(0) !== CKK_EC_EDWARDS) {
      throw new TilelogError('SIGNER_CONFIG', `pkcs11: the key ${nameOf(uri)} is not an Ed25519 (CKK_EC_EDWARDS) key`);
    }
    return { handle, key, generation };
  } catch (err) {
    closeQuietly(module, handle);
    throw err;
  }
}

// readPublicKey: the 32-byte Ed25519 key of the public key object named like
// the private key. CKA_EC_POINT is a DER OCTET STRING (04 20 || key) in
// PKCS#11 3.0; some modules store the 32 bytes bare.
function readPublicKey(module: Pkcs11Module, session: Handle, uri: Pkcs11Uri): Uint8Array {
  const { lib, js } = module;
  const found = module.findObjects(session, keyTemplate(module, uri, js.CKO_PUBLIC_KEY));
  if (found.length !== 1) {
    throw new TilelogError(
      'SIGNER_CONFIG',
      `pkcs11: want one public key object ${nameOf(uri)} beside the private key (found ${found.length}); tilelog reads the public key from it`,
    );
  }
  const [params, point] = lib.C_GetAttributeValue(session, found[0]!, [{ type: js.CKA_EC_PARAMS }, { type: js.CKA_EC_POINT }]);
  const p = params?.value ?? Buffer.alloc(0);
  if (!p.equals(Buffer.from(ED25519_EC_PARAMS)) && p.toString('latin1') !== '\x13\x0cedwards25519') {
    throw new TilelogError('SIGNER_CONFIG', `pkcs11: the key ${nameOf(uri)} is not on edwards25519 (Ed448 and other curves are not supported)`);
  }
  const v = point?.value ?? Buffer.alloc(0);
  if (v.length === 34 && v[0] === 0x04 && v[1] === 0x20) return new Uint8Array(v.subarray(2));
  if (v.length === 32) return new Uint8Array(v);
  throw new TilelogError('SIGNER_CONFIG', `pkcs11: the public key ${nameOf(uri)} has a CKA_EC_POINT of ${v.length} bytes, not an Ed25519 point`);
}

/** The search template of uri's key of class cls (CKA_LABEL from object=, CKA_ID from id=). */
export function keyTemplate(module: Pkcs11Module, uri: Pkcs11Uri, cls: number): P.Template {
  const { js } = module;
  const t: P.Template = [{ type: js.CKA_CLASS, value: cls }];
  if (uri.path.object !== undefined) t.push({ type: js.CKA_LABEL, value: uri.path.object });
  if (uri.id !== undefined) t.push({ type: js.CKA_ID, value: Buffer.from(uri.id) });
  return t;
}

export function nameOf(uri: Pkcs11Uri): string {
  const parts: string[] = [];
  if (uri.path.object !== undefined) parts.push(`object=${JSON.stringify(uri.path.object)}`);
  if (uri.id !== undefined) parts.push(`id=${Buffer.from(uri.id).toString('hex')}`);
  return parts.join(' ');
}

function pinRefused(err: unknown): boolean {
  const code = err instanceof TilelogError ? ckr(err.cause) : null;
  return code === 'CKR_PIN_INCORRECT' || code === 'CKR_PIN_LOCKED' || code === 'CKR_PIN_LEN_RANGE';
}

function closeQuietly(module: Pkcs11Module, session: Handle): void {
  try {
    module.lib.C_CloseSession(session);
  } catch {
    // the session is gone already (token removed, module finalised)
  }
}

function reason(err: unknown): string {
  return ckr(err) ?? (err instanceof Error ? err.message : String(err));
}

function unavailable(what: string, cause: unknown): TilelogError {
  return new TilelogError(
    'SIGNER_UNAVAILABLE',
    `pkcs11: ${what}; nothing was signed; the next attempt opens a new session (is the token present and the HSM reachable?)`,
    cause === null ? undefined : { cause },
  );
}
