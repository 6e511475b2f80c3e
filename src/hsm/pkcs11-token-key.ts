// TokenKey: one private key in a PKCS#11 token and the session it signs in,
// shared by the Ed25519 note signer (pkcs11-signer.ts) and the ECDSA P-256
// CA signer (pkcs11-ecdsa.ts). What differs between them (the key type, how
// the public key object is read, the mechanism) comes in a KeyKind; what is
// the same (finding the key, logging in, getting over a token that went
// away) lives here once.
//
// Failure model:
//   at open   no module, no matching token, a wrong PIN, no such key, a key
//             of another type: SIGNER_CONFIG (the process refuses to start).
//   at sign   any PKCS#11 error (token removed, session closed, device error)
//             drops the session and throws SIGNER_UNAVAILABLE: nothing was
//             signed. The next signature opens a new session (initialising
//             the module again if the slot list itself fails), finds the key
//             again and checks it has the same public key; a different key
//             under that name is never used. A refused PIN on a reconnect is
//             not tried again (a retry counter would lock the token).
// The caller verifies every signature with publicKey before it uses it, and
// reports one that does not verify through rejected().

import type * as P from 'pkcs11js';
import { TilelogError } from '../errors.js';
import { ckr, type Handle, type Pkcs11Module } from './pkcs11-module.js';
import { formatPkcs11Uri, type Pkcs11Uri } from './pkcs11-uri.js';

/** What one kind of key (Ed25519, ECDSA P-256) needs from the token. */
export interface KeyKind {
  /** CKA_KEY_TYPE the private key must have. */
  readonly keyType: number;
  /** The key type for messages, e.g. 'an Ed25519 (CKK_EC_EDWARDS)'. */
  readonly name: string;
  /** The command that makes such a key, for the message when none is found. */
  readonly createWith: string;
  /** The public key of the public key object named like the private key (SIGNER_CONFIG when it is not of this kind). */
  readPublicKey(module: Pkcs11Module, session: Handle, uri: Pkcs11Uri): Uint8Array;
}

interface Session {
  handle: Handle;
  key: Handle;
  generation: number;
}

export class TokenKey {
  readonly publicKey: Uint8Array;
  /** The key's URI, for messages (it never holds a PIN: pin-value is refused at parse). */
  readonly description: string;
  /** Signatures that failed since open (metrics, tests). */
  failures = 0;
  readonly #module: Pkcs11Module;
  readonly #uri: Pkcs11Uri;
  readonly #kind: KeyKind;
  #session: Session | null;
  /** Set once the token refused the PIN on a reconnect. */
  #pinRefused: TilelogError | null = null;

  private constructor(module: Pkcs11Module, uri: Pkcs11Uri, kind: KeyKind, session: Session, publicKey: Uint8Array) {
    this.#module = module;
    this.#uri = uri;
    this.#kind = kind;
    this.#session = session;
    this.publicKey = publicKey;
    this.description = `the PKCS#11 key ${formatPkcs11Uri(uri)}`;
  }

  /** Opens a session on uri's key and reads its public key; SIGNER_CONFIG saying what is wrong. */
  static open(module: Pkcs11Module, uri: Pkcs11Uri, kind: KeyKind): TokenKey {
    if (uri.type !== undefined && uri.type !== 'private') {
      throw new TilelogError('SIGNER_CONFIG', `pkcs11: type=${uri.type} names no signing key; use type=private or leave type out`);
    }
    if (uri.path.object === undefined && uri.id === undefined) {
      throw new TilelogError('SIGNER_CONFIG', 'pkcs11: name the key with object=<label> (or id=)');
    }
    const session = openSession(module, uri, kind);
    try {
      return new TokenKey(module, uri, kind, session, kind.readPublicKey(module, session.handle, uri));
    } catch (err) {
      closeQuietly(module, session.handle);
      throw err;
    }
  }

  /**
   * The first signature, at open: a failure is SIGNER_CONFIG naming the
   * mechanism (the key or the token cannot do it), not a passing outage.
   */
  probe(mechanism: P.Mechanism, data: Uint8Array, maxLength: number, mechanismName: string): Uint8Array {
    try {
      return this.#signIn(this.#ensureSession(), mechanism, data, maxLength);
    } catch (err) {
      throw new TilelogError('SIGNER_CONFIG', `pkcs11: the key ${formatPkcs11Uri(this.#uri)} cannot sign with ${mechanismName}: ${reason(err)}`, { cause: err });
    }
  }

