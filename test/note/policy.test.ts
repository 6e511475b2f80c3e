// c2sp.org/tlog-policy parsing and quorum evaluation.
import { describe, expect, it } from 'vitest';
import { isTilelogError } from '../../src/errors.js';
import { generateCosignerKey } from '../../src/note/cosignature.js';
import { generateSignerKey } from '../../src/note/keys.js';
import { formatPolicy, parsePolicy, policySatisfied, simplePolicy } from '../../src/note/policy.js';

const seed = (n: number) => new Uint8Array(32).fill(n);
const w = (n: number) => generateCosignerKey(`w${n}.example`, seed(n)).verifierKey;
const logKey = generateSignerKey('log.example/a', seed(99)).verifierKey;

function rejects(text: string, pattern: RegExp): void {
  try {
    parsePolicy(text);
  } catch (err) {
    expect(isTilelogError(err, 'NOTE_BAD_POLICY')).toBe(true);
    expect((err as Error).message).toMatch(pattern);
    return;
  }
  throw new Error(`accepted: ${text}`);
}

describe('parsePolicy', () => {
  it('parses the spec example shape: two levels of groups, comments, blanks, tabs', () => {
    const text = [
      '# a comment',
      `log ${logKey} https://log.example/a`,
      '',
      `witness X1 ${w(1)} https://x1.example`,
      `\twitness X2  ${w(2)}`,
      `witness X3 ${w(3)}`,
      'group X-witnesses 2 X1 X2 X3',
      '   # indented comment',
      `witness Y1 ${w(4)}`,
      `witness Y2 ${w(5)}`,
      `witness Y3 ${w(6)}`,
      'group Y-witnesses any Y1 Y2 Y3',
      'group X-and-Y all X-witnesses Y-witnesses',
      'quorum X-and-Y',
    ].join('\n');
    const p = parsePolicy(text);
    expect(p.logs).toHaveLength(1);
    expect(p.logs[0]!.url).toBe('https://log.example/a');
    expect(p.witnesses.map((x) => x.name)).toEqual(['X1', 'X2', 'X3', 'Y1', 'Y2', 'Y3']);
    expect(p.witnesses[0]!.url).toBe('https://x1.example');
    expect(p.witnesses[1]!.url).toBeNull();
    expect(p.groups.map((g) => [g.name, g.threshold])).toEqual([
      ['X-witnesses', 2],
      ['Y-witnesses', 1],
      ['X-and-Y', 2],
    ]);
    expect(p.quorum).toBe('X-and-Y');
    const ok = (...names: string[]) => policySatisfied(p, new Set(names));
    expect(ok('X1', 'X2', 'Y3')).toBe(true);
    expect(ok('X1', 'X3', 'Y1', 'Y2')).toBe(true);
    expect(ok('X1', 'Y1', 'Y2', 'Y3')).toBe(false);
    expect(ok('X1', 'X2', 'X3')).toBe(false);
    expect(ok()).toBe(false);
    // Round trip through the canonical form.
    expect(formatPolicy(parsePolicy(formatPolicy(p)))).toBe(formatPolicy(p));
  });

  it('quorum none needs nothing; a single witness as quorum needs that witness', () => {
    expect(policySatisfied(parsePolicy('quorum none\n'), new Set())).toBe(true);
    const one = parsePolicy(`witness A ${w(1)}\nwitness B ${w(2)}\nquorum B`);
    expect(policySatisfied(one, new Set(['A']))).toBe(false);
    expect(policySatisfied(one, new Set(['B']))).toBe(true);
  });

  it('accepts bytes (UTF-8 names) and a missing final newline', () => {
    const p = parsePolicy(new TextEncoder().encode(`witness Zeugé ${w(1)}\nquorum Zeugé`));
    expect(p.witnesses[0]!.name).toBe('Zeugé');
  });

  it('refuses every rule violation with the line number', () => {
    rejects('', /no quorum line/);
    rejects(`witness A ${w(1)}\n`, /no quorum line/);
    rejects('quorum none\nquorum none\n', /line 2: .*exactly one quorum/);
    rejects('quorum A\n', /line 1: quorum A is not defined/);
    rejects(`quorum A\nwitness A ${w(1)}\n`, /line 1: quorum A is not defined/);
    rejects(`witness A ${w(1)}\r\nquorum A\n`, /line 1: control character 0x0d/);
    rejects(`witness A ${w(1)}\nquorum A\u0000\n`, /line 2: control character 0x00/);
    rejects(new Uint8Array([0x71, 0xff, 0x0a]) as unknown as string, /not valid UTF-8/);
    rejects('frobnicate x\nquorum none\n', /unknown keyword "frobnicate"/);
    rejects(`witness none ${w(1)}\nquorum none\n`, /"none" is reserved/);
    rejects(`witness A ${w(1)}\nwitness A ${w(2)}\nquorum A\n`, /line 2: A is already defined/);
    rejects(`witness A ${w(1)}\ngroup A any A\nquorum A\n`, /line 2: A is already defined/);
    rejects(`witness A ${w(1)}\nwitness B ${w(1)}\nquorum A\n`, /same public key as witness A/);
    rejects(`log ${logKey}\nlog ${logKey}\nquorum none\n`, /already listed/);
    rejects(`witness A notakey\nquorum A\n`, /line 1: bad verifier key/);
    rejects(`witness A\nquorum A\n`, /want "witness <name> <vkey> \[<url>\]"/);
    rejects(`witness A ${w(1)} http://a extra\nquorum A\n`, /want "witness/);
    rejects(`witness A ${w(1)}\ngroup G 2 A\nquorum G\n`, /threshold 2 must be between 1 and the 1 members/);
    rejects(`witness A ${w(1)}\ngroup G 0 A\nquorum G\n`, /threshold 0/);
    rejects(`witness A ${w(1)}\ngroup G 01 A\nquorum G\n`, /threshold "01"/);
    rejects(`witness A ${w(1)}\ngroup G some A\nquorum G\n`, /threshold "some"/);
    rejects(`witness A ${w(1)}\ngroup G any\nquorum G\n`, /at least one member/);
    rejects(`witness A ${w(1)}\ngroup G any A B\nquorum G\n`, /member B is not defined/);
    rejects(`witness A ${w(1)}\ngroup G any A none\nquorum G\n`, /"none" cannot be a group member/);
    rejects(`witness A ${w(1)}\ngroup G any A A\nquorum G\n`, /A is already a member/);
    rejects(`witness A ${w(1)}\ngroup G any A\ngroup H any A\nquorum H\n`, /line 3: A is already a member/);
    rejects(`quorum none extra\n`, /want "quorum <name>"/);
  });
});

describe('simplePolicy', () => {
  it('names witnesses by key name and requires K of them', () => {
    const p = simplePolicy(
      [
        { vkey: w(1), url: 'http://127.0.0.1:1' },
        { vkey: w(2), url: 'http://127.0.0.1:2' },
        { vkey: w(3), url: 'http://127.0.0.1:3' },
      ],
      2,
    );
    expect(p.witnesses.map((x) => x.name)).toEqual(['w1.example', 'w2.example', 'w3.example']);
    expect(p.witnesses[2]!.url).toBe('http://127.0.0.1:3');
    expect(policySatisfied(p, new Set(['w1.example']))).toBe(false);
    expect(policySatisfied(p, new Set(['w1.example', 'w3.example']))).toBe(true);
    expect(formatPolicy(p)).toContain('group quorum 2 w1.example w2.example w3.example\nquorum quorum\n');
  });

  it('suffixes repeated key names; quorum 0 is none; refuses K beyond N', () => {
    const other = generateCosignerKey('w1.example', seed(50)).verifierKey;
    const p = simplePolicy([{ vkey: w(1), url: null }, { vkey: other, url: null }], 0);
    expect(p.witnesses.map((x) => x.name)).toEqual(['w1.example', 'w1.example#2']);
    expect(p.quorum).toBe('none');
    expect(() => simplePolicy([{ vkey: w(1), url: null }], 2)).toThrow(/quorum 2/);
  });
});
