// Agent names (spec/ENTRIES.md §Names).
//
// Canonical key: an ANS v2 name (draft-narajala-courtney-ansv2)
//   ans://v<major>.<minor>.<patch>.<agentHost>
// - major, minor, patch: decimal without leading zeros (0 or [1-9][0-9]*),
//   each at most 2^53-1;
// - agentHost: LDH labels (RFC 952/1123: letters, digits, hyphens; 1..63
//   octets; no hyphen first or last) joined by dots, at least two labels,
//   at most 237 octets, no trailing dot;
// - the whole name at most 400 octets.
// Input is lower-cased (the scheme, 'v' and host are case-insensitive);
// the canonical form is all lower case. `v1.2.3.host` without the scheme is
// accepted as input too.
//
// Aliases: plain registry names such as `order-bot.acme`: LDH labels, at
// least two, at most 253 octets in all, and a first label that does not
// look like a version (`v` followed by digits), so an alias can never be
// read as a scheme-less ANS name.

import { TilelogError } from '../errors.js';

export const ANS_SCHEME = 'ans://';
export const MAX_AGENT_HOST_OCTETS = 237;
export const MAX_ANS_NAME_OCTETS = 400;
export const MAX_ALIAS_OCTETS = 253;
export const MAX_LABEL_OCTETS = 63;

export interface AnsName {
  /** The canonical text, e.g. `ans://v1.0.0.order-bot.acme.com`. */
  readonly name: string;
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  /** The agent host, lower case, e.g. `order-bot.acme.com`. */
  readonly host: string;
}

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const NUMBER = /^(0|[1-9][0-9]*)$/;
const VERSION_LABEL = /^v[0-9]+$/;

function badName(message: string): TilelogError {
  return new TilelogError('REGISTRY_BAD_NAME', `name: ${message}`);
}

/** True when host is a lower-case LDH host name of >= 2 labels and at most max octets. */
export function isLdhHost(host: string, max: number): boolean {
  if (host.length === 0 || host.length > max) return false;
  const labels = host.split('.');
  return labels.length >= 2 && labels.every((l) => LABEL.test(l));
}

/** Parses an ANS name (with or without `ans://`, any case). Throws REGISTRY_BAD_NAME. */
export function parseAnsName(input: string): AnsName {
  if (typeof input !== 'string') throw new TypeError('name: input must be a string');
  if (input.length > MAX_ANS_NAME_OCTETS) throw badName(`longer than ${MAX_ANS_NAME_OCTETS} octets`);
  // Only ASCII can be valid; lower-casing non-ASCII could change lengths.
  if (!/^[\x21-\x7e]*$/.test(input)) throw badName(`${JSON.stringify(input)} has characters outside printable ASCII`);
  let s = input.toLowerCase();
  if (s.startsWith(ANS_SCHEME)) s = s.slice(ANS_SCHEME.length);
  else if (s.includes('://')) throw badName(`${JSON.stringify(input)}: the only scheme is ans://`);
  if (!s.startsWith('v')) throw badName(`${JSON.stringify(input)}: expected v<major>.<minor>.<patch>.<host>`);
  const parts = s.slice(1).split('.');
  if (parts.length < 5) throw badName(`${JSON.stringify(input)}: expected v<major>.<minor>.<patch>.<host> with a host of at least two labels`);
  const [ma, mi, pa] = parts as [string, string, string];
  const nums = [ma, mi, pa].map((p, i) => {
    if (!NUMBER.test(p)) throw badName(`${JSON.stringify(input)}: ${['major', 'minor', 'patch'][i]} version ${JSON.stringify(p)} must be a decimal number without leading zeros`);
    const n = Number(p);
    if (!Number.isSafeInteger(n)) throw badName(`${JSON.stringify(input)}: version number ${p} is above 2^53-1`);
    return n;
  });
  const host = parts.slice(3).join('.');
  if (host.length > MAX_AGENT_HOST_OCTETS) throw badName(`agent host is ${host.length} octets, at most ${MAX_AGENT_HOST_OCTETS}`);
  if (!isLdhHost(host, MAX_AGENT_HOST_OCTETS)) {
    throw badName(`agent host ${JSON.stringify(host)} must be LDH labels (a-z, 0-9, '-', 1..63 octets, no '-' first or last) joined by dots`);
  }
  const name = `${ANS_SCHEME}v${nums[0]}.${nums[1]}.${nums[2]}.${host}`;
  if (name.length > MAX_ANS_NAME_OCTETS) throw badName(`longer than ${MAX_ANS_NAME_OCTETS} octets`);
  return { name, major: nums[0]!, minor: nums[1]!, patch: nums[2]!, host };
}

/** True when s is already a canonical ANS name (parse and format give s back). */
export function isCanonicalAnsName(s: string): boolean {
  try {
    return parseAnsName(s).name === s;
  } catch {
    return false;
  }
}

/** Parses an alias such as `order-bot.acme` (any case); returns it lower-cased. Throws REGISTRY_BAD_NAME. */
export function parseAlias(input: string): string {
  if (typeof input !== 'string') throw new TypeError('name: alias must be a string');
  if (input.length > MAX_ALIAS_OCTETS) throw badName(`alias longer than ${MAX_ALIAS_OCTETS} octets`);
  const s = input.toLowerCase();
  if (!/^[\x21-\x7e]*$/.test(input) || !isLdhHost(s, MAX_ALIAS_OCTETS)) {
    throw badName(`alias ${JSON.stringify(input)} must be LDH labels (a-z, 0-9, '-') joined by dots, at least two, like order-bot.acme`);
  }
  if (VERSION_LABEL.test(s.split('.')[0]!)) throw badName(`alias ${JSON.stringify(input)} must not start with a version label like v1`);
  return s;
}

/** What a path segment names: a canonical ANS name, or an alias to look up. */
export type NameRef = { kind: 'ans'; ans: AnsName } | { kind: 'alias'; alias: string };

/** Reads a name from the API: `ans://...`, `v1.2.3.host`, or an alias. Throws REGISTRY_BAD_NAME. */
export function parseNameRef(input: string): NameRef {
  const lower = typeof input === 'string' ? input.toLowerCase() : input;
  if (typeof lower === 'string' && (lower.startsWith(ANS_SCHEME) || /^v[0-9]+\./.test(lower))) {
    return { kind: 'ans', ans: parseAnsName(input) };
  }
  return { kind: 'alias', alias: parseAlias(input) };
}
