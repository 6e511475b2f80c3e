// fast-check arbitraries for hostile input: path values, query strings,
// headers and bodies. Pure: nothing here knows a server.
import { encode as cborEncode } from 'cbor-x';
import fc from 'fast-check';

const UTF8 = (s: string) => Buffer.from(s, 'utf8');

/** Values for one path parameter or query value: numbers at and past every bound, encodings good and bad, unicode, 10 KB. */
/** Percent-escapes that do not decode: a lone '%', short or non-hex escapes, invalid or overlong UTF-8, lone surrogates. */
export const badEscape: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('%', '%%', '%2', '%zz', '%G0', '%E0%A4%A', '%FF', '%FF%FE', '%C0%AF', '%ED%A0%80', '%F4%90%80%80', '%80', 'MEIw%', 'ok%2'),
  fc.uint8Array({ minLength: 1, maxLength: 24 }).map((b) => [...b].map((x) => `%${x.toString(16).padStart(2, '0')}`).join('')).filter((v) => {
    try {
      decodeURIComponent(v);
      return false;
    } catch {
      return true;
    }
  }),
  fc.tuple(fc.string({ maxLength: 10 }), fc.constantFrom('%', '%E0%A4%A', '%zz')).map(([a, b]) => encodeURIComponent(a) + b),
);

export const weirdValue: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: badEscape, weight: 2 },
  fc.constantFrom(
    '0', '1', '-1', '00', '01', '1.5', '1e3', '0x10', '+1', ' 1', '1 ',
    '255', '256', '65535', '65536', '4294967296', '9007199254740991', '9007199254740992', '18446744073709551616',
    '99999999999999999999999999999999999999', '-9007199254740993', 'NaN', 'Infinity', 'null', 'undefined', 'true',
    '', '.', '..', '%2e', '%2E%2e', '%2f', '%2F..%2F', '%00', '%', '%%', '%2', '%zz', '%E0%A4%A', '%FF%FE', '%C0%AF', '%ED%A0%80',
    '%25', '%2525', '%252e%252e', '+', '%20', '%0A', '%0D%0A', 'é', '%C3%A9', '😀', '%F0%9F%98%80', '\u202e', 'ｘ',
    'x000', 'x001', '000.p', '000.p/0', '000.p/256', '001.p/255', 'entries', 'ans://v1.0.0.bot.acme.example',
    'ans%3A%2F%2Fv1.0.0.bot.acme.example', 'a'.repeat(64), '0'.repeat(64), 'f'.repeat(64), 'F'.repeat(64), 'g'.repeat(64),
    'AAAA', 'MAA=', '==', '/', '//', '\\', '..%5c..', '*', '?', '#', ';', '@', ':', '[', ']', '{}', "'", '"', '<script>',
  ),
  fc.nat({ max: 1 << 20 }).map(String),
  fc.bigInt({ min: -(1n << 80n), max: 1n << 80n }).map(String),
  fc.integer({ min: 1, max: 12 }).map((n) => 'x' + String(n).padStart(3, '0')),
  fc.string({ maxLength: 40 }).map((s) => encodeURIComponent(s)),
  fc.string({ unit: 'binary', maxLength: 20 }).map((s) => encodeURIComponent(s)),
  fc.constantFrom(10_240, 16_000, 70_000).map((n) => 'a'.repeat(n)),
  fc.uint8Array({ maxLength: 24 }).map((b) => [...b].map((x) => `%${x.toString(16).padStart(2, '0')}`).join('')),
);

/** An extra query string (without the '?'). */
export const weirdQuery: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('', '&', '=', '==', 'a', 'a=', '=a', 'a=1&a=2', 'wait=checkpoint', 'wait=CHECKPOINT', 'wait=', 'limit=0', 'limit=-1',
    'limit=1e9', 'limit=99999999999999999999', 'format=pem', 'format=zone', 'issuer=root', 'issuer=x', 'status=active', 'cursor=%',
    'kind=conflicts', 'after=-1', 'origin=%E0%A4%A', 'x=%', '%=%', 'a=%C0%80', '+=+', 'a[b]=c', 'a'.repeat(10_000) + '=1'),
  fc.tuple(fc.constantFrom('wait', 'limit', 'format', 'issuer', 'status', 'owner', 'cursor', 'capability', 'origin', 'after', 'kind', 'x'), weirdValue)
    .map(([k, v]) => `${k}=${v}`),
);

