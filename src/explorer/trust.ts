// Which log key the page verifies with. The user pins a key (the one the
// server announces, or one pasted from an out-of-band source) in
// localStorage; from then on verification uses the pinned key, and a server
// announcing a different key is a loud warning, never a silent switch.
// Without a pin the page uses the announced key and says so: a server
// vouching for itself proves little.

import { trustPolicy, type TrustPolicy } from '../client/policy.js';
import { messageOf } from '../client/errors.js';
import type { LogInfo } from './api.js';

const STORAGE_KEY = 'tilelog.explorer.pinnedLogKey';

export interface Trust {
  /** The key verification uses. */
  key: string;
  source: 'pinned' | 'announced';
  /** What /v1/log/info announces. */
  announced: string;
  pinned: string | null;
  /** A pinned key that differs from the announced one. */
  mismatch: boolean;
  /** The policy for `key`, or why the key is unusable. */
  policy: TrustPolicy | null;
  policyError: string | null;
}

export function pinnedKey(): string | null {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null; // storage disabled: nothing pinned
  }
}

/** Pins a verifier key after checking it parses. Throws with the reason. */
export function pinKey(vkey: string): void {
  const k = vkey.trim();
  trustPolicy({ logKey: k });
  localStorage.setItem(STORAGE_KEY, k);
}

export function unpinKey(): void {
  try {
    localStorage.removeItem(STORAGE_KEY);
  } catch {
    // nothing to remove
  }
}

export function trustFor(info: LogInfo): Trust {
  const pinned = pinnedKey();
  const key = pinned ?? info.verifierKey;
  let policy: TrustPolicy | null = null;
  let policyError: string | null = null;
  try {
    // The origin is the log's (not the key's name), so a key for another log fails loudly.
    policy = trustPolicy({ logKey: key, origin: info.origin });
  } catch (err) {
    policyError = messageOf(err);
  }
  return {
    key,
    source: pinned === null ? 'announced' : 'pinned',
    announced: info.verifierKey,
    pinned,
    mismatch: pinned !== null && pinned !== info.verifierKey,
    policy,
    policyError,
  };
}

/** "the pinned key" / "the key the server announces (not pinned)". */
export function keyPhrase(t: Trust): string {
  return t.source === 'pinned' ? 'the pinned key' : 'the key the server announces (not pinned)';
}
