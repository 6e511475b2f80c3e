// The trust policy a verifier pins: the log (origin and Ed25519 verifier key),
// the witnesses whose cosignature/v1 signatures count and how many are needed
// (a simple K-of-N, or a c2sp.org/tlog-policy text with groups), and the
// freshness rules for cosignature timestamps.
//
// trustPolicy() validates everything once and returns a frozen TrustPolicy
// holding parsed verifiers, so verification never re-parses keys.

import { parseCosignatureVerifierKey, type CosignatureVerifier } from '../note/cosignature.js';
import { parseVerifierKey, type Ed25519Verifier } from '../note/keys.js';
import { parsePolicy, simplePolicy, type WitnessPolicy } from '../note/policy.js';
import { ClientError, messageOf } from './errors.js';

/** Default allowance for witness clocks running ahead of ours: 60 s. */
export const DEFAULT_MAX_FUTURE_SKEW_SECONDS = 60;

/** What a caller writes: keys as strings. */
export interface TrustPolicyInput {
  /** The log's origin line; default: the log key's name (as C2SP recommends). */
  origin?: string;
  /** The log's Ed25519 verifier key `<name>+<id>+<b64>`. Optional only when policyText has exactly one `log` line. */
  logKey?: string;
  /** Witness cosignature/v1 verifier keys (type 0x04; 0x01 is re-derived as 0x04). */
  witnesses?: readonly string[];
  /** Distinct valid witness cosignatures required; default: all listed witnesses. */
  quorum?: number;
  /** A c2sp.org/tlog-policy text instead of witnesses + quorum. */
  policyText?: string;
  /**
   * Reject a checkpoint whose newest counted cosignature is older than this.
   * Needs witnesses: a checkpoint itself carries no time, so with no
   * cosignature its age cannot be checked (trustPolicy refuses the combination).
   */
  maxAgeSeconds?: number;
  /** Accept cosignature timestamps at most this far in the future (default 60). */
  maxFutureSkewSeconds?: number;
}

/** A validated policy (from trustPolicy). */
export interface TrustPolicy {
  readonly origin: string;
  readonly logKey: string;
  readonly logVerifier: Ed25519Verifier;
  /** Every witness whose cosignature is checked, in policy order. */
  readonly witnesses: readonly CosignatureVerifier[];
  /** The quorum rule, as a tlog-policy (simple K-of-N becomes one group). */
  readonly witnessPolicy: WitnessPolicy;
  /** K for a simple K-of-N policy; null for a policyText with groups. */
  readonly quorum: number | null;
  readonly maxAgeSeconds: number | null;
  readonly maxFutureSkewSeconds: number;
}

function bad(message: string, cause?: unknown): ClientError {
  return new ClientError('CLIENT_BAD_POLICY', `policy: ${message}`, cause === undefined ? undefined : { cause });
}

function seconds(name: string, v: number | undefined): number | null {
  if (v === undefined) return null;
  if (!Number.isSafeInteger(v) || v < 0) throw bad(`${name} must be a whole number of seconds >= 0, got ${String(v)}`);
  return v;
}

// The witness policy from text, or from a K-of-N list of keys.
function witnessPolicyOf(input: TrustPolicyInput): { wp: WitnessPolicy; quorum: number | null } {
  if (input.policyText !== undefined) {
    if (input.witnesses !== undefined || input.quorum !== undefined) {
      throw bad('give either policyText or witnesses/quorum, not both');
    }
    try {
      return { wp: parsePolicy(input.policyText), quorum: null };
    } catch (err) {
      throw bad(messageOf(err), err);
    }
  }
  const keys = input.witnesses ?? [];
  if (!Array.isArray(keys) || keys.some((k) => typeof k !== 'string')) throw new TypeError('policy: witnesses must be an array of strings');
  const quorum = input.quorum ?? keys.length;
  if (!Number.isSafeInteger(quorum) || quorum < 0 || quorum > keys.length) {
    throw bad(`quorum ${String(quorum)} must be between 0 and the ${keys.length} witnesses`);
  }
  const seen = new Set<string>();
  for (const k of keys) {
    let v: CosignatureVerifier;
    try {
      v = parseCosignatureVerifierKey(k);
    } catch (err) {
      throw bad(`witness key ${JSON.stringify(k)}: ${messageOf(err)}`, err);
    }
    const pub = Array.from(v.publicKey).join(',');
    if (seen.has(pub)) throw bad(`witness key ${JSON.stringify(k)} is listed twice (each witness counts once)`);
    seen.add(pub);
  }
  try {
    return { wp: simplePolicy(keys.map((vkey) => ({ vkey, url: null })), quorum), quorum };
  } catch (err) {
    throw bad(messageOf(err), err);
  }
}

// The log key: logKey, else the policy text's one log (or the one named origin).
function logKeyOf(input: TrustPolicyInput, wp: WitnessPolicy): string {
  if (input.logKey !== undefined) {
    if (typeof input.logKey !== 'string') throw new TypeError('policy: logKey must be a string');
    if (wp.logs.length > 0 && !wp.logs.some((l) => l.vkey === input.logKey)) {
      throw bad('logKey is not among the policy text\'s log lines');
    }
    return input.logKey;
  }
  const logs = input.origin === undefined ? wp.logs : wp.logs.filter((l) => l.verifier.name === input.origin);
  if (logs.length !== 1) throw bad('give logKey (or a policyText with exactly one matching log line)');
  return logs[0]!.vkey;
}

/** Validates a policy. Throws CLIENT_BAD_POLICY naming the field, TypeError for wrong types. */
export function trustPolicy(input: TrustPolicyInput): TrustPolicy {
  if (input === null || typeof input !== 'object') throw new TypeError('policy: want an object');
  const { wp, quorum } = witnessPolicyOf(input);
  const logKey = logKeyOf(input, wp);
  let logVerifier: Ed25519Verifier;
  try {
    logVerifier = parseVerifierKey(logKey);
  } catch (err) {
    throw bad(`logKey: ${messageOf(err)}`, err);
  }
  const origin = input.origin ?? logVerifier.name;
  if (typeof origin !== 'string' || origin.length === 0 || origin.includes('\n')) throw bad('origin must be a non-empty line');
  const maxAgeSeconds = seconds('maxAgeSeconds', input.maxAgeSeconds);
  const maxFutureSkewSeconds = seconds('maxFutureSkewSeconds', input.maxFutureSkewSeconds) ?? DEFAULT_MAX_FUTURE_SKEW_SECONDS;
  if (maxAgeSeconds !== null && wp.witnesses.length === 0) {
    throw bad('maxAgeSeconds needs witnesses: a checkpoint carries no time, only cosignatures do');
  }
  return Object.freeze({
    origin,
    logKey,
    logVerifier,
    witnesses: Object.freeze(wp.witnesses.map((w) => w.verifier)),
    witnessPolicy: wp,
    quorum,
    maxAgeSeconds,
    maxFutureSkewSeconds,
  });
}

/** A TrustPolicy as is, or trustPolicy(input). */
export function asTrustPolicy(p: TrustPolicy | TrustPolicyInput): TrustPolicy {
  return isTrustPolicy(p) ? p : trustPolicy(p);
}

function isTrustPolicy(p: TrustPolicy | TrustPolicyInput): p is TrustPolicy {
  return typeof p === 'object' && p !== null && 'logVerifier' in p && 'witnessPolicy' in p && Object.isFrozen(p);
}
