// The monitor's registry watch: every audited entry that decodes as a
// registry entry goes through a KeyHistory (src/registry/key-history.ts), so
// the monitor follows submitter key rotations the way the state index does
// and reports an entry whose signer was not an active key at its index: an
// unknown key, a bad signature, or a key used after its key.revoked.
//
// A finding is not an alert about the log: appending a forged leaf is what
// an append-only log does, and the registry's index skips it. The monitor
// reports it (evidence, webhook) once, and the audit goes on. The history is
// kept in state.json beside the audited edge and moves with it.

import { TilelogError } from '../errors.js';
import { toBase64 } from '../merkle/index.js';
import { decodeEntry, type Entry } from '../registry/entries/envelope.js';
import { KeyHistory } from '../registry/key-history.js';

/** One registry entry the index refuses for its signer (or a key entry's chain). */
export interface RegistryFinding {
  /** MONITOR_REGISTRY_SIGNER: the signer was not an active key there; MONITOR_REGISTRY_KEY: a key entry the index skips. */
  code: 'MONITOR_REGISTRY_SIGNER' | 'MONITOR_REGISTRY_KEY';
  index: number;
  type: string;
  subject: string;
  kid: string;
  leafHash: string;
  message: string;
  /** The entry's bytes, base64. */
  entry: string;
}

export interface RegistryWatchOptions {
  /** Submitter public keys (base64) trusted from the start; none: the first key.added, self-signed. */
  pinnedKeys?: readonly string[];
}

export class RegistryWatch {
  readonly history: KeyHistory;

  constructor(history: KeyHistory) {
    this.history = history;
  }

  static fresh(o: RegistryWatchOptions): RegistryWatch {
    return new RegistryWatch(new KeyHistory(o.pinnedKeys ?? []));
  }

  /** Folds the entry at index; a finding when it is a registry entry the keys refuse, else null. */
  observe(index: number, data: Uint8Array, leafHash: Uint8Array): RegistryFinding | null {
    let e: Entry;
    try {
      e = decodeEntry(data);
    } catch {
      return null; // not a registry entry: the log holds other leaves too
    }
    try {
      this.history.apply(index, e, leafHash);
      return null;
    } catch (err) {
      if (!(err instanceof TilelogError)) throw err;
      return {
        code: err.code === 'REGISTRY_SIGNATURE' ? 'MONITOR_REGISTRY_SIGNER' : 'MONITOR_REGISTRY_KEY',
        index,
        type: e.type,
        subject: e.subject,
        kid: e.kid,
        leafHash: toBase64(leafHash),
        message: err.message,
        entry: toBase64(data),
      };
    }
  }
}
