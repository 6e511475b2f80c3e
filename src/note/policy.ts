// Witness policies (c2sp.org/tlog-policy): which logs and witnesses are known,
// and the quorum rule a checkpoint's cosignatures must meet. Pure parsing and
// evaluation; logs use it to decide when to publish, clients to accept.
//
//   log <vkey> [<url>]                    a log key (its name is the origin)
//   witness <name> <vkey> [<url>]         a cosigner (cosignature/v1 vkey)
//   group <name> <k|any|all> <name>...    k of the n members, 1 <= k <= n
//   quorum <name>                         exactly one; `none` needs nothing
//
// Lines end in LF; fields are separated by runs of space or tab; blank lines
// and lines whose first non-blank is `#` are ignored. Allowed octets: tab, LF,
// 0x20-0x7E and 0x80-0xFF. The spec treats high octets as opaque; we require
// them to be UTF-8 (which it recommends) so names compare as strings. Names
// (witnesses and groups share one namespace, `none` is reserved) must be
// defined before a group or the quorum mentions them, and each name may be a
// group member at most once in the whole file. Two logs, or two witnesses,
// wrapping the same public key are refused.

import { TilelogError } from '../errors.js';
import { parseCosignatureVerifierKey, type CosignatureVerifier } from './cosignature.js';
import { parseVerifierKey, type Ed25519Verifier } from './keys.js';
import type { NoteSignature } from './note.js';
import { utf8DecodeStrict } from './utf8.js';

/** Most witnesses, groups or logs a policy may define (the spec recommends supporting >= 32). */
export const MAX_POLICY_ITEMS = 256;
const NONE = 'none';

export interface PolicyLog {
  readonly vkey: string;
  readonly verifier: Ed25519Verifier;
  readonly url: string | null;
}

export interface PolicyWitness {
  /** The name used in the policy (groups, quorum). */
  readonly name: string;
  /** Its cosignature/v1 verifier key, as written. */
  readonly vkey: string;
  readonly verifier: CosignatureVerifier;
  /** The submission prefix (add-checkpoint is at `<url>/add-checkpoint`), or null. */
  readonly url: string | null;
}

export interface PolicyGroup {
  readonly name: string;
  /** At least this many members must be satisfied; 1 <= threshold <= members.length. */
  readonly threshold: number;
  readonly members: readonly string[];
}

export interface WitnessPolicy {
  readonly logs: readonly PolicyLog[];
  readonly witnesses: readonly PolicyWitness[];
  readonly groups: readonly PolicyGroup[];
  /** A witness or group name, or 'none'. */
  readonly quorum: string;
}

/** Parses tlog-policy text. Throws NOTE_BAD_POLICY naming the line and the rule. */
export function parsePolicy(input: string | Uint8Array): WitnessPolicy {
  const text = typeof input === 'string' ? input : utf8DecodeStrict(input);
  if (text === null) throw bad(0, 'the file is not valid UTF-8');
  const logs: PolicyLog[] = [];
  const witnesses: PolicyWitness[] = [];
  const groups: PolicyGroup[] = [];
  const defined = new Map<string, 'witness' | 'group'>();
  const usedAsMember = new Set<string>();
  let quorum: string | null = null;

  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  lines.forEach((raw, i) => {
    const n = i + 1;
    const badChar = /[^\t\x20-\x7e\u0080-\u{10ffff}]/u.exec(raw);
    if (badChar !== null) {
      const code = badChar[0].codePointAt(0)!.toString(16).padStart(2, '0');
      throw bad(n, `control character 0x${code} (only tab and LF are allowed; CRLF files must be converted)`);
    }
    const fields = raw.split(/[ \t]+/).filter((f) => f !== '');
    if (fields.length === 0 || fields[0]!.startsWith('#')) return;
    const [keyword, ...args] = fields as [string, ...string[]];
    switch (keyword) {
      case 'log': {
        if (args.length < 1 || args.length > 2) throw bad(n, 'want "log <vkey> [<url>]"');
        const verifier = parseKey(n, args[0]!, (k) => parseVerifierKey(k));
        if (logs.some((l) => sameKey(l.verifier.publicKey, verifier.publicKey))) {
          throw bad(n, 'a log with this public key is already listed');
        }
        logs.push({ vkey: args[0]!, verifier, url: args[1] ?? null });
        count(n, logs.length, 'logs');
        return;
      }
      case 'witness': {
        if (args.length < 2 || args.length > 3) throw bad(n, 'want "witness <name> <vkey> [<url>]"');
        const name = defineName(n, args[0]!, defined, 'witness');
        const verifier = parseKey(n, args[1]!, (k) => parseCosignatureVerifierKey(k));
        const dup = witnesses.find((w) => sameKey(w.verifier.publicKey, verifier.publicKey));
        if (dup !== undefined) throw bad(n, `witness ${name} has the same public key as witness ${dup.name}`);
        witnesses.push({ name, vkey: args[1]!, verifier, url: args[2] ?? null });
        count(n, witnesses.length, 'witnesses');
        return;
      }
      case 'group': {
        if (args.length < 3) throw bad(n, 'want "group <name> <k|any|all> <member>..." with at least one member');
        const [name, k, ...members] = args as [string, string, ...string[]];
        for (const m of members) {
          if (m === NONE) throw bad(n, '"none" cannot be a group member');
          if (!defined.has(m)) throw bad(n, `member ${m} is not defined on an earlier line`);
          if (usedAsMember.has(m)) throw bad(n, `${m} is already a member of a group (each name may be listed once)`);
          usedAsMember.add(m);
        }
        const threshold = parseThreshold(n, k, members.length);
        groups.push({ name: defineName(n, name, defined, 'group'), threshold, members });
        count(n, groups.length, 'groups');
        return;
      }
      case 'quorum': {
        if (args.length !== 1) throw bad(n, 'want "quorum <name>"');
        if (quorum !== null) throw bad(n, 'a policy has exactly one quorum line');
        const name = args[0]!;
        if (name !== NONE && !defined.has(name)) throw bad(n, `quorum ${name} is not defined on an earlier line`);
        quorum = name;
        return;
      }
      default:
        throw bad(n, `unknown keyword ${JSON.stringify(keyword)} (want log, witness, group or quorum)`);
    }
  });
  if (quorum === null) throw bad(0, 'no quorum line (use "quorum none" to require no cosignatures)');
  return { logs, witnesses, groups, quorum };
}

