// RFC 7512 PKCS#11 URIs: the strict parser and its canonical formatter.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isTilelogError } from '../../src/errors.js';
import { formatPkcs11Uri, parsePkcs11Uri, redactPkcs11Uri, type Pkcs11Uri } from '../../src/hsm/pkcs11-uri.js';

const MOD = 'module-path=/usr/lib/softhsm/libsofthsm2.so';

function refused(text: string): string {
  try {
    parsePkcs11Uri(text);
  } catch (err) {
    expect(isTilelogError(err, 'SIGNER_CONFIG'), String(err)).toBe(true);
    return (err as Error).message;
  }
  throw new Error(`accepted ${text}`);
}

describe('parsePkcs11Uri', () => {
  it('reads the example of the docs: path attributes, module path and PIN file', () => {
    const u = parsePkcs11Uri('pkcs11:token=tilelog;object=log-key?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/etc/tilelog/pin');
    expect(u).toEqual({ path: { token: 'tilelog', object: 'log-key' }, modulePath: '/usr/lib/softhsm/libsofthsm2.so', pinFile: '/etc/tilelog/pin' });
  });

  it('percent-decodes values as UTF-8, id as raw bytes, and reads type and slot-id', () => {
    const u = parsePkcs11Uri(`PKCS11:token=My%20Token;object=k%C3%A9y;id=%01%FF%00;type=private;slot-id=18446744073709551615?${MOD}&pin-source=file:///p%20in`);
    expect(u.path).toEqual({ token: 'My Token', object: 'kéy' });
    expect([...u.id!]).toEqual([1, 255, 0]);
    expect(u.type).toBe('private');
    expect(u.slotId).toBe(2n ** 64n - 1n);
    expect(u.pinFile).toBe('/p in');
    // RFC 7512: '&' is literal in a path value; '/' and '?' in a query value.
    expect(parsePkcs11Uri(`pkcs11:object=a&b?${MOD}`).path.object).toBe('a&b');
  });

  it('refuses the PIN in the URI, without echoing it', () => {
    const m = refused(`pkcs11:token=t;object=k?${MOD}&pin-value=s3cret-pin`);
    expect(m).toMatch(/pin-value is refused.*pin-source=file:/);
    expect(m).not.toContain('s3cret');
    expect(redactPkcs11Uri(`pkcs11:object=k?pin-value=s3cret&${MOD}`)).toBe(`pkcs11:object=k?pin-value=[hidden]&${MOD}`);
  });

  it('refuses what it cannot be sure of', () => {
    expect(refused(`pkcs11:token=a;token=b?${MOD}`)).toMatch(/token is given twice/);
    expect(refused(`pkcs11:x-vendor=1?${MOD}`)).toMatch(/unknown path attribute "x-vendor"/);
    expect(refused(`pkcs11:module-path=/x`)).toMatch(/belongs after '\?'/);
    expect(refused(`pkcs11:object=a%2?${MOD}`)).toMatch(/two hex digits/);
    expect(refused(`pkcs11:object=a b?${MOD}`)).toMatch(/must be percent-encoded/);
    expect(refused(`pkcs11:object=%FF?${MOD}`)).toMatch(/not UTF-8/);
    expect(refused(`pkcs11:object=k?${MOD}#frag`)).toMatch(/fragment/);
    expect(refused('pkcs11:object=k')).toMatch(/module-path is required/);
    expect(refused('pkcs11:object=k?module-name=softhsm2')).toMatch(/module-name alone/);
    expect(refused('pkcs11:object=k?module-path=lib.so')).toMatch(/absolute/);
    expect(refused(`pkcs11:object=k?${MOD}&pin-source=|/bin/echo`)).toMatch(/file: URI of an absolute path/);
    expect(refused(`pkcs11:object=k?${MOD}&pin-source=file:relative`)).toMatch(/absolute path/);
    expect(refused(`pkcs11:object=k?${MOD}&pin-source=file://host/p`)).toMatch(/absolute path/);
    expect(refused(`pkcs11:type=secret?${MOD}`)).toMatch(/type must be one of/);
    expect(refused(`pkcs11:slot-id=01?${MOD}`)).toMatch(/slot-id/);
    expect(refused(`pkcs11:slot-id=18446744073709551616?${MOD}`)).toMatch(/slot-id/);
    expect(refused(`pkcs11:=x?${MOD}`)).toMatch(/needs a name/);
    expect(refused('file:/x')).toMatch(/must start with 'pkcs11:'/);
  });
});

const text = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 });
const abs = fc.array(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 6 }).filter((s) => !s.includes('\0')), { minLength: 1, maxLength: 3 }).map((a) => `/${a.join('/')}`);

const uriArb: fc.Arbitrary<Pkcs11Uri> = fc.record(
  {
    path: fc.record(
      { token: text, manufacturer: text, serial: text, model: text, object: text, 'slot-description': text, 'library-version': text },
      { requiredKeys: [] },
    ),
    id: fc.uint8Array({ minLength: 1, maxLength: 20 }),
    type: fc.constantFrom('public', 'private', 'cert', 'secret-key', 'data') as fc.Arbitrary<Pkcs11Uri['type'] & string>,
    slotId: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    modulePath: abs,
    pinFile: abs,
  },
  { requiredKeys: ['path', 'modulePath'] },
);

describe('formatPkcs11Uri', () => {
  it('round-trips any attribute values, however they must be encoded', () => {
    fc.assert(
      fc.property(uriArb, (u) => {
        const back = parsePkcs11Uri(formatPkcs11Uri(u));
        expect(back).toEqual(u);
        expect(formatPkcs11Uri(back)).toBe(formatPkcs11Uri(u));
      }),
      { numRuns: 2000 },
    );
    // A path starting with '//' must not turn into an authority.
    const slashes: Pkcs11Uri = { path: {}, modulePath: '/m', pinFile: '//x/pin' };
    expect(parsePkcs11Uri(formatPkcs11Uri(slashes))).toEqual(slashes);
  });

  it('decodes any percent-encoding of a value to the same attribute (encoding is not identity)', () => {
    fc.assert(
      fc.property(text, fc.array(fc.boolean(), { minLength: 64, maxLength: 64 }), (object, encodeMask) => {
        const bytes = new TextEncoder().encode(object);
        // Encode a random subset of the bytes that may stay literal, and always the ones that may not.
        const value = [...bytes]
          .map((b, i) => (/[A-Za-z0-9\-._~]/.test(String.fromCharCode(b)) && b < 0x80 && !encodeMask[i % 64] ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, '0')}`))
          .join('');
        expect(parsePkcs11Uri(`pkcs11:object=${value}?${MOD}`).path.object).toBe(object);
      }),
      { numRuns: 300 },
    );
  });

  it('never accepts a string that carries pin-value, and never puts its value in the error', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9]{4,16}$/).map((s) => `Zq${s}9`), fc.boolean(), (pin, first) => {
        const q = first ? `pin-value=${pin}&${MOD}` : `${MOD}&pin-value=${pin}`;
        const m = refused(`pkcs11:object=k?${q}`);
        expect(m).not.toContain(pin);
      }),
    );
  });
});
