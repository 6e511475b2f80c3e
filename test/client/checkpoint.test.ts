// verifyCheckpoint and trustPolicy against the golden cosigned checkpoint
// (vectors/cosigned-1000.checkpoint: log signature + one witness, timestamp
// COSIGNED_1000_TIME). Each failing case must name its step.
import { describe, expect, it } from 'vitest';
import { ClientError, trustPolicy, verifyCheckpoint } from '../../src/client/index.js';
import { generateCosignerKey, generateSignerKey, parseCosignerKey, parseNote, signNote } from '../../src/note/index.js';
import { COSIGNED_1000, COSIGNED_1000_TIME as T, expectCode, LOG_VKEY, ORIGIN, vector, WITNESS_SKEY, WITNESS_VKEY } from './helpers.js';

const other = generateCosignerKey('other.example/witness', new Uint8Array(32).fill(7));
const one = { logKey: LOG_VKEY, witnesses: [WITNESS_VKEY], quorum: 1 };

// The size-1000 checkpoint cosigned by the golden witness at `time` (and by `extra` signers).
function cosignedAt(time: number, extra: string[] = []): string {
  const note = parseNote(vector('checkpoints/1000'));
  const w = parseCosignerKey(WITNESS_SKEY, { now: () => time });
  const more = extra.map((k) => parseCosignerKey(k, { now: () => time }));
  return signNote(note.text, [w, ...more], note.signatures);
}

describe('verifyCheckpoint', () => {
  it('accepts the golden cosigned checkpoint with quorum 1', () => {
    const v = verifyCheckpoint(COSIGNED_1000, one, T);
    expect([v.origin, v.size, v.newestCosignature]).toEqual([ORIGIN, 1000, T]);
    expect(v.cosigners).toEqual([{ name: 'vectors.tilelog.example/witness', keyName: 'vectors.tilelog.example/witness', keyId: 0xd4f297d3, timestamp: T }]);
    expect(v.note).toBe(COSIGNED_1000);
  });

  it('fails quorum 2 of 2 when only one witness cosigned', async () => {
    const err = await expectCode(() => verifyCheckpoint(COSIGNED_1000, { logKey: LOG_VKEY, witnesses: [WITNESS_VKEY, other.verifierKey], quorum: 2 }, T), 'CLIENT_CHECKPOINT_QUORUM');
    expect((err as ClientError).step).toBe('cosignature quorum');
    // 1 of those 2 passes.
    verifyCheckpoint(COSIGNED_1000, { logKey: LOG_VKEY, witnesses: [WITNESS_VKEY, other.verifierKey], quorum: 1 }, T);
  });

  it('counts a key once however many times it cosigned', async () => {
    const note = COSIGNED_1000 + COSIGNED_1000.split('\n').filter((l) => l.includes('/witness ')).join('\n') + '\n';
    expect(note.split('— vectors.tilelog.example/witness').length).toBe(3);
    await expectCode(() => verifyCheckpoint(note, { logKey: LOG_VKEY, witnesses: [WITNESS_VKEY, other.verifierKey], quorum: 2 }, T), 'CLIENT_CHECKPOINT_QUORUM');
    // With a second witness it passes.
    const both = cosignedAt(T, [other.signerKey]);
    expect(verifyCheckpoint(both, { logKey: LOG_VKEY, witnesses: [WITNESS_VKEY, other.verifierKey], quorum: 2 }, T).cosigners.length).toBe(2);
  });

  it('fails with a wrong log key or a wrong witness key', async () => {
    const wrongLog = generateSignerKey(ORIGIN, new Uint8Array(32).fill(1)).verifierKey;
    const e = await expectCode(() => verifyCheckpoint(COSIGNED_1000, { logKey: wrongLog }, T), 'CLIENT_CHECKPOINT_SIGNATURE');
    expect((e as ClientError).step).toBe('checkpoint signature');
    await expectCode(() => verifyCheckpoint(COSIGNED_1000, { logKey: LOG_VKEY, witnesses: [other.verifierKey] }, T), 'CLIENT_CHECKPOINT_QUORUM');
    await expectCode(() => verifyCheckpoint(COSIGNED_1000, { logKey: LOG_VKEY, origin: 'example.com/other' }, T), 'CLIENT_CHECKPOINT_SIGNATURE');
  });

  it('fails when a known witness cosignature is corrupt', async () => {
    const lines = COSIGNED_1000.split('\n');
    const i = lines.findIndex((l) => l.includes('/witness '));
    lines[i] = lines[i]!.slice(0, -6) + (lines[i]!.at(-6) === 'A' ? 'B' : 'A') + lines[i]!.slice(-5);
    await expectCode(() => verifyCheckpoint(lines.join('\n'), one, T), 'CLIENT_CHECKPOINT_QUORUM');
  });

  it('rejects cosignatures from the future beyond the skew, accepts within it', async () => {
    verifyCheckpoint(COSIGNED_1000, one, T - 60); // default skew 60 s
    const e = await expectCode(() => verifyCheckpoint(COSIGNED_1000, one, T - 61), 'CLIENT_CHECKPOINT_FUTURE');
    expect(e.message).toMatch(/61 s in the future/);
    verifyCheckpoint(COSIGNED_1000, { ...one, maxFutureSkewSeconds: 0 }, T);
    await expectCode(() => verifyCheckpoint(COSIGNED_1000, { ...one, maxFutureSkewSeconds: 0 }, T - 1), 'CLIENT_CHECKPOINT_FUTURE');
  });

  it('rejects a checkpoint whose newest cosignature is too old', async () => {
    verifyCheckpoint(COSIGNED_1000, { ...one, maxAgeSeconds: 3600 }, T + 3600);
    const e = await expectCode(() => verifyCheckpoint(COSIGNED_1000, { ...one, maxAgeSeconds: 3600 }, T + 3601), 'CLIENT_CHECKPOINT_AGE');
    expect((e as ClientError).step).toBe('checkpoint age');
    // With quorum 0 and no cosignature the age is unknowable: fail closed.
    await expectCode(() => verifyCheckpoint(vector('checkpoints/1000'), { ...one, quorum: 0, maxAgeSeconds: 3600 }, T), 'CLIENT_CHECKPOINT_AGE');
    // The newest counted cosignature dates the checkpoint.
    const fresh = cosignedAt(T + 5000);
    verifyCheckpoint(fresh, { ...one, maxAgeSeconds: 100 }, T + 5050);
  });

  it('takes a c2sp tlog-policy text', async () => {
    const text = `log ${LOG_VKEY}\nwitness w1 ${WITNESS_VKEY}\nwitness w2 ${other.verifierKey}\ngroup g any w1 w2\nquorum g\n`;
    const v = verifyCheckpoint(COSIGNED_1000, { policyText: text }, T);
    expect(v.cosigners.map((c) => c.name)).toEqual(['w1']);
    const all = text.replace('group g any', 'group g all');
    await expectCode(() => verifyCheckpoint(COSIGNED_1000, { policyText: all }, T), 'CLIENT_CHECKPOINT_QUORUM');
    expect(verifyCheckpoint(vector('checkpoints/1000'), { policyText: `log ${LOG_VKEY}\nquorum none\n` }, T).cosigners).toEqual([]);
  });
});

