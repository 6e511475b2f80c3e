import { describe, expect, it } from 'vitest';
import {
  MAX_NOTE_SIZE,
  formatNote,
  generateSignerKey,
  openNote,
  parseNote,
  parseSignerKey,
  parseVerifierKey,
  signNote,
  type NoteSigner,
  type NoteVerifier,
} from '../../src/note/index.js';
import { expectCode } from './helpers.js';

// PROTOCOLS.md 9.5: golang/mod sumdb/note doc and note_test.go.
const PETER_SKEY = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const PETER_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const ENOCH_VKEY = 'EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop';
const TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_SIG =
  '— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n';
const ENOCH_SIG =
  '— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n';
const SIGNED = `${TEXT}\n${PETER_SIG}`;
// The Peter line with one base64 character of the Ed25519 signature changed (same key ID).
const BAD_PETER_SIG = PETER_SIG.slice(0, 40) + (PETER_SIG[40] === 'A' ? 'B' : 'A') + PETER_SIG.slice(41);

const peter = parseVerifierKey(PETER_VKEY);
const enoch = parseVerifierKey(ENOCH_VKEY);
const enc = new TextEncoder();

describe('Go sumdb/note vectors', () => {
  it('signing reproduces the PeterNeumann note exactly', () => {
    expect(signNote(TEXT, [parseSignerKey(PETER_SKEY)])).toBe(SIGNED);
  });

  it('opens the PeterNeumann note', () => {
    const { note, verified, unverified } = openNote(SIGNED, [peter]);
    expect(note.text).toBe(TEXT);
    expect(verified).toHaveLength(1);
    expect(verified[0]).toMatchObject({ name: 'PeterNeumann', keyId: 0xc74f20a3, line: PETER_SIG.slice(0, -1) });
    expect(verified[0]!.signature).toHaveLength(64);
    expect(unverified).toEqual([]);
  });

  it('opens from bytes as well as from a string', () => {
    expect(openNote(enc.encode(SIGNED), [peter]).verified).toHaveLength(1);
  });

  it('verifies the second signer EnochRoot over the same text', () => {
    const both = `${TEXT}\n${PETER_SIG}${ENOCH_SIG}`;
    const { verified } = openNote(both, [peter, enoch]);
    expect(verified.map((s) => s.name)).toEqual(['PeterNeumann', 'EnochRoot']);
    // Only Enoch known: Peter's line is ignored.
    const only = openNote(both, [enoch]);
    expect(only.verified.map((s) => s.name)).toEqual(['EnochRoot']);
    expect(only.unverified.map((s) => s.name)).toEqual(['PeterNeumann']);
  });

  it('verifies the C2SP signed-note example', () => {
    const v = parseVerifierKey('example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k');
    const msg =
      'This is an example message.\n\n— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n';
    expect(openNote(msg, [v]).verified).toHaveLength(1);
  });

  const malformedNotes: Array<[string, string | Uint8Array]> = [
    ['the text alone', TEXT],
    ['the text followed by LF', `${TEXT}\n`],
    ['a missing final LF', SIGNED.slice(0, -1)],
    ['a leading 0x01 byte', `\x01${SIGNED}`],
    ['an invalid UTF-8 byte 0xff', new Uint8Array([0xff, ...enc.encode(SIGNED)])],
    ['the key name "Bad Name" (Go vector, no final LF)', `${TEXT}\n— Bad Name ${PETER_SIG.slice('— PeterNeumann '.length, -1)}`],
    ['the key name "Bad Name"', `${TEXT}\n— Bad Name ${PETER_SIG.slice('— PeterNeumann '.length)}`],
    ['a trailing non-signature line', `${SIGNED}Unexpected line.\n`],
    ['101 signatures', `${TEXT}\n${PETER_SIG.repeat(101)}`],
    ['CRLF line endings', SIGNED.replace(/\n/g, '\r\n')],
    ['a TAB in the text', `a\tb\n\n${PETER_SIG}`],
    ['a hyphen instead of the em dash', `${TEXT}\n- PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`],
    ['a signature line without a space', `${TEXT}\n— PeterNeumann\n`],
    ['an empty signature', `${TEXT}\n— PeterNeumann \n`],
    ['a signature shorter than 5 bytes', `${TEXT}\n— PeterNeumann AAAAAA==\n`],
    ['base64 without padding', SIGNED.replace('AM=\n', 'AM\n')],
    ['a lone surrogate', `\ud800${SIGNED}`],
    ['an overlong UTF-8 encoding', new Uint8Array([0xc0, 0xaf, ...enc.encode(SIGNED)])],
    ['an encoded surrogate', new Uint8Array([0xed, 0xa0, 0x80, ...enc.encode(SIGNED)])],
    ['an empty signature block line', `${TEXT}\n${PETER_SIG}\n`],
  ];
  it.each(malformedNotes)('rejects %s as NOTE_MALFORMED', (_, msg) => {
    expectCode(() => parseNote(msg), 'NOTE_MALFORMED');
    expectCode(() => openNote(msg, [peter]), 'NOTE_MALFORMED');
  });

  it('rejects an invalid signature by a known key', () => {
    const bad = `${TEXT}\n${BAD_PETER_SIG}`;
    expectCode(() => openNote(bad, [peter]), 'NOTE_BAD_SIGNATURE');
  });

  it('ignores unused base64 bits in a signature like Go, and keeps the line as written', () => {
    // 'AN=' decodes to the same bytes as 'AM=' (only the two unused bits differ).
    const odd = SIGNED.replace('AM=\n', 'AN=\n');
    const { verified } = openNote(odd, [peter]);
    expect(verified[0]!.line.endsWith('AN=')).toBe(true);
    // A flipped character that changes the bytes is a bad signature, not a malformed note.
    expectCode(() => openNote(SIGNED.replace('nAM=\n', 'nAQ=\n'), [peter]), 'NOTE_BAD_SIGNATURE');
  });

  it('accepts 100 signature lines (Go counts duplicates) and rejects 101', () => {
    expect(openNote(`${TEXT}\n${PETER_SIG.repeat(100)}`, [peter]).verified).toHaveLength(1);
    expectCode(() => openNote(`${TEXT}\n${PETER_SIG.repeat(101)}`, [peter]), 'NOTE_MALFORMED');
  });
});

