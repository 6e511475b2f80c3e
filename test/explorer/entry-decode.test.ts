// The page's decoded views over the golden registry and CA entries
// (spec/vectors/entries): every type decodes, certificates show the
// subject and issuer the small DER walker reads (cross-checked with
// openssl's output for the same files), and plain bytes are "bytes".
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { certificateNames } from '../../src/explorer/der.js';
import { decodeForDisplay, entryKind } from '../../src/explorer/entry-decode.js';
import { classify } from '../../src/explorer/search.js';

const VECTORS = fileURLToPath(new URL('../../spec/vectors/entries/', import.meta.url));
const read = (name: string) => new Uint8Array(fs.readFileSync(path.join(VECTORS, name)));
const field = (name: string, label: string) => {
  const d = decodeForDisplay(read(name));
  if (!d.ok) throw new Error(d.reason);
  return d.entry.fields.find(([k]) => k === label)?.[1];
};

describe('decoded entry views', () => {
  it.each(fs.readdirSync(VECTORS).filter((n) => n.endsWith('.cbor')))('%s decodes to its type', (name) => {
    const type = name.replace(/^\d+-/, '').replace(/\.cbor$/, '');
    expect(entryKind(read(name))).toBe(type);
  });

  it('certificate entries show serial, validity, subject and issuer, and carry the DER for the PEM view', () => {
    expect(field('12-cert.issued.cbor', 'certificate subject')).toBe('CN=payments.acme.example');
    expect(field('12-cert.issued.cbor', 'certificate issuer')).toBe('CN=tilelog agent issuing CA');
    expect(field('12-cert.issued.cbor', 'serial')).toMatch(/^[0-9a-f]+$/);
    expect(field('12-cert.issued.cbor', 'not after')).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(field('15-cert.observed.cbor', 'certificate subject')).toBe('CN=payments.acme.example');
    expect(field('09-ca.key.added.cbor', 'certificate subject')).toBe('CN=tilelog agent root CA');
    const d = decodeForDisplay(read('12-cert.issued.cbor'));
    expect(d.ok && d.entry.der).toEqual(read('agent-cert.der'));
  });

  it('the DER walker gives null for what is not a certificate, and plain bytes are "bytes"', () => {
    expect(certificateNames(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]))).toBeNull();
    expect(certificateNames(new Uint8Array([0x30, 0x82]))).toBeNull();
    expect(entryKind(new TextEncoder().encode('hello'))).toBe('bytes');
    expect(entryKind(new Uint8Array([0xa1, 0x61, 0x76, 0x01]))).toBe('bytes');
  });
});

describe('search classification', () => {
  it('a 64-hex string is a leaf hash (even all digits), digits an index, anything else an agent name', () => {
    expect(classify(' 42 ')).toEqual({ kind: 'index', index: 42 });
    expect(classify('0'.repeat(64))).toEqual({ kind: 'leaf', hex: '0'.repeat(64) });
    expect(classify('AB'.repeat(32))).toEqual({ kind: 'leaf', hex: 'ab'.repeat(32) });
    expect(classify('order-bot.acme')).toEqual({ kind: 'agent', name: 'order-bot.acme' });
    expect(classify('99999999999999999999')).toEqual({ kind: 'agent', name: '99999999999999999999' });
    expect(classify('')).toEqual({ kind: 'empty' });
  });
});
