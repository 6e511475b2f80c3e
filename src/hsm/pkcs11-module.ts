// Loading PKCS#11 modules through the optional `pkcs11js` binding, and
// finding a token and its keys in them.
//
// pkcs11js is an optional peer dependency (a native addon built with
// node-gyp at install), imported on first use of a pkcs11: URI, like the S3
// SDK and pg: a log with its key in a file never loads or needs it. Its types
// appear only here and in private members.
//
// A module is initialised once per process and path (C_Initialize is
// process-wide; every signer on that module shares it). reinitialize() (a
// C_Finalize and C_Initialize) is how a signer gets over a token that went
// away and came back: SoftHSM2, like many HSM client libraries, answers
// CKR_GENERAL_ERROR to every slot call once its token vanished, until the
// library is initialised again. It closes every session of the module, so
// each signer keeps the generation it opened its session in and opens a new
// one when that changed.

import * as fs from 'node:fs';
import type * as P from 'pkcs11js';
import { TilelogError } from '../errors.js';
import type { Pkcs11Uri } from './pkcs11-uri.js';

export type Pkcs11Js = typeof import('pkcs11js');
export type Handle = Buffer;

/** The npm package (and version) a pkcs11: key needs; printed when it is missing. */
export const PKCS11_PACKAGE = 'pkcs11js@2.1.7';

// PKCS#11 3.0 names pkcs11js 2.1.7 does not export (values from the 3.0 headers).
export const CKK_EC_EDWARDS = 0x40;
export const CKM_EC_EDWARDS_KEY_PAIR_GEN = 0x1055;
export const CKM_EDDSA = 0x1057;
/** DER OID 1.3.101.112 (id-Ed25519, RFC 8410): CKA_EC_PARAMS of an Ed25519 key. */
export const ED25519_EC_PARAMS = new Uint8Array([0x06, 0x03, 0x2b, 0x65, 0x70]);

let loading: Promise<Pkcs11Js> | null = null;

// loadPkcs11js(specifier): the binding, or SIGNER_CONFIG naming the npm
// command when it is not installed.
export function loadPkcs11js(specifier = 'pkcs11js'): Promise<Pkcs11Js> {
  if (specifier !== 'pkcs11js') return importBinding(specifier);
  loading ??= importBinding(specifier).catch((err: unknown) => {
    loading = null;
    throw err;
  });
  return loading;
}

async function importBinding(specifier: string): Promise<Pkcs11Js> {
  try {
    const mod = (await import(specifier)) as Pkcs11Js & { default?: Pkcs11Js };
    return mod.default ?? mod;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw err;
    throw new TilelogError(
      'SIGNER_CONFIG',
      `pkcs11: a key in a PKCS#11 token needs the optional package ${PKCS11_PACKAGE} (a native addon: python3, make and a C++ compiler build it), which is not installed; run: npm install ${PKCS11_PACKAGE}`,
      { cause: err },
    );
  }
}

/** The CKR_ name of a PKCS#11 error (pkcs11js puts it in the message), or null for another error. */
export function ckr(err: unknown): string | null {
  if (!(err instanceof Error)) return null;
  const m = /\b(CKR_[A-Z0-9_]+)\b/.exec(err.message);
  return m === null ? null : m[1]!;
}

/** One loaded, initialised PKCS#11 module. */
export class Pkcs11Module {
  /** Bumped by every reinitialize(): sessions from an older generation are gone. */
  generation = 0;

  private constructor(
    readonly js: Pkcs11Js,
    readonly lib: P.PKCS11,
    readonly path: string,
  ) {}

  static #open = new Map<string, Pkcs11Module>();

  /** The module at path, loaded and initialised once per process. */
  static get(js: Pkcs11Js, path: string): Pkcs11Module {
    const known = Pkcs11Module.#open.get(path);
    if (known !== undefined) return known;
    if (!fs.existsSync(path)) {
      throw new TilelogError('SIGNER_CONFIG', `pkcs11: module-path ${path} does not exist; install the HSM's PKCS#11 library (SoftHSM2: apt-get install softhsm2)`);
    }
    const lib = new js.PKCS11();
    try {
      lib.load(path);
      initialize(lib);
    } catch (err) {
      throw new TilelogError('SIGNER_CONFIG', `pkcs11: cannot load the module ${path}: ${ckr(err) ?? (err as Error).message}`, { cause: err });
    }
    const m = new Pkcs11Module(js, lib, path);
    Pkcs11Module.#open.set(path, m);
    return m;
  }

