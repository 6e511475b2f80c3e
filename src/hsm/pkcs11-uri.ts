// PKCS#11 URIs (RFC 7512), strictly: the name of a key in a token, given
// wherever a key file is accepted.
//
//   pkcs11:token=tilelog;object=log-key?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/etc/tilelog/pin
//
//   path   attributes separated by ';'  (RFC 7512 §2.3 pk11-path-attr)
//   query  attributes separated by '&'  (pk11-query-attr)
//   value  percent-encoded UTF-8; `id` is raw bytes (percent-encode every byte)
//
// Strict where the RFC lets a consumer choose, because a URI that selects a
// key must never select another one than meant: an attribute given twice, an
// unknown attribute (vendor `x-` ones included), a '%' not followed by two
// hex digits, a character outside the RFC's sets, or a value that is not
// UTF-8 is refused. The PIN never travels in the URI: `pin-value` is refused
// (it would end up in shell history, `ps` and logs); `pin-source` must be a
// `file:` URI of an absolute path, whose first line is the PIN. The module
// is named by `module-path` (an absolute path); `module-name` alone, which
// needs a platform search path, is refused. Error messages name the
// attribute and never echo a value.

import { TilelogError } from '../errors.js';

/** Path attributes tilelog understands (RFC 7512 §2.3), each at most once. */
export const PATH_ATTRIBUTES = [
  'token',
  'manufacturer',
  'serial',
  'model',
  'library-manufacturer',
  'library-description',
  'library-version',
  'object',
  'type',
  'id',
  'slot-description',
  'slot-manufacturer',
  'slot-id',
] as const;

/** Query attributes tilelog understands (pin-value is recognised only to be refused). */
export const QUERY_ATTRIBUTES = ['module-path', 'module-name', 'pin-source', 'pin-value'] as const;

export type PathAttribute = (typeof PATH_ATTRIBUTES)[number];
export type QueryAttribute = (typeof QUERY_ATTRIBUTES)[number];

/** RFC 7512 object types. */
export type ObjectType = 'public' | 'private' | 'cert' | 'secret-key' | 'data';
const OBJECT_TYPES: readonly ObjectType[] = ['public', 'private', 'cert', 'secret-key', 'data'];

export interface Pkcs11Uri {
  /** Path attributes except id, type and slot-id, decoded. */
  readonly path: Readonly<Partial<Record<Exclude<PathAttribute, 'id' | 'type' | 'slot-id'>, string>>>;
  /** CKA_ID bytes. */
  readonly id?: Uint8Array;
  readonly type?: ObjectType;
  /** CK_SLOT_ID (a decimal number in the URI). */
  readonly slotId?: bigint;
  /** Absolute path of the PKCS#11 module (shared library). */
  readonly modulePath: string;
  /** Absolute path of the file whose first line is the user PIN; absent: log in without a PIN (a protected authentication path). */
  readonly pinFile?: string;
}

// RFC 7512: pk11-pchar = unreserved / pk11-res-avail / pct-encoded, with
// pk11-res-avail = ":" / "[" / "]" / "@" / "!" / "$" / "'" / "(" / ")" / "*" / "+" / "," / "=" / "&"
// (so '&' is literal in a path value). pk11-qchar = unreserved / pk11-res-avail-query / pct-encoded,
// pk11-res-avail-query = pk11-res-avail minus "&", plus "/" / "?" / "|".
const UNRESERVED = 'A-Za-z0-9\\-._~';
const PATH_CHAR = new RegExp(`^[${UNRESERVED}:\\[\\]@!$'()*+,=&]$`);
const QUERY_CHAR = new RegExp(`^[${UNRESERVED}:\\[\\]@!$'()*+,=/?|]$`);

function bad(message: string): TilelogError {
  return new TilelogError('SIGNER_CONFIG', `pkcs11 URI: ${message}`);
}

/** True when text looks like a PKCS#11 URI (the scheme is case-insensitive, RFC 3986 §3.1). */
export function isPkcs11Uri(text: string): boolean {
  return /^pkcs11:/i.test(text);
}

// percentDecode(value, allowed, what): the bytes of a percent-encoded value
// whose literal characters all match allowed.
function percentDecode(value: string, allowed: RegExp, what: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '%') {
      const hex = value.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw bad(`${what}: '%' must be followed by two hex digits`);
      out.push(Number.parseInt(hex, 16));
      i += 2;
    } else if (allowed.test(c)) {
      out.push(c.charCodeAt(0));
    } else {
      throw bad(`${what}: character ${JSON.stringify(c)} must be percent-encoded`);
    }
  }
  return new Uint8Array(out);
}

function utf8(bytes: Uint8Array, what: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw bad(`${what}: not UTF-8 once percent-decoded`);
  }
}

// split(part, sep, names, allowed): each name=value of one URI part, decoded
// to bytes; a name outside names, or given twice, is refused.
function split(part: string, sep: string, names: readonly string[], allowed: RegExp, where: string): Map<string, Uint8Array> {
  const found = new Map<string, Uint8Array>();
  if (part === '') return found;
  for (const item of part.split(sep)) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw bad(`${where} attribute ${JSON.stringify(item.slice(0, Math.max(eq, 0)) || '(empty)')} needs a name and '=' value`);
    const name = item.slice(0, eq);
    if (!names.includes(name)) {
      const hint = names === PATH_ATTRIBUTES && (QUERY_ATTRIBUTES as readonly string[]).includes(name) ? ` (it belongs after '?')` : '';
      throw bad(`unknown ${where} attribute ${JSON.stringify(name.slice(0, 40))}${hint}`);
    }
    if (found.has(name)) throw bad(`attribute ${name} is given twice`);
    found.set(name, percentDecode(item.slice(eq + 1), allowed, name));
  }
  return found;
}