/**
 * The simple form: these witnesses, at least `quorum` of them. Names are the
 * witnesses' key names (suffixed `#2`, ... if two share one). quorum 0 is
 * `quorum none`.
 */
export function simplePolicy(witnesses: readonly { vkey: string; url: string | null }[], quorum: number): WitnessPolicy {
  if (!Number.isSafeInteger(quorum) || quorum < 0 || quorum > witnesses.length) {
    throw new TilelogError('NOTE_BAD_POLICY', `policy: quorum ${quorum} is not between 0 and the ${witnesses.length} witnesses`);
  }
  let text = '';
  const names = new Set<string>();
  for (const w of witnesses) {
    const keyName = w.vkey.slice(0, Math.max(0, w.vkey.indexOf('+')));
    let name = keyName;
    for (let k = 2; names.has(name) || name === NONE || name === ''; k++) name = `${keyName}#${k}`;
    names.add(name);
    text += `witness ${name} ${w.vkey}${w.url === null ? '' : ` ${w.url}`}\n`;
  }
  if (quorum === 0) return parsePolicy(`${text}quorum none\n`);
  return parsePolicy(`${text}group quorum ${quorum} ${[...names].join(' ')}\nquorum quorum\n`);
}

/** True when the witnesses named in `cosigned` meet the policy's quorum. */
export function policySatisfied(policy: WitnessPolicy, cosigned: ReadonlySet<string>): boolean {
  if (policy.quorum === NONE) return true;
  const groups = new Map(policy.groups.map((g) => [g.name, g]));
  const memo = new Map<string, boolean>();
  const met = (name: string): boolean => {
    const seen = memo.get(name);
    if (seen !== undefined) return seen;
    const g = groups.get(name);
    // Groups only name earlier definitions, so this recursion terminates.
    const ok = g === undefined ? cosigned.has(name) : g.members.filter(met).length >= g.threshold;
    memo.set(name, ok);
    return ok;
  };
  return met(policy.quorum);
}

/**
 * The policy witnesses that made these verified signatures (from openNote or
 * openCheckpoint with the policy's verifiers), matched by key name and ID.
 */
export function cosignersOf(policy: WitnessPolicy, verified: readonly NoteSignature[]): Set<string> {
  const out = new Set<string>();
  for (const sig of verified) {
    const w = policy.witnesses.find((x) => x.verifier.name === sig.name && x.verifier.keyId === sig.keyId);
    if (w !== undefined) out.add(w.name);
  }
  return out;
}

/** The policy as canonical tlog-policy text (one item per line, thresholds as numbers). */
export function formatPolicy(policy: WitnessPolicy): string {
  let out = '';
  for (const l of policy.logs) out += `log ${l.vkey}${l.url === null ? '' : ` ${l.url}`}\n`;
  for (const w of policy.witnesses) out += `witness ${w.name} ${w.vkey}${w.url === null ? '' : ` ${w.url}`}\n`;
  for (const g of policy.groups) out += `group ${g.name} ${g.threshold} ${g.members.join(' ')}\n`;
  return `${out}quorum ${policy.quorum}\n`;
}

function defineName(n: number, name: string, defined: Map<string, 'witness' | 'group'>, kind: 'witness' | 'group'): string {
  if (name === NONE) throw bad(n, '"none" is reserved and cannot be defined');
  const earlier = defined.get(name);
  if (earlier !== undefined) throw bad(n, `${name} is already defined as a ${earlier}`);
  defined.set(name, kind);
  return name;
}

function parseThreshold(n: number, k: string, members: number): number {
  if (k === 'any') return 1;
  if (k === 'all') return members;
  if (!/^(0|[1-9][0-9]*)$/.test(k)) throw bad(n, `threshold ${JSON.stringify(k)} must be any, all or a decimal number`);
  const t = Number(k);
  if (t < 1 || t > members) throw bad(n, `threshold ${k} must be between 1 and the ${members} members`);
  return t;
}

function parseKey<T>(n: number, vkey: string, parse: (k: string) => T): T {
  try {
    return parse(vkey);
  } catch (err) {
    throw bad(n, `bad verifier key: ${(err as Error).message}`);
  }
}

function count(n: number, have: number, what: string): void {
  if (have > MAX_POLICY_ITEMS) throw bad(n, `more than ${MAX_POLICY_ITEMS} ${what}`);
}

function sameKey(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function bad(line: number, why: string): TilelogError {
  return new TilelogError('NOTE_BAD_POLICY', line === 0 ? `policy: ${why}` : `policy line ${line}: ${why}`);
}
