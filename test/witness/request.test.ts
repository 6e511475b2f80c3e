// parseAddCheckpointRequest: round trips with formatAddCheckpointRequest, and
// the header's strictness at its edges.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { isTilelogError } from '../../src/errors.js';
import { toBase64 } from '../../src/merkle/index.js';
import { formatAddCheckpointRequest, MAX_PROOF_LINES, parseAddCheckpointRequest } from '../../src/witness/index.js';

const enc = (s: string) => new TextEncoder().encode(s);
const NOTE = 'example.com/log\n1\nKgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n— example.com/log AAAAAAA=\n';

function rejects(body: string): string {
  try {
    parseAddCheckpointRequest(enc(body));
  } catch (err) {
    expect(isTilelogError(err, 'WITNESS_BAD_REQUEST')).toBe(true);
    return (err as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(body)}`);
}

describe('add-checkpoint request', () => {
  test('format/parse round trip', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { maxLength: MAX_PROOF_LINES }),
        (old, proof) => {
          const req = parseAddCheckpointRequest(enc(formatAddCheckpointRequest(old, proof, NOTE)));
          expect(req.oldSize).toBe(old);
          expect(req.proof.map(toBase64)).toEqual(proof.map(toBase64));
          expect(new TextDecoder().decode(req.note)).toBe(NOTE);
        },
      ),
    );
  });

  test('63 proof lines are fine, 64 are not', () => {
    const h = `${toBase64(new Uint8Array(32))}\n`;
    expect(parseAddCheckpointRequest(enc(`old 1\n${h.repeat(63)}\n${NOTE}`)).proof).toHaveLength(63);
    expect(rejects(`old 1\n${h.repeat(64)}\n${NOTE}`)).toMatch(/64 proof lines/);
    expect(() => formatAddCheckpointRequest(1, new Array(64).fill(new Uint8Array(32)), NOTE)).toThrow(RangeError);
  });

  test('the first blank line ends the header; the note may contain its own', () => {
    const req = parseAddCheckpointRequest(enc(`old 0\n\n${NOTE}`));
    expect(req.oldSize).toBe(0);
    expect(req.proof).toEqual([]);
  });

  test('edges of the old line', () => {
    expect(parseAddCheckpointRequest(enc(`old 9007199254740991\n\n${NOTE}`)).oldSize).toBe(Number.MAX_SAFE_INTEGER);
    expect(rejects(`old 9007199254740992\n\n${NOTE}`)).toMatch(/2\^53-1/);
    for (const bad of ['old', 'old ', 'old -1', 'old 1.0', 'old 1 ', ' old 1', 'OLD 1', 'old\t1', 'old １']) {
      expect(rejects(`${bad}\n\n${NOTE}`)).toMatch(/old <size>/);
    }
    expect(rejects('old 1\n\n')).toMatch(/no checkpoint/);
  });
});