  /** The token's signature of data with mechanism (at most maxLength bytes); SIGNER_UNAVAILABLE when it cannot sign now. */
  sign(mechanism: P.Mechanism, data: Uint8Array, maxLength: number): Uint8Array {
    // pkcs11js passes an empty buffer as a NULL pointer, which modules refuse (CKR_ARGUMENTS_BAD); tilelog never signs nothing.
    if (data.length === 0) throw new RangeError('pkcs11: refusing to sign an empty message');
    let session: Session;
    try {
      session = this.#ensureSession();
    } catch (err) {
      this.failures++;
      throw unavailable(`cannot open a session on the token (${reason(err)})`, err);
    }
    try {
      return this.#signIn(session, mechanism, data, maxLength);
    } catch (err) {
      this.failures++;
      this.#drop();
      throw unavailable(`the token refused to sign (${reason(err)})`, err);
    }
  }

  /** For a signature that did not verify with publicKey: counts it, drops the session, and returns the error to throw. */
  rejected(): TilelogError {
    this.failures++;
    this.#drop();
    return unavailable("the token returned a signature that does not verify with the key's public key", null);
  }

  /** Closes this key's session (the module stays loaded for other keys). */
  close(): void {
    this.#drop();
  }

  #signIn(session: Session, mechanism: P.Mechanism, data: Uint8Array, maxLength: number): Uint8Array {
    const { lib } = this.#module;
    lib.C_SignInit(session.handle, mechanism, session.key);
    return new Uint8Array(lib.C_Sign(session.handle, Buffer.from(data.buffer, data.byteOffset, data.byteLength), Buffer.alloc(maxLength)));
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
      const pub = this.#kind.readPublicKey(this.#module, session.handle, this.#uri);
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
      return openSession(this.#module, this.#uri, this.#kind);
    } catch (err) {
      if (pinRefused(err)) throw err;
      this.#module.reinitialize();
      return openSession(this.#module, this.#uri, this.#kind);
    }
  }

  #drop(): void {
    const s = this.#session;
    this.#session = null;
    if (s !== null && s.generation === this.#module.generation) closeQuietly(this.#module, s.handle);
  }
}

// openSession(module, uri, kind): a logged-in session on uri's token, and
// the handle of its private key (which must be of kind's type).
function openSession(module: Pkcs11Module, uri: Pkcs11Uri, kind: KeyKind): Session {
  const { lib, js } = module;
  const generation = module.generation;
  const slot = module.findSlot(uri);
  const handle = lib.C_OpenSession(slot, js.CKF_SERIAL_SESSION);
  try {
    module.login(handle, uri);
    const keys = module.findObjects(handle, keyTemplate(module, uri, js.CKO_PRIVATE_KEY));
    if (keys.length === 0) {
      throw new TilelogError('SIGNER_CONFIG', `pkcs11: no private key ${nameOf(uri)} in the token; create one with '${kind.createWith}'`);
    }
    if (keys.length > 1) throw new TilelogError('SIGNER_CONFIG', `pkcs11: ${keys.length} private keys are named ${nameOf(uri)}; add id= to the URI`);
    const key = keys[0]!;
    const [kt] = lib.C_GetAttributeValue(handle, key, [{ type: js.CKA_KEY_TYPE }]);
    if (kt === undefined || kt.value.readUInt32LE(0) !== kind.keyType) {
      throw new TilelogError('SIGNER_CONFIG', `pkcs11: the key ${nameOf(uri)} is not ${kind.name} key`);
    }
    return { handle, key, generation };
  } catch (err) {
    closeQuietly(module, handle);
    throw err;
  }
}

/** The one public key object named like uri's private key; SIGNER_CONFIG when there is none or several. */
export function publicKeyObject(module: Pkcs11Module, session: Handle, uri: Pkcs11Uri): Handle {
  const found = module.findObjects(session, keyTemplate(module, uri, module.js.CKO_PUBLIC_KEY));
  if (found.length !== 1) {
    throw new TilelogError(
      'SIGNER_CONFIG',
      `pkcs11: want one public key object ${nameOf(uri)} beside the private key (found ${found.length}); tilelog reads the public key from it`,
    );
  }
  return found[0]!;
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