  /** Finalises every module this process loaded (tests; a process exit does it too). */
  static finalizeAll(): void {
    for (const m of Pkcs11Module.#open.values()) {
      try {
        m.lib.C_Finalize();
      } catch {
        // already finalised
      }
    }
    Pkcs11Module.#open.clear();
  }

  /** C_Finalize then C_Initialize: every session of this module closes. */
  reinitialize(): void {
    this.generation++;
    try {
      this.lib.C_Finalize();
    } catch {
      // not initialised: fine, initialise below
    }
    initialize(this.lib);
  }

  // findSlot(uri): the one slot whose token matches uri's token and slot
  // attributes; SIGNER_CONFIG (listing the tokens present) when none or
  // several match.
  findSlot(uri: Pkcs11Uri): Handle {
    const { lib } = this;
    const want = uri.path;
    const found: Handle[] = [];
    const seen: string[] = [];
    for (const slot of lib.C_GetSlotList(true)) {
      const t = lib.C_GetTokenInfo(slot);
      const s = lib.C_GetSlotInfo(slot);
      seen.push(JSON.stringify(t.label.trimEnd()));
      const ok =
        matches(want.token, t.label) &&
        matches(want.manufacturer, t.manufacturerID) &&
        matches(want.serial, t.serialNumber) &&
        matches(want.model, t.model) &&
        matches(want['slot-description'], s.slotDescription) &&
        matches(want['slot-manufacturer'], s.manufacturerID) &&
        (uri.slotId === undefined || slotIdOf(slot) === uri.slotId);
      if (ok) found.push(slot);
    }
    const present = seen.length === 0 ? 'no token is present' : `tokens present: ${seen.join(', ')}`;
    if (found.length === 0) {
      throw new TilelogError('SIGNER_CONFIG', `pkcs11: no token in ${this.path} matches the URI (token=${JSON.stringify(want.token ?? '')}); ${present}`);
    }
    if (found.length > 1) throw new TilelogError('SIGNER_CONFIG', `pkcs11: ${found.length} tokens match the URI (${present}); add token=, serial= or slot-id=`);
    return found[0]!;
  }

  // login(session, uri): logs the user in with the PIN from uri's pin file
  // (already logged in: fine, the login is per token and application).
  login(session: Handle, uri: Pkcs11Uri): void {
    const pin = uri.pinFile === undefined ? undefined : readPin(uri.pinFile);
    try {
      this.lib.C_Login(session, this.js.CKU_USER, pin);
    } catch (err) {
      const code = ckr(err);
      if (code === 'CKR_USER_ALREADY_LOGGED_IN') return;
      if (code === 'CKR_PIN_INCORRECT' || code === 'CKR_PIN_LEN_RANGE') {
        throw new TilelogError('SIGNER_CONFIG', `pkcs11: the token refused the PIN in ${uri.pinFile ?? '(none given)'} (${code}): fix the pin-source file`, { cause: err });
      }
      if (code === 'CKR_PIN_LOCKED') throw new TilelogError('SIGNER_CONFIG', 'pkcs11: the user PIN is locked (too many wrong PINs); unlock it with the SO PIN', { cause: err });
      throw err;
    }
  }

  // findObjects(session, template): every object matching template.
  findObjects(session: Handle, template: P.Template): Handle[] {
    const { lib } = this;
    lib.C_FindObjectsInit(session, template);
    try {
      return lib.C_FindObjects(session, 16);
    } finally {
      lib.C_FindObjectsFinal(session);
    }
  }
}

function initialize(lib: P.PKCS11): void {
  try {
    lib.C_Initialize();
  } catch (err) {
    if (ckr(err) !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') throw err;
  }
}

/** PKCS#11 pads token and slot strings with spaces to fixed widths; RFC 7512 compares without the padding. */
function matches(want: string | undefined, padded: string): boolean {
  return want === undefined || padded.replace(/[ \0]+$/, '') === want;
}

function slotIdOf(slot: Handle): bigint {
  return slot.length >= 8 ? slot.readBigUInt64LE(0) : BigInt(slot.readUInt32LE(0));
}

// readPin(file): the first line of file. The file must not be readable by
// others, like a key file: the PIN is as good as the key while the token is in.
function readPin(file: string): string {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (err) {
    throw new TilelogError('SIGNER_CONFIG', `pkcs11: cannot read the PIN file ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
  }
  if ((st.mode & 0o077) !== 0) {
    throw new TilelogError('SIGNER_CONFIG', `pkcs11: the PIN file ${file} is readable by others (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it`);
  }
  const pin = fs.readFileSync(file, 'utf8').split(/\r?\n/)[0]!;
  if (pin === '') throw new TilelogError('SIGNER_CONFIG', `pkcs11: the PIN file ${file} is empty`);
  return pin;
}
