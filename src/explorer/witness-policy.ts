// The log's witness policy, as the server announces it (the `policy` text of
// GET /v1/log/witnesses, c2sp.org/tlog-policy), described in words and
// judged against the cosignature lines this page verified. A line counts for
// a policy witness only when it verified with a key in use (the pinned ones,
// or else the listed ones) and has that witness's key name and ID, so a
// pinned key that differs from the policy's never counts for it.
// The announcement is the server's word: the page says so beside it.

import { parsePolicy, policySatisfied, type WitnessPolicy } from '../note/policy.js';
import { messageOf } from '../client/errors.js';

/** What the page needs of a verified cosignature line. */
export interface CountedLine {
  name: string;
  keyId: number;
  role: string;
  status: string;
}

export interface PolicyVerdict {
  /** The policy in words, e.g. "at least 2 of 3 witnesses: a, b, c"; null when it does not parse. */
  description: string | null;
  met: boolean;
  /** Policy witnesses with a verified line, and those without, in policy order. */
  cosigned: string[];
  missing: string[];
  /** Why the announced text is unusable, or null. */
  error: string | null;
}

/** The quorum rule in words; groups nest in parentheses. */
export function describePolicy(p: WitnessPolicy): string {
  if (p.quorum === 'none') return 'no cosignature required (quorum none)';
  const groups = new Map(p.groups.map((g) => [g.name, g]));
  const words = (name: string, top: boolean): string => {
    const g = groups.get(name);
    if (g === undefined) return top ? `witness ${name} must cosign` : name;
    const members = g.members.map((m) => (groups.has(m) ? `(${words(m, false)})` : m)).join(', ');
    const what = g.members.every((m) => !groups.has(m)) ? ' witnesses' : '';
    return `${top ? 'at least ' : ''}${g.threshold} of ${g.members.length}${what}: ${members}`;
  };
  return words(p.quorum, true);
}

/** Judges the verified lines against the announced policy text. */
export function judgePolicy(policyText: string, lines: readonly CountedLine[]): PolicyVerdict {
  let p: WitnessPolicy;
  try {
    p = parsePolicy(policyText);
  } catch (err) {
    return { description: null, met: false, cosigned: [], missing: [], error: messageOf(err) };
  }
  const verified = lines.filter((l) => l.role === 'witness' && l.status === 'verified');
  const cosigned = p.witnesses.filter((w) => verified.some((l) => l.name === w.verifier.name && l.keyId === w.verifier.keyId)).map((w) => w.name);
  return {
    description: describePolicy(p),
    met: policySatisfied(p, new Set(cosigned)),
    cosigned,
    missing: p.witnesses.map((w) => w.name).filter((n) => !cosigned.includes(n)),
    error: null,
  };
}
