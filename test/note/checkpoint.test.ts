import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import {
  formatCheckpoint,
  formatVerifierKey,
  generateSignerKey,
  openCheckpoint,
  parseCheckpoint,
  parseSignerKey,
  parseVerifierKey,
  signCheckpoint,
  type Checkpoint,
} from '../../src/note/index.js';
import { expectCode } from './helpers.js';

const EMPTY_ROOT = sha256(new Uint8Array(0));
const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
const ROOT = 'vt5T6GaLCXvyHFl9VUvvItR43XZxfLgftEcTyO3eJCQ=';

describe('PROTOCOLS.md 9.6 real checkpoints', () => {
  it('verifies the sum.golang.org checkpoint (origin with spaces, key named differently)', () => {
    const v = parseVerifierKey('sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8');
    const msg =
      'go.sum database tree\n35225469\nvt5T6GaLCXvyHFl9VUvvItR43XZxfLgftEcTyO3eJCQ=\n\n' +
      '— sum.golang.org Az3grpukl5AXaVfYkLiDGORx/DN2nlcS5kZHR5uYOBV2KA2HgXpD+gu9HHONebHLAyaKbbTM75QTtPydhKCExixSfwQ=\n';
    const { checkpoint, verified } = openCheckpoint(msg, 'go.sum database tree', [v]);
    expect(checkpoint).toEqual({ origin: 'go.sum database tree', size: 35225469, root: Uint8Array.from(Buffer.from(ROOT, 'base64')), extensions: [] });
    expect(verified).toHaveLength(1);
    expectCode(() => openCheckpoint(msg, 'example.com/behind-the-sofa', [v]), 'NOTE_WRONG_ORIGIN');
  });

  describe('sigsum-style log (torchwood litewitness testdata)', () => {
    const pub = Uint8Array.from(Buffer.from('ffdc2d4d98e4124d3feaf788c0c2f9abfd796083d1f0495437f302ec79cf100f', 'hex'));
    const origin = 'sigsum.org/v1/tree/4d6d8825a6bb689d459628312889dfbb0bcd41b5211d9e1ce768b0ff0309e562';
    const rows: Array<[number, string, string]> = [
      [1, 'KgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=', 'UgIom7fPZTqpxWWhyjWduBvTvGVqsokMbqTArsQilegKoFBJQjUFAmQ0+YeSPM3wfUQMFSzVnnNuWRTYrajXpNUbIQY='],
      [3, 'RcCI1Nk56ZcSmIEfIn0SleqtV7uvrlXNccFx595Iwl0=', 'UgIom2VbtIcdFbwFAy1n7s6IkAxIY6J/GQOTuZF2ORV39d75cbAj2aQYwyJre36kezNobZs4SUUdrcawfAB8WVrx6go='],
      [5, 'QrtXrQZCCvpIgsSmOsah7HdICzMLLyDfxToMql9WTjY=', 'UgIomw/EOJmWi0i1FQsOj+etB7F8IccFam/jgd6wzRns4QPVmyEZtdvl1U2KEmLOZ/ASRcWJi0tW90dJWAShei7sDww='],
    ];

    it('the origin is H(pubkey) and the key ID is 5202289b', () => {
      expect(origin.endsWith(Buffer.from(sha256(pub)).toString('hex'))).toBe(true);
      const vkey = formatVerifierKey(origin, 0x01, pub);
      expect(vkey.split('+')[1]).toBe('5202289b');
      expect(parseVerifierKey(vkey).keyId).toBe(0x5202289b);
    });

    it.each(rows)('size %i verifies', (size, root, sig) => {
      const v = parseVerifierKey(formatVerifierKey(origin, 0x01, pub));
      const msg = `${origin}\n${size}\n${root}\n\n— ${origin} ${sig}\n`;
      expect(openCheckpoint(msg, origin, [v]).checkpoint.size).toBe(size);
      // The tampered signature of witness step 2 ("…6gx=") fails.
      if (size === 3) {
        const bad = msg.replace('6go=\n', '6gx=\n');
        expect(bad).not.toBe(msg);
        expectCode(() => openCheckpoint(bad, origin, [v]), 'NOTE_BAD_SIGNATURE');
      }
    });
  });
});

