// Which witness keys the page checks cosignatures with. Like the log key, the
// user pins witness keys (from /v1/log/witnesses or pasted from an
// out-of-band source) in localStorage. With none pinned, the page checks the
// keys the server lists and says so; once any is pinned, only pinned keys
// count, and a pinned key the server no longer lists (or lists differently)
// is a warning, never a silent switch.

import { parseCosignatureVerifierKey, type CosignatureVerifier } from '../note/cosignature.js';
import { simplePolicy } from '../note/policy.js';

const STORAGE_KEY = 'tilelog.explorer.pinnedWitnessKeys';

export function pinnedWitnessKeys(): string[] {
  try {
    const v: unknown = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? '[]');
    return Array.isArray(v) ? v.filter((k): k is string => typeof k === 'string') : [];
  } catch {
    return []; // storage disabled or not our JSON: nothing pinned
  }
}

function save(keys: readonly string[]): void {
  if (keys.length === 0) localStorage.removeItem(STORAGE_KEY);
  else localStorage.setItem(STORAGE_KEY, JSON.stringify(keys));
}

/**
 * Pins a cosignature/v1 verifier key. The pinned set must make a valid
 * witness policy (the one trustPolicy builds), so a key that does not parse,
 * or a second key for the same public key, is refused with its reason (thrown).
 */
export function pinWitnessKey(vkey: string): void {
  const k = vkey.trim();
  const keys = pinnedWitnessKeys();
  if (keys.includes(k)) return;
  parseCosignatureVerifierKey(k); // the key's own error, before the policy's line-numbered one
  simplePolicy([...keys, k].map((vkey) => ({ vkey, url: null })), 0);
  save([...keys, k]);
}

export function unpinWitnessKey(vkey: string): void {
  try {
    save(pinnedWitnessKeys().filter((k) => k !== vkey));
  } catch {
    // storage disabled: nothing to remove
  }
}

/** How a pinned key compares with what /v1/log/witnesses lists. */
export interface PinnedWitness {
  vkey: string;
  /** The key's name, or null if the stored key does not parse. */
  name: string | null;
  /** "listed": the server lists this very key; "differs": it lists another key under this name; "missing": not at all. */
  state: 'listed' | 'differs' | 'missing' | 'unusable';
  /** The server's key for this name when it differs. */
  listedKey: string | null;
}

function parsed(vkey: string): CosignatureVerifier | null {
  try {
    return parseCosignatureVerifierKey(vkey);
  } catch {
    return null;
  }
}

/** Same name and key ID (the ID is re-derived under type 0x04, so 0x01 and 0x04 spellings of one key match). */
export function sameWitnessKey(a: string, b: string): boolean {
  const x = parsed(a);
  const y = parsed(b);
  return x !== null && y !== null && x.name === y.name && x.keyId === y.keyId;
}

export function comparePinned(pinned: readonly string[], listed: readonly string[]): PinnedWitness[] {
  return pinned.map((vkey) => {
    const v = parsed(vkey);
    if (v === null) return { vkey, name: null, state: 'unusable', listedKey: null };
    if (listed.some((l) => sameWitnessKey(l, vkey))) return { vkey, name: v.name, state: 'listed', listedKey: null };
    const other = listed.find((l) => parsed(l)?.name === v.name) ?? null;
    return { vkey, name: v.name, state: other === null ? 'missing' : 'differs', listedKey: other };
  });
}