/** A JSON document of the wrong shape for any route, deeply nested at times. */
const wrongJson: fc.Arbitrary<Buffer> = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }).map((v) => UTF8(JSON.stringify(v))),
  fc.constantFrom('null', 'true', '0', '-1', '1e400', '""', '[]', '{}', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{}}}',
    '{"name":5}', '{"name":"ans://v1.0.0.x.example","endpoints":"x"}', '{"endpoints":[{}]}', '{"endpoints":[{"protocol":"A2A","url":"javascript:x"}]}',
    '{"reason":1}', '{"certificate":[]}', '{"certificate":"-----BEGIN CERTIFICATE-----\\nAAAA\\n-----END CERTIFICATE-----"}',
    '{"csr":"-----BEGIN CERTIFICATE REQUEST-----\\nMIIB\\n-----END CERTIFICATE REQUEST-----"}', '{"publicKey":"AAAA"}',
    '{"a":1,"a":2}', '\ufeff{}', '{"x":"\\ud800"}').map(UTF8),
  fc.integer({ min: 1, max: 200_000 }).map((n) => UTF8('['.repeat(n) + ']'.repeat(n))),
  fc.integer({ min: 1, max: 50_000 }).map((n) => UTF8('{"a":'.repeat(n) + '1' + '}'.repeat(n))),
  fc.integer({ min: 1, max: 100_000 }).map((n) => UTF8('['.repeat(n))),
);

/** Bytes that look like CBOR to a decoder and are not a valid entry. */
const cborGarbage: fc.Arbitrary<Buffer> = fc.oneof(
  fc.tuple(fc.integer({ min: 0xa0, max: 0xbf }), fc.uint8Array({ maxLength: 300 })).map(([h, rest]) => Buffer.concat([Buffer.from([h]), rest])),
  fc.jsonValue({ maxDepth: 3 }).map((v) => Buffer.from(cborEncode(v))),
  fc.constantFrom(
    Buffer.from([0x9f, 0x9f, 0x9f, 0x9f]), // indefinite arrays, never closed
    Buffer.from([0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), // a map of 2^64-1 pairs
    Buffer.from([0x5b, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00]), // a 64 GiB byte string
    Buffer.from([0xd9, 0xd9, 0xf7, 0xa0]), // self-described empty map
    Buffer.from('f6f5f4f7', 'hex'),
  ),
  fc.integer({ min: 1, max: 20_000 }).map((n) => Buffer.alloc(n, 0x81)), // deeply nested one-element arrays
);

/** Mutates a valid body: truncate, flip a byte, splice junk, or duplicate. */
export function mutateBytes(valid: Buffer): fc.Arbitrary<Buffer> {
  const n = Math.max(valid.length, 1);
  return fc.oneof(
    fc.nat({ max: n }).map((i) => valid.subarray(0, i)),
    fc.tuple(fc.nat({ max: n - 1 }), fc.integer({ min: 1, max: 255 })).map(([i, x]) => {
      const b = Buffer.from(valid);
      if (b.length > 0) b[i % b.length] = b[i % b.length]! ^ x;
      return b;
    }),
    fc.tuple(fc.nat({ max: n }), fc.uint8Array({ minLength: 1, maxLength: 64 })).map(([i, junk]) => Buffer.concat([valid.subarray(0, i), junk, valid.subarray(i)])),
    fc.constant(Buffer.concat([valid, valid])),
  );
}

/** Any hostile body for a route; valid is a well-formed body to mutate (empty for routes without one). */
export function weirdBody(valid: Buffer): fc.Arbitrary<Buffer> {
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant(Buffer.alloc(0)) },
    { weight: 3, arbitrary: fc.uint8Array({ maxLength: 4096 }).map((b) => Buffer.from(b)) },
    { weight: 4, arbitrary: mutateBytes(valid) },
    { weight: 3, arbitrary: wrongJson },
    { weight: 2, arbitrary: cborGarbage },
    { weight: 1, arbitrary: fc.constantFrom(64 * 1024 + 1, 300_000, 2 * 1024 * 1024).map((len) => Buffer.alloc(len, 0x61)) },
  );
}