describe('openNote semantics', () => {
  it('NOTE_UNVERIFIED when no known key signed', () => {
    expectCode(() => openNote(SIGNED, [enoch]), 'NOTE_UNVERIFIED');
    expectCode(() => openNote(SIGNED, []), 'NOTE_UNVERIFIED');
  });

  it('a name-only match is unknown and ignored', () => {
    const otherPeter = parseVerifierKey(generateSignerKey('PeterNeumann').verifierKey);
    expectCode(() => openNote(SIGNED, [otherPeter]), 'NOTE_UNVERIFIED');
    const { verified, unverified } = openNote(SIGNED, [otherPeter, peter]);
    expect(verified).toHaveLength(1);
    expect(unverified).toEqual([]);
  });

  it('ignores unknown lines even when their signature is junk', () => {
    const junk = '— someone.example/x AAAAAAAAAAAAAAAAAAAAAAAA\n';
    const { verified, unverified } = openNote(`${SIGNED}${junk}${junk}`, [peter]);
    expect(verified).toHaveLength(1);
    expect(unverified).toHaveLength(1); // byte-identical repeats dropped
  });

  it('skips a repeated (name, key ID) without verifying it, as Go does', () => {
    const badRepeat = BAD_PETER_SIG;
    const { verified } = openNote(`${SIGNED}${badRepeat}`, [peter]);
    expect(verified).toHaveLength(1);
    // ... but the first line of a known key counts, good or bad.
    expectCode(() => openNote(`${TEXT}\n${badRepeat}${PETER_SIG}`, [peter]), 'NOTE_BAD_SIGNATURE');
  });

  it('NOTE_AMBIGUOUS_KEY for two verifiers with the same name and ID', () => {
    expectCode(() => openNote(SIGNED, [peter, parseVerifierKey(PETER_VKEY)]), 'NOTE_AMBIGUOUS_KEY');
  });

  it('splits at the last blank line: the text may contain blank lines', () => {
    const s = parseSignerKey(PETER_SKEY);
    const text = 'a\n\nb\n\n\nc\n';
    const msg = signNote(text, [s]);
    expect(openNote(msg, [peter]).note.text).toBe(text);
  });

  it('caps the note at 1,000,000 bytes', () => {
    const s = parseSignerKey(PETER_SKEY);
    const line = 'x'.repeat(999) + '\n';
    const sigLen = enc.encode(`\n${PETER_SIG}`).length;
    const fits = 'a'.repeat(MAX_NOTE_SIZE - sigLen - 1) + '\n';
    const msg = signNote(fits, [s]);
    expect(enc.encode(msg).length).toBe(MAX_NOTE_SIZE);
    expect(openNote(msg, [peter]).verified).toHaveLength(1);
    expectCode(() => openNote(enc.encode('a' + msg), [peter]), 'NOTE_MALFORMED');
    expectCode(() => openNote('é' + msg, [peter]), 'NOTE_MALFORMED');
    expectCode(() => signNote(line.repeat(1001), [s]), 'NOTE_MALFORMED');
  });
});

