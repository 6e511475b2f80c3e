// KeyHistory: which submitter key may sign at which log index, learnt from
// the key entries of the log alone. Browser-safe and pure (no I/O), so the
// offline verifier (verify.ts verifyKeyChain) and the monitor follow a
// registry key rotation exactly as the index does (rules.ts checkSigner):
//
//   key.added(B) signed by an active A at index i    B may sign at indexes > i
//   key.revoked(A) signed by an active key at j      A may sign at indexes < j only
//
// A verifier starts from the keys it pinned (trusted from index 0); without
// pins (a monitor's trust on first use) the first key.added must be signed by
// the key it adds, as the log's first registry entry is. Entries must be
// applied in increasing index order; a key subject's chain (seq, prev, time)
// is checked as the index checks it, so a key.revoked the index skips
// changes nothing here either.

import { TilelogError } from '../errors.js';
import { fromBase64Strict, toBase64 } from '../merkle/encoding.js';
import { hashEqual } from '../merkle/hash.js';
import { KEY_SUBJECT_PREFIX, keyIdOf, keySubject, verifyEntrySignature, type Entry } from './entries/envelope.js';

export interface KeyRecord {
  kid: string;
  publicKey: Uint8Array;
  /** Index of its key.added, or null for a pinned key whose key.added was not seen. */
  addedIndex: number | null;
  /** Leaf hash and time of its key.added (for the chain of its key.revoked). */
  addedLeafHash: Uint8Array | null;
  addedTime: number;
  /** Index of its key.revoked, or null while active. */
  revokedIndex: number | null;
}

/** The JSON form kept by the monitor (state.json). */
export interface KeyHistoryJson {
  pinned: boolean;
  lastIndex: number;
  keys: { kid: string; publicKey: string; addedIndex: number | null; addedLeafHash: string | null; addedTime: number; revokedIndex: number | null }[];
}

const sig = (m: string) => new TilelogError('REGISTRY_SIGNATURE', m);
const conflict = (m: string) => new TilelogError('REGISTRY_CONFLICT', m);

export class KeyHistory {
  readonly #keys = new Map<string, KeyRecord>();
  #pinned: boolean;
  #lastIndex = -1;

  /** pinned: public keys (raw or base64) trusted from index 0; none for trust on first use. */
  constructor(pinned: readonly (Uint8Array | string)[] = []) {
    for (const p of pinned) {
      const publicKey = typeof p === 'string' ? fromBase64Strict(p, 32) : p;
      const kid = keyIdOf(publicKey);
      this.#keys.set(kid, { kid, publicKey, addedIndex: null, addedLeafHash: null, addedTime: 0, revokedIndex: null });
    }
    this.#pinned = pinned.length > 0;
  }

  key(kid: string): Readonly<KeyRecord> | null {
    return this.#keys.get(kid) ?? null;
  }

  keys(): Readonly<KeyRecord>[] {
    return [...this.#keys.values()];
  }

  /**
   * Throws REGISTRY_SIGNATURE unless e's signer was an active key at index
   * (added at a smaller index or pinned, and not revoked at a smaller one)
   * and the signature verifies. A pure check: the history does not change.
   */
  checkSigner(index: number, e: Entry): void {
    const k = this.#keys.get(e.kid);
    let publicKey: Uint8Array;
    if (k === undefined) {
      const genesis = !this.#pinned && this.#keys.size === 0 && e.type === 'key.added' && e.subject === keySubject(e.kid);
      if (!genesis) throw sig(`registry: entry ${index} is signed by ${e.kid}, which no key entry before it added`);
      publicKey = e.body.publicKey;
    } else {
      if (k.addedIndex !== null && index <= k.addedIndex) throw sig(`registry: entry ${index} is signed by ${e.kid} before its key.added (entry ${k.addedIndex})`);
      if (k.revokedIndex !== null && index > k.revokedIndex) {
        throw sig(`registry: entry ${index} is signed by ${e.kid}, retired by key.revoked at entry ${k.revokedIndex}`);
      }
      publicKey = k.publicKey;
    }
    if (!verifyEntrySignature(e, publicKey)) throw sig(`registry: the signature of entry ${index} does not verify with submitter key ${e.kid}`);
  }

  /**
   * Checks e at index (signer, then a key entry's chain) and, for key
   * entries, records it. Throws a coded TilelogError and changes nothing when
   * a check fails. Indexes must increase from call to call.
   */
  apply(index: number, e: Entry, leafHash: Uint8Array): void {
    if (!Number.isSafeInteger(index) || index <= this.#lastIndex) throw new RangeError(`registry: key history: index ${index} after ${this.#lastIndex}`);
    this.checkSigner(index, e);
    if (e.type === 'key.added') {
      const kid = keyIdOf(e.body.publicKey);
      const known = this.#keys.get(kid);
      if (known !== undefined && known.addedIndex !== null) throw conflict(`registry: ${e.subject} was already added at entry ${known.addedIndex}`);
      this.#keys.set(kid, { kid, publicKey: e.body.publicKey, addedIndex: index, addedLeafHash: leafHash, addedTime: e.time, revokedIndex: known?.revokedIndex ?? null });
    } else if (e.type === 'key.revoked') {
      const target = this.#keys.get(e.subject.slice(KEY_SUBJECT_PREFIX.length));
      if (target === undefined) throw new TilelogError('REGISTRY_NOT_FOUND', `registry: no submitter key ${e.subject}`);
      if (target.revokedIndex !== null) throw conflict(`registry: ${e.subject} is already revoked`);
      // A pinned key whose key.added was not shown has no chain to check against.
      if (target.addedLeafHash !== null && (e.seq !== 1 || e.prev === null || !hashEqual(e.prev, target.addedLeafHash) || e.time < target.addedTime)) {
        throw conflict(`registry: the key.revoked of ${e.subject} does not follow its key.added`);
      }
      target.revokedIndex = index;
    }
    this.#lastIndex = index;
  }

  toJSON(): KeyHistoryJson {
    return {
      pinned: this.#pinned,
      lastIndex: this.#lastIndex,
      keys: this.keys().map((k) => ({
        kid: k.kid,
        publicKey: toBase64(k.publicKey),
        addedIndex: k.addedIndex,
        addedLeafHash: k.addedLeafHash === null ? null : toBase64(k.addedLeafHash),
        addedTime: k.addedTime,
        revokedIndex: k.revokedIndex,
      })),
    };
  }

  /** The history saved by toJSON; throws on anything that does not check out (a hand-edited file must fail loudly). */
  static fromJSON(j: KeyHistoryJson): KeyHistory {
    const h = new KeyHistory();
    h.#pinned = j.pinned === true;
    if (!Number.isSafeInteger(j.lastIndex) || j.lastIndex < -1) throw new RangeError('registry: key history: bad lastIndex');
    h.#lastIndex = j.lastIndex;
    for (const k of j.keys) {
      const publicKey = fromBase64Strict(k.publicKey, 32);
      if (keyIdOf(publicKey) !== k.kid) throw new RangeError(`registry: key history: ${k.kid} is not the kid of its public key`);
      const addedLeafHash = k.addedLeafHash === null ? null : fromBase64Strict(k.addedLeafHash, 32);
      h.#keys.set(k.kid, { kid: k.kid, publicKey, addedIndex: k.addedIndex, addedLeafHash, addedTime: k.addedTime, revokedIndex: k.revokedIndex });
    }
    return h;
  }
}