describe('formatCheckpoint / parseCheckpoint', () => {
  const c: Checkpoint = { origin: 'example.com/log', size: 42, root: new Uint8Array(32).fill(7), extensions: [] };

  it('formats the three lines and round-trips', () => {
    const text = formatCheckpoint(c);
    expect(text).toBe(`example.com/log\n42\n${b64(c.root)}\n`);
    expect(parseCheckpoint(text)).toEqual(c);
  });

  it('keeps extension lines in order', () => {
    const withExt = { ...c, extensions: ['ext one', '— two'] };
    const text = formatCheckpoint(withExt);
    expect(text.endsWith('\next one\n— two\n')).toBe(true);
    expect(parseCheckpoint(text)).toEqual(withExt);
  });

  it('handles 2^53-1 and size 0 with the empty root', () => {
    const big = { ...c, size: Number.MAX_SAFE_INTEGER };
    expect(parseCheckpoint(formatCheckpoint(big)).size).toBe(2 ** 53 - 1);
    const empty = { ...c, size: 0, root: EMPTY_ROOT };
    expect(parseCheckpoint(formatCheckpoint(empty))).toEqual(empty);
  });

  it('refuses sizes that are not safe integers and bad fields when formatting', () => {
    for (const size of [2 ** 53, -1, 1.5, Number.NaN]) expectCode(() => formatCheckpoint({ ...c, size }), 'MERKLE_RANGE');
    expectCode(() => formatCheckpoint({ ...c, size: 0 }), 'NOTE_MALFORMED');
    expectCode(() => formatCheckpoint({ ...c, root: new Uint8Array(31) }), 'NOTE_MALFORMED');
    expectCode(() => formatCheckpoint({ ...c, origin: '' }), 'NOTE_MALFORMED');
    expectCode(() => formatCheckpoint({ ...c, origin: 'a\nb' }), 'NOTE_MALFORMED');
    expectCode(() => formatCheckpoint({ ...c, extensions: [''] }), 'NOTE_MALFORMED');
    expectCode(() => formatCheckpoint({ ...c, extensions: ['a\rb'] }), 'NOTE_MALFORMED');
  });

  const r = b64(new Uint8Array(32).fill(7));
  const bad: Array<[string, string]> = [
    ['a leading zero', `o\n042\n${r}\n`],
    ['a plus sign', `o\n+42\n${r}\n`],
    ['a leading space', `o\n 42\n${r}\n`],
    ['exponent notation', `o\n1e3\n${r}\n`],
    ['hex notation', `o\n0x10\n${r}\n`],
    ['an empty size', `o\n\n${r}\n`],
    ['a negative size', `o\n-1\n${r}\n`],
    ['a decimal point', `o\n1.0\n${r}\n`],
    ['size 0 with another root', `o\n0\n${r}\n`],
    ['a 31-byte root', `o\n1\n${b64(new Uint8Array(31))}\n`],
    ['a 33-byte root', `o\n1\n${b64(new Uint8Array(33))}\n`],
    ['an unpadded root', `o\n1\n${r.slice(0, -1)}\n`],
    ['a URL-safe root', `o\n1\n${b64(new Uint8Array(32).fill(0xfb))}\n`.replace(/\+/g, '-')],
    ['non-canonical root bits', `o\n1\n${r.slice(0, -2)}9=\n`],
    ['an empty origin', `\n1\n${r}\n`],
    ['an empty extension line', `o\n1\n${r}\n\next\n`],
    ['a trailing empty line', `o\n1\n${r}\n\n`],
    ['no final LF', `o\n1\n${r}`],
    ['two lines only', `o\n1\n`],
    ['a CR', `o\r\n1\n${r}\n`],
  ];
  it.each(bad)('rejects %s', (_, text) => {
    expectCode(() => parseCheckpoint(text), 'NOTE_MALFORMED');
  });

  it('rejects canonical sizes above 2^53-1 as MERKLE_RANGE instead of rounding', () => {
    expectCode(() => parseCheckpoint(`o\n9007199254740992\n${r}\n`), 'MERKLE_RANGE');
    expectCode(() => parseCheckpoint(`o\n18446744073709551615\n${r}\n`), 'MERKLE_RANGE');
    expect(parseCheckpoint(`o\n9007199254740991\n${r}\n`).size).toBe(9007199254740991);
  });
});

describe('signCheckpoint / openCheckpoint', () => {
  const keys = generateSignerKey('example.com/log');
  const signer = parseSignerKey(keys.signerKey);
  const verifier = parseVerifierKey(keys.verifierKey);
  const c: Checkpoint = { origin: 'example.com/log', size: 3, root: new Uint8Array(32).fill(1), extensions: [] };

  it('signs and opens', () => {
    const msg = signCheckpoint(c, signer);
    const opened = openCheckpoint(msg, 'example.com/log', [verifier]);
    expect(opened.checkpoint).toEqual(c);
    expect(opened.note.text).toBe(formatCheckpoint(c));
    expect(opened.verified).toHaveLength(1);
  });

  it('reports a wrong origin before looking at signatures', () => {
    const msg = signCheckpoint(c, signer);
    expectCode(() => openCheckpoint(msg, 'example.com/other', []), 'NOTE_WRONG_ORIGIN');
    expectCode(() => openCheckpoint(msg, 'example.com/log ', [verifier]), 'NOTE_WRONG_ORIGIN');
  });

  it('rejects tampering and unknown keys', () => {
    const msg = signCheckpoint(c, signer);
    expectCode(() => openCheckpoint(msg.replace('\n3\n', '\n4\n'), 'example.com/log', [verifier]), 'NOTE_BAD_SIGNATURE');
    const other = parseVerifierKey(generateSignerKey('example.com/log').verifierKey);
    expectCode(() => openCheckpoint(msg, 'example.com/log', [other]), 'NOTE_UNVERIFIED');
  });

  it('rejects a signed note whose text is not a checkpoint', () => {
    const msg = signCheckpoint(c, signer).replace('\n3\n', '\n03\n');
    expectCode(() => openCheckpoint(msg, 'example.com/log', [verifier]), 'NOTE_MALFORMED');
  });
});