describe('trustPolicy', () => {
  it('defaults: origin from the log key name, quorum all witnesses, skew 60 s', () => {
    const p = trustPolicy({ logKey: LOG_VKEY, witnesses: [WITNESS_VKEY, other.verifierKey] });
    expect([p.origin, p.quorum, p.maxFutureSkewSeconds, p.maxAgeSeconds]).toEqual([ORIGIN, 2, 60, null]);
    expect(Object.isFrozen(p)).toBe(true);
  });

  it('refuses inconsistent policies with CLIENT_BAD_POLICY', async () => {
    const cases: object[] = [
      {},
      { logKey: 'nonsense' },
      { logKey: LOG_VKEY, witnesses: [WITNESS_VKEY], quorum: 2 },
      { logKey: LOG_VKEY, witnesses: [WITNESS_VKEY, WITNESS_VKEY], quorum: 1 },
      { logKey: LOG_VKEY, witnesses: ['bad+key'], quorum: 1 },
      { logKey: LOG_VKEY, maxAgeSeconds: 10 },
      { logKey: LOG_VKEY, maxFutureSkewSeconds: -1 },
      { logKey: LOG_VKEY, policyText: 'quorum none\n', witnesses: [WITNESS_VKEY] },
      { logKey: LOG_VKEY, policyText: 'nonsense\n' },
      { logKey: LOG_VKEY, policyText: `log ${generateSignerKey('x.example/log').verifierKey}\nquorum none\n` },
    ];
    for (const c of cases) await expectCode(() => trustPolicy(c), 'CLIENT_BAD_POLICY');
  });
});