describe('signNote and formatNote', () => {
  const s = parseSignerKey(PETER_SKEY);

  it('requires text ending in LF without control characters', () => {
    expectCode(() => signNote('no newline', [s]), 'NOTE_MALFORMED');
    expectCode(() => signNote('cr\r\n', [s]), 'NOTE_MALFORMED');
  });

  it('keeps existing signatures first and replaces one from the same key', () => {
    const enochLine = parseNote(`${TEXT}\n${ENOCH_SIG}`).signatures;
    const stalePeter = parseNote(`${TEXT}\n${BAD_PETER_SIG}`).signatures;
    const msg = signNote(TEXT, [s], [...stalePeter, ...enochLine]);
    expect(msg).toBe(`${TEXT}\n${ENOCH_SIG}${PETER_SIG}`);
    expect(openNote(msg, [peter, enoch]).verified).toHaveLength(2);
  });

  it('refuses to produce more than 100 signatures', () => {
    const sigs = parseNote(`${TEXT}\n${PETER_SIG.repeat(100)}`).signatures;
    expect(() => formatNote({ text: TEXT, signatures: sigs })).not.toThrow();
    expectCode(() => formatNote({ text: TEXT, signatures: [...sigs, sigs[0]!] }), 'NOTE_MALFORMED');
    const enochSigner: NoteSigner = { name: 'EnochRoot', keyId: 0xaf0cfe78, sign: () => new Uint8Array(64) };
    expectCode(() => signNote(TEXT, [enochSigner], sigs), 'NOTE_MALFORMED');
  });

  it('refuses a signer with an invalid name', () => {
    const bad: NoteSigner = { name: 'bad name', keyId: 1, sign: () => new Uint8Array(64) };
    expectCode(() => signNote(TEXT, [bad]), 'NOTE_BAD_KEY');
  });

  it('formatNote inverts parseNote', () => {
    const msg = `${TEXT}\n${PETER_SIG}${ENOCH_SIG}`;
    expect(formatNote(parseNote(msg))).toBe(msg);
  });

  it('works with any NoteSigner / NoteVerifier implementation', () => {
    const signer: NoteSigner = { name: 'hmac.example', keyId: 0xffffffff, sign: (m) => Uint8Array.of(m.length % 256, 7) };
    const verifier: NoteVerifier = { name: 'hmac.example', keyId: 0xffffffff, verify: (m, sig) => sig[0] === m.length % 256 && sig[1] === 7 };
    const msg = signNote('hi\n', [signer]);
    expect(msg).toBe('hi\n\n— hmac.example /////wMH\n');
    expect(openNote(msg, [verifier]).verified[0]!.keyId).toBe(0xffffffff);
  });
});
