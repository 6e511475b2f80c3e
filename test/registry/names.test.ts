import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isTilelogError } from '../../src/errors.js';
import { MAX_AGENT_HOST_OCTETS, MAX_ANS_NAME_OCTETS, parseAlias, parseAnsName, parseNameRef } from '../../src/registry/names.js';

const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/);
const host = fc.array(label, { minLength: 2, maxLength: 6 }).map((l) => l.join('.')).filter((h) => h.length <= MAX_AGENT_HOST_OCTETS);
const num = fc.maxSafeNat();
const caseMix = (s: string, flips: boolean[]) => [...s].map((c, i) => (flips[i % flips.length] ? c.toUpperCase() : c)).join('');

const badName = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    return isTilelogError(err, 'REGISTRY_BAD_NAME');
  }
  return false;
};

describe('ANS names', () => {
  it('valid names parse to themselves, from any case and without the scheme (property)', () => {
    fc.assert(
      fc.property(num, num, num, host, fc.array(fc.boolean(), { minLength: 1 }), (a, b, c, h, flips) => {
        const name = `ans://v${a}.${b}.${c}.${h}`;
        fc.pre(name.length <= MAX_ANS_NAME_OCTETS);
        const p = parseAnsName(caseMix(name, flips));
        expect(p).toEqual({ name, major: a, minor: b, patch: c, host: h });
        expect(parseAnsName(name.slice('ans://'.length)).name).toBe(name);
        expect(parseNameRef(name)).toEqual({ kind: 'ans', ans: p });
      }),
    );
  });

  it('a leading zero in a version number is refused (property)', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 999 }), host, (n, h) => {
      expect(badName(() => parseAnsName(`ans://v0${n}.0.0.${h}`))).toBe(true);
    }));
  });

  it('a label with a character outside LDH, or a hyphen at an end, is refused (property)', () => {
    const badChar = fc.constantFrom('_', '*', ' ', '/', ':', 'é', '!');
    fc.assert(
      fc.property(host, badChar, fc.nat(), (h, ch, at) => {
        const i = at % (h.length + 1);
        expect(badName(() => parseAnsName(`ans://v1.0.0.${h.slice(0, i)}${ch}${h.slice(i)}`))).toBe(true);
      }),
    );
    fc.assert(fc.property(host, (h) => {
      expect(badName(() => parseAnsName(`ans://v1.0.0.-${h}`))).toBe(true);
    }));
    fc.assert(fc.property(host, (h) => {
      expect(badName(() => parseAnsName(`ans://v1.0.0.${h}-`))).toBe(true);
    }));
  });

  it('length limits: host 237 octets, label 63, whole name 400', () => {
    const l63 = 'a'.repeat(63);
    const host237 = [l63, l63, l63, 'a'.repeat(237 - 3 * 64)].join('.');
    expect(host237.length).toBe(237);
    expect(parseAnsName(`ans://v1.0.0.${host237}`).host).toBe(host237);
    expect(badName(() => parseAnsName(`ans://v1.0.0.${host237}a`))).toBe(true);
    expect(badName(() => parseAnsName(`ans://v1.0.0.${'a'.repeat(64)}.example`))).toBe(true);
    // Long version numbers push the whole name over 400 even with a short host.
    const big = String(Number.MAX_SAFE_INTEGER);
    expect(parseAnsName(`ans://v${big}.${big}.${big}.${host237}`).name.length).toBe(6 + 1 + 3 * 16 + 3 + 237);
    expect(badName(() => parseAnsName(`ans://v${'9'.repeat(400)}.0.0.a.example`))).toBe(true);
  });

  it.each([
    'ans://v1.0.a.example',
    'ans://v1.0.0.example', // one label
    'ans://1.0.0.a.example',
    'ans://v1.0.0.a..example',
    'ans://v1.0.0.a.example.',
    'ans://v1.0.a.b.example.x',
    'https://v1.0.0.a.example',
    'ans://v1.0.0.ex ample.com',
    'ans://v-1.0.0.a.example',
    'ans://v1.0.0.a.example/path',
    'ans://v9007199254740992.0.0.a.example',
    '',
  ])('refuses %j', (s) => expect(badName(() => parseAnsName(s))).toBe(true));
});

describe('aliases', () => {
  it('valid aliases parse lower-cased (property)', () => {
    fc.assert(
      fc.property(host, (h) => {
        fc.pre(!/^v[0-9]+$/.test(h.split('.')[0]!));
        expect(parseAlias(h.toUpperCase())).toBe(h);
        expect(parseNameRef(h)).toEqual({ kind: 'alias', alias: h });
      }),
    );
  });

  it.each(['order-bot', 'v1.acme', 'V2.acme', 'order_bot.acme', '-x.acme', 'a.b.'])('refuses %j', (s) => {
    expect(badName(() => parseNameRef(s))).toBe(true);
  });

  it('an alias never reads as an ANS name and vice versa', () => {
    expect(parseNameRef('order-bot.acme').kind).toBe('alias');
    expect(parseNameRef('v1x.acme').kind).toBe('alias');
    expect(parseNameRef('v1.0.0.a.example').kind).toBe('ans');
  });
});
