// The golden vectors of test/golden (README.md there): a log key
// that must reproduce every published checkpoint signature byte for byte, and
// a witness key whose cosignature/v1 line must verify.
import { describe, expect, it } from 'vitest';
import {
  openCheckpoint,
  openNote,
  parseCosignatureVerifierKey,
  parseCosignerKey,
  parseSignerKey,
  parseVerifierKey,
  signCheckpoint,
  signNote,
} from '../../src/note/index.js';
import { expectCode, vectorLine, vectorText } from './helpers.js';

const ORIGIN = 'vectors.tilelog.example/log';
const SIZES = [1, 2, 3, 255, 256, 257, 1000, 65535, 65536, 70000];

describe('golden vectors', () => {
  const signer = parseSignerKey(vectorLine('log.skey'));
  const verifier = parseVerifierKey(vectorLine('log.vkey'));

  it('log.skey derives log.vkey', () => {
    expect(signer.name).toBe(ORIGIN);
    expect(signer.verifierKey).toBe(vectorLine('log.vkey'));
    expect(verifier.keyId).toBe(signer.keyId);
  });

  it.each(SIZES)('checkpoints/%i verifies and re-signs to the same bytes', (size) => {
    const published = vectorText(`checkpoints/${size}`);
    const { checkpoint, verified } = openCheckpoint(published, ORIGIN, [verifier]);
    expect(checkpoint.size).toBe(size);
    expect(checkpoint.extensions).toEqual([]);
    expect(verified).toHaveLength(1);
    expect(signCheckpoint(checkpoint, signer)).toBe(published);
  });

  it('tree/checkpoint is checkpoints/70000', () => {
    expect(vectorText('tree/checkpoint')).toBe(vectorText('checkpoints/70000'));
  });

  it('witness.vkey verifies the cosignature in cosigned-1000.checkpoint, and witness.skey reproduces it', () => {
    const cosigned = vectorText('cosigned-1000.checkpoint');
    const witness = parseCosignatureVerifierKey(vectorLine('witness.vkey'));
    const opened = openCheckpoint(cosigned, ORIGIN, [verifier, witness]);
    expect(opened.verified.map((s) => s.name)).toEqual([ORIGIN, 'vectors.tilelog.example/witness']);
    expect(opened.checkpoint.size).toBe(1000);
    // Only the witness known: the log line is ignored, the cosignature verifies.
    expect(openNote(cosigned, [witness]).verified).toHaveLength(1);

    const cosigSig = opened.verified[1]!;
    const timestamp = witness.timestamp(cosigSig.signature);
    const cosigner = parseCosignerKey(vectorLine('witness.skey'), { now: () => timestamp });
    expect(cosigner.verifierKey).toBe(vectorLine('witness.vkey'));
    expect(signNote(opened.note.text, [cosigner], [opened.verified[0]!])).toBe(cosigned);
  });

  it('a cosignature over the size-1000 text does not verify for another checkpoint', () => {
    const cosigned = vectorText('cosigned-1000.checkpoint');
    const witnessLine = cosigned.split('\n').at(-2)!;
    const other = `${vectorText('checkpoints/257')}${witnessLine}\n`;
    const witness = parseCosignatureVerifierKey(vectorLine('witness.vkey'));
    expectCode(() => openCheckpoint(other, ORIGIN, [verifier, witness]), 'NOTE_BAD_SIGNATURE');
  });
});
