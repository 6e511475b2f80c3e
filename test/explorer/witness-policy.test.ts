// The log browser judges cosignatures by the log's announced policy, not by
// "all keys": 2 of 3 is met by two verified lines and not by one; only
// verified witness lines with the policy witness's key name and ID count;
// groups nest; text that is not a policy is reported, never met.
import { describe, expect, it } from 'vitest';
import { describePolicy, judgePolicy, type CountedLine } from '../../src/explorer/witness-policy.js';
import { formatPolicy, generateCosignerKey, parseCosignatureVerifierKey, parsePolicy, simplePolicy } from '../../src/note/index.js';

const keys = [1, 2, 3].map((n) => generateCosignerKey(`w${n}.example`, new Uint8Array(32).fill(n)).verifierKey);
const twoOfThree = formatPolicy(simplePolicy(keys.map((vkey) => ({ vkey, url: null })), 2));

function line(vkey: string, status = 'verified', role = 'witness'): CountedLine {
  const v = parseCosignatureVerifierKey(vkey);
  return { name: v.name, keyId: v.keyId, role, status };
}

describe('describePolicy', () => {
  it('says K of N with the members, nests groups, and names quorum none and a lone witness', () => {
    expect(describePolicy(parsePolicy(twoOfThree))).toBe('at least 2 of 3 witnesses: w1.example, w2.example, w3.example');
    const nested = `witness a ${keys[0]}\nwitness b ${keys[1]}\nwitness c ${keys[2]}\ngroup ab any a b\ngroup top all ab c\nquorum top\n`;
    expect(describePolicy(parsePolicy(nested))).toBe('at least 2 of 2: (1 of 2 witnesses: a, b), c');
    expect(describePolicy(parsePolicy(`witness a ${keys[0]}\nquorum a\n`))).toBe('witness a must cosign');
    expect(describePolicy(parsePolicy('quorum none\n'))).toBe('no cosignature required (quorum none)');
  });
});

describe('judgePolicy', () => {
  it('2 of 3: met with two verified lines, not with one; lists who cosigned and who did not', () => {
    const met = judgePolicy(twoOfThree, [line(keys[0]!), line(keys[2]!)]);
    expect(met).toEqual({
      description: 'at least 2 of 3 witnesses: w1.example, w2.example, w3.example',
      met: true,
      cosigned: ['w1.example', 'w3.example'],
      missing: ['w2.example'],
      error: null,
    });
    expect(judgePolicy(twoOfThree, [line(keys[0]!)]).met).toBe(false);
  });

  it('failed, unpinned and unchecked lines do not count, nor a line by another key under a policy name', () => {
    const impostor = generateCosignerKey('w2.example', new Uint8Array(32).fill(9)).verifierKey;
    const v = judgePolicy(twoOfThree, [line(keys[0]!), line(keys[1]!, 'failed'), line(keys[2]!, 'unpinned'), line(impostor)]);
    expect(v.met).toBe(false);
    expect(v.cosigned).toEqual(['w1.example']);
    expect(judgePolicy(twoOfThree, [line(keys[0]!), line(keys[1]!, 'verified', 'unknown')]).met).toBe(false);
  });

  it('an announced text that is not a policy: the reason, never met', () => {
    const v = judgePolicy('quorum nobody\n', [line(keys[0]!)]);
    expect(v.met).toBe(false);
    expect(v.description).toBeNull();
    expect(v.error).toContain('policy line 1');
  });
});