// pinFileOf(source): the absolute path in a pin-source of the form
// file:/abs/path or file:///abs/path (RFC 8089; an empty authority only).
function pinFileOf(source: string): string {
  const m = /^file:(\/\/)?(\/.*)$/is.exec(source);
  if (m === null || (m[1] === undefined && m[2]!.startsWith('//'))) {
    throw bad("pin-source must be a file: URI of an absolute path (pin-source=file:/etc/tilelog/pin); other sources are not supported");
  }
  const p = m[2]!;
  if (p.includes('\0')) throw bad('pin-source: the path holds a NUL byte');
  return p;
}

/** Parses a PKCS#11 URI; SIGNER_CONFIG naming the attribute (never echoing a value) on any fault. */
export function parsePkcs11Uri(text: string): Pkcs11Uri {
  if (typeof text !== 'string') throw new TypeError('pkcs11 URI must be a string');
  if (!isPkcs11Uri(text)) throw bad("must start with 'pkcs11:'");
  const body = text.slice('pkcs11:'.length);
  if (body.includes('#')) throw bad("a fragment ('#') is not allowed; percent-encode '#' as %23");
  const q = body.indexOf('?');
  const pathPart = q < 0 ? body : body.slice(0, q);
  const queryPart = q < 0 ? '' : body.slice(q + 1);
  const path = split(pathPart, ';', PATH_ATTRIBUTES, PATH_CHAR, 'path');
  const query = split(queryPart, '&', QUERY_ATTRIBUTES, QUERY_CHAR, 'query');

  if (query.has('pin-value')) {
    throw bad('pin-value is refused: a PIN in a URI ends up in shell history, process lists and logs; put it in a file (mode 0600) and give pin-source=file:/path/to/pin');
  }
  const modulePath = query.has('module-path') ? utf8(query.get('module-path')!, 'module-path') : undefined;
  if (modulePath === undefined) {
    throw bad(
      query.has('module-name')
        ? 'module-name alone is not supported: give module-path=<absolute path of the module>, e.g. module-path=/usr/lib/softhsm/libsofthsm2.so'
        : 'module-path is required: the absolute path of the PKCS#11 module, e.g. ?module-path=/usr/lib/softhsm/libsofthsm2.so',
    );
  }
  if (!modulePath.startsWith('/') || modulePath.includes('\0')) throw bad('module-path must be an absolute path');
  const pinFile = query.has('pin-source') ? pinFileOf(utf8(query.get('pin-source')!, 'pin-source')) : undefined;

  const strings: Record<string, string> = {};
  let id: Uint8Array | undefined;
  let type: ObjectType | undefined;
  let slotId: bigint | undefined;
  for (const [name, bytes] of path) {
    if (name === 'id') id = bytes;
    else if (name === 'type') {
      const t = utf8(bytes, 'type');
      if (!(OBJECT_TYPES as readonly string[]).includes(t)) throw bad(`type must be one of ${OBJECT_TYPES.join(', ')}`);
      type = t as ObjectType;
    } else if (name === 'slot-id') {
      const t = utf8(bytes, 'slot-id');
      if (!/^(0|[1-9][0-9]{0,19})$/.test(t) || BigInt(t) > 2n ** 64n - 1n) throw bad('slot-id must be a decimal number below 2^64');
      slotId = BigInt(t);
    } else strings[name] = utf8(bytes, name);
  }
  return {
    path: strings,
    ...(id !== undefined && { id }),
    ...(type !== undefined && { type }),
    ...(slotId !== undefined && { slotId }),
    modulePath,
    ...(pinFile !== undefined && { pinFile }),
  };
}

// encode(bytes, allowed): percent-encodes every byte whose character is not
// allowed literally (and every non-ASCII byte); '%' itself is always encoded.
function encode(bytes: Uint8Array, allowed: RegExp): string {
  let out = '';
  for (const b of bytes) {
    const c = String.fromCharCode(b);
    out += b < 0x80 && c !== '%' && allowed.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The canonical text of uri (attributes in the RFC's order); parsePkcs11Uri(formatPkcs11Uri(u)) equals u. */
export function formatPkcs11Uri(uri: Pkcs11Uri): string {
  const te = new TextEncoder();
  const parts: string[] = [];
  for (const name of PATH_ATTRIBUTES) {
    let bytes: Uint8Array | undefined;
    if (name === 'id') bytes = uri.id;
    else if (name === 'type') bytes = uri.type === undefined ? undefined : te.encode(uri.type);
    else if (name === 'slot-id') bytes = uri.slotId === undefined ? undefined : te.encode(uri.slotId.toString());
    else {
      const v = uri.path[name];
      bytes = v === undefined ? undefined : te.encode(v);
    }
    // ';' separates path attributes, so it is never literal in a value (it is not in PATH_CHAR).
    if (bytes !== undefined) parts.push(`${name}=${encode(bytes, PATH_CHAR)}`);
  }
  const query = [`module-path=${encode(te.encode(uri.modulePath), QUERY_CHAR)}`];
  // file:// + path (an empty authority, RFC 8089), so a path that starts with '//' is not read as a host.
  if (uri.pinFile !== undefined) query.push(`pin-source=${encode(te.encode(`file://${uri.pinFile}`), QUERY_CHAR)}`);
  return `pkcs11:${parts.join(';')}?${query.join('&')}`;
}

/**
 * text with any pin-value hidden, for printing a configuration or an error:
 * a URI that was refused for carrying a PIN must not show it either.
 */
export function redactPkcs11Uri(text: string): string {
  return text.replace(/([?&;]pin-value=)[^&;#]*/gi, '$1[hidden]');
}