/** Mutations of an add-checkpoint body (a C2SP signed note after "old N" and proof lines). */
export function weirdNote(valid: string): fc.Arbitrary<Buffer> {
  const lines = valid.split('\n');
  return fc.oneof(
    mutateBytes(UTF8(valid)),
    fc.nat({ max: lines.length - 1 }).map((i) => UTF8(lines.filter((_, j) => j !== i).join('\n'))),
    fc.tuple(fc.nat({ max: lines.length - 1 }), fc.constantFrom('', ' ', 'old -1', 'old 18446744073709551616', '— x AAAA', '—', 'a'.repeat(70_000), '\r', '\u0000', 'old 0 0'))
      .map(([i, l]) => UTF8([...lines.slice(0, i), l, ...lines.slice(i)].join('\n'))),
    fc.constantFrom(valid.replace(/\n/g, '\r\n'), valid.replace(/^old \d+/, 'old 99999999999999999999'), valid.replace(/\n\n/, '\n'),
      valid + valid.slice(valid.lastIndexOf('—')), valid.replace(/ [A-Za-z0-9+/=]+\n$/, ' @@@@\n'), valid.trimEnd()).map(UTF8),
  );
}

export const weirdContentType = fc.constantFrom(
  'application/json', 'application/cbor', 'application/octet-stream', 'text/plain', 'text/plain; charset=utf-8',
  'application/json; charset=utf-16', 'application/ocsp-request', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded',
  '', '*/*', 'application/json, text/plain', 'a'.repeat(9000), 'application/json; charset=' + 'x'.repeat(500),
);

/** Extra header lines (name, value) that are hostile but mostly well-formed; huge ones are answered 431. */
export const weirdHeaders: fc.Arbitrary<[string, string][]> = fc.array(
  fc.oneof(
    fc.constantFrom<[string, string]>(
      ['Accept', 'application/cbor'], ['Accept', 'text/html'], ['Accept', '*/*;q=abc'], ['Accept-Encoding', 'gzip, br, zstd'],
      ['Origin', 'https://evil.example'], ['Origin', 'null'], ['Access-Control-Request-Method', 'POST'], ['Expect', '100-continue'],
      ['Expect', 'nonsense'], ['If-None-Match', '"x"'], ['If-Modified-Since', 'yesterday'], ['Range', 'bytes=0-1'], ['Range', 'bytes=99999999999-'],
      ['X-Forwarded-For', '1.2.3.4, ::1'], ['X-Request-Id', 'a'.repeat(4000)], ['Authorization', 'Bearer '], ['Authorization', 'Basic Og=='],
      ['Authorization', 'Bearer ' + 'x'.repeat(5000)], ['Cookie', 'a=' + 'b'.repeat(2000)], ['Upgrade', 'websocket'], ['Connection', 'upgrade'],
      ['X-Pad', 'p'.repeat(20_000)], ['Content-Encoding', 'gzip'], ['Content-Encoding', 'identity, br'], ['Trailer', 'X-Foo'],
    ),
    fc.tuple(fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,20}$/), fc.string({ maxLength: 60 }).map((s) => s.replace(/[\r\n\0]/g, ' '))),
  ),
  { maxLength: 4 },
);

export const weirdMethod = fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'PROPFIND', 'FOO', 'get', 'Post', 'G ET', 'M-SEARCH', 'PRI');
