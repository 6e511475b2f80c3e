// The proof bundle (spec/BUNDLE.md), version 1: one entry, its index, the
// inclusion proof, and the signed (cosigned) checkpoint it is proven in.
// Everything a verifier needs offline with only the policy's keys.
//
// JSON form, members in this order when encoding, no other members allowed:
//   {"version":1,"index":<n>,"entry":"<b64>","inclusionProof":["<b64>",...],"checkpoint":"<note>"}
// The CBOR form is in bundle-cbor.ts. Decoders are strict: an unknown
// version, a missing or extra member, or a wrong type is CLIENT_BUNDLE_DECODE.

import { fromBase64Strict, toBase64 } from '../merkle/encoding.js';
import { HASH_SIZE } from '../merkle/hash.js';
import { MAX_ENTRY_SIZE } from '../merkle/layout.js';
import { MAX_NOTE_SIZE } from '../note/note.js';
import { ClientError, messageOf } from './errors.js';

/** The only bundle version this SDK reads and writes. */
export const BUNDLE_VERSION = 1;
/** Most hashes an inclusion proof can have for a tree of at most 2^64 leaves. */
export const MAX_PROOF_HASHES = 64;
/** Largest encoded bundle a decoder reads (entry + proof + largest note + framing). */
export const MAX_BUNDLE_BYTES = 4 * (MAX_ENTRY_SIZE + MAX_PROOF_HASHES * HASH_SIZE) + 8 * MAX_NOTE_SIZE;

export interface ProofBundle {
  version: typeof BUNDLE_VERSION;
  /** Zero-based index of the entry in the log. */
  index: number;
  /** The entry bytes (0..65535). */
  entry: Uint8Array;
  /** RFC 9162 inclusion proof of the entry in the checkpoint's tree, leaf to root. */
  inclusionProof: Uint8Array[];
  /** The signed checkpoint note, log signature and any cosignatures included. */
  checkpoint: string;
}

export const BUNDLE_FIELDS = ['version', 'index', 'entry', 'inclusionProof', 'checkpoint'] as const;

export function decodeError(message: string, cause?: unknown): ClientError {
  return new ClientError('CLIENT_BUNDLE_DECODE', `bundle: ${message}`, cause === undefined ? undefined : { cause });
}

/** Checks field values (shared by both forms); returns a fresh ProofBundle. */
export function checkBundle(b: { version: unknown; index: unknown; entry: unknown; inclusionProof: unknown; checkpoint: unknown }): ProofBundle {
  if (b.version !== BUNDLE_VERSION) throw decodeError(`unknown version ${JSON.stringify(String(b.version))}; this reader knows version ${BUNDLE_VERSION}`);
  if (typeof b.index !== 'number' || !Number.isSafeInteger(b.index) || b.index < 0) throw decodeError('index must be a whole number in [0, 2^53-1]');
  if (!(b.entry instanceof Uint8Array)) throw decodeError('entry must be bytes');
  if (b.entry.length > MAX_ENTRY_SIZE) throw decodeError(`entry is ${b.entry.length} bytes, at most ${MAX_ENTRY_SIZE}`);
  if (!Array.isArray(b.inclusionProof)) throw decodeError('inclusionProof must be an array');
  if (b.inclusionProof.length > MAX_PROOF_HASHES) throw decodeError(`inclusionProof has more than ${MAX_PROOF_HASHES} hashes`);
  for (const h of b.inclusionProof) {
    if (!(h instanceof Uint8Array) || h.length !== HASH_SIZE) throw decodeError(`inclusionProof hashes must be ${HASH_SIZE} bytes`);
  }
  if (typeof b.checkpoint !== 'string' || b.checkpoint.length === 0) throw decodeError('checkpoint must be a non-empty string');
  if (b.checkpoint.length > MAX_NOTE_SIZE) throw decodeError(`checkpoint is over ${MAX_NOTE_SIZE} characters`);
  return {
    version: BUNDLE_VERSION,
    index: b.index,
    entry: new Uint8Array(b.entry),
    inclusionProof: (b.inclusionProof as Uint8Array[]).map((h) => new Uint8Array(h)),
    checkpoint: b.checkpoint,
  };
}

/** The bundle as compact JSON text (members in BUNDLE_FIELDS order). */
export function encodeBundleJson(bundle: ProofBundle): string {
  const b = checkEncodable(bundle);
  return JSON.stringify({
    version: b.version,
    index: b.index,
    entry: toBase64(b.entry),
    inclusionProof: b.inclusionProof.map(toBase64),
    checkpoint: b.checkpoint,
  });
}

/** Decodes JSON text or UTF-8 bytes strictly. Throws CLIENT_BUNDLE_DECODE. */
export function decodeBundleJson(input: string | Uint8Array): ProofBundle {
  let text: string;
  if (typeof input === 'string') text = input;
  else if (input instanceof Uint8Array) {
    if (input.length > MAX_BUNDLE_BYTES) throw decodeError(`over ${MAX_BUNDLE_BYTES} bytes`);
    try {
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(input);
    } catch (err) {
      throw decodeError('JSON bundle is not valid UTF-8', err);
    }
  } else throw new TypeError('bundle: input must be a string or Uint8Array');
  if (text.length > MAX_BUNDLE_BYTES) throw decodeError(`over ${MAX_BUNDLE_BYTES} characters`);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw decodeError(`not JSON: ${messageOf(err)}`, err);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw decodeError('JSON bundle must be an object');
  const o = v as Record<string, unknown>;
  checkMembers(Object.keys(o), o.version);
  return checkBundle({
    version: o.version,
    index: o.index,
    entry: b64Field('entry', o.entry),
    inclusionProof: Array.isArray(o.inclusionProof) ? o.inclusionProof.map((h, i) => b64Field(`inclusionProof[${i}]`, h, HASH_SIZE)) : o.inclusionProof,
    checkpoint: o.checkpoint,
  });
}

// Checks the member names: the version first (so a future version reads
// "unknown version", not "unknown member"), then no extra and no missing one.
// `names` maps the form's keys (JSON names or CBOR integers) to field names.
export function checkMembers(keys: readonly unknown[], version: unknown, names: (k: unknown) => string | undefined = (k) => (typeof k === 'string' ? k : undefined)): void {
  const fields = keys.map(names);
  if (fields.includes('version') && version !== BUNDLE_VERSION) {
    throw decodeError(`unknown version ${JSON.stringify(String(version))}; this reader knows version ${BUNDLE_VERSION}`);
  }
  keys.forEach((k, i) => {
    const f = fields[i];
    if (f === undefined || !(BUNDLE_FIELDS as readonly string[]).includes(f)) throw decodeError(`unknown member ${JSON.stringify(String(k))}`);
  });
  for (const f of BUNDLE_FIELDS) {
    if (!fields.includes(f)) throw decodeError(`missing member ${JSON.stringify(f)}`);
  }
}

function b64Field(name: string, v: unknown, size?: number): unknown {
  if (typeof v !== 'string') return v; // checkBundle names the type error
  try {
    return fromBase64Strict(v, size);
  } catch (err) {
    throw decodeError(`${name} is not canonical base64${size === undefined ? '' : ` of ${size} bytes`}`, err);
  }
}

// Encoders refuse what decoders would refuse (RangeError/TypeError: a caller bug).
export function checkEncodable(bundle: ProofBundle): ProofBundle {
  try {
    return checkBundle(bundle);
  } catch (err) {
    throw new RangeError(messageOf(err));
  }
}
