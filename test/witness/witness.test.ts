// The add-checkpoint decision through the hono app, in process: the
// torchwood/litewitness sequence (PROTOCOLS.md 9.6), forks, replays, bad
// signatures, bad proofs, malformed bodies, and the cosignatures themselves.
import { afterEach, describe, expect, test } from 'vitest';
import { EMPTY_ROOT, toBase64 } from '../../src/merkle/index.js';
import { keyId, KEY_TYPE_ED25519, openNote, parseCosignatureVerifierKey, parseNote } from '../../src/note/index.js';
import { formatAddCheckpointRequest, originHash } from '../../src/witness/index.js';
import {
  body,
  openTestWitness,
  SIGSUM_CHECKPOINTS,
  SIGSUM_ORIGIN,
  SIGSUM_PROOFS,
  SIGSUM_PUB,
  SIGSUM_VKEY,
  sigsumNote,
  TestLog,
  WITNESS_KEY,
  WITNESS_NAME,
  type TestWitness,
} from './helpers.js';

const open: TestWitness[] = [];
function witness(opts: Parameters<typeof openTestWitness>[0] = {}): TestWitness {
  const w = openTestWitness(opts);
  open.push(w);
  return w;
}
afterEach(() => {
  for (const w of open.splice(0)) w.close();
});

async function expectStatus(res: Response, status: number): Promise<string> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  return text;
}

describe('the litewitness sequence (PROTOCOLS.md 9.6)', () => {
  test('the vector key has ID 5202289b', () => {
    expect(keyId(SIGSUM_ORIGIN, KEY_TYPE_ED25519, SIGSUM_PUB).toString(16)).toBe('5202289b');
    expect(SIGSUM_VKEY.split('+')[1]).toBe('5202289b');
  });

  test('nine requests, nine expected answers', async () => {
    const w = witness({ logs: [[SIGSUM_ORIGIN, SIGSUM_VKEY]] });
    const tamperedSig = SIGSUM_CHECKPOINTS[3].sig.replace(/6go=$/, '6gx=');
    expect(tamperedSig).not.toBe(SIGSUM_CHECKPOINTS[3].sig);
    const otherOrigin = SIGSUM_ORIGIN.slice(0, -1) + '3';
    const badProof = [SIGSUM_PROOFS['1-3'][0]!, SIGSUM_PROOFS['1-3'][1]!.replace(/AAA=$/, 'ABA=')];

    // 1. old 0 + size 1 -> 200
    const r1 = await expectStatus(await w.post(body(0, [], sigsumNote(1))), 200);
    expect(r1).toMatch(new RegExp(`^— ${WITNESS_NAME.replace(/\./g, '\\.')} [A-Za-z0-9+/]{102}==\n$`));
    // 2. tampered signature -> 403
    await expectStatus(await w.post(body(1, SIGSUM_PROOFS['1-3'], sigsumNote(3, { sig: tamperedSig }))), 403);
    // 3. origin changed -> 404 (current spec; litewitness 2025 said 403)
    await expectStatus(await w.post(body(1, SIGSUM_PROOFS['1-3'], sigsumNote(3, { origin: otherOrigin }))), 404);
    // 4. old 1, empty proof, size 3 -> 422
    await expectStatus(await w.post(body(1, [], sigsumNote(3))), 422);
    // 5. altered last proof hash -> 422
    await expectStatus(await w.post(body(1, badProof, sigsumNote(3))), 422);
    // 6. valid 1->3 -> 200
    await expectStatus(await w.post(body(1, SIGSUM_PROOFS['1-3'], sigsumNote(3))), 200);
    // 7. old 1 + 1->5 proof -> 409 "3\n"
    const r7 = await w.post(body(1, SIGSUM_PROOFS['1-5'], sigsumNote(5)));
    expect(r7.headers.get('content-type')).toBe('text/x.tlog.size');
    expect(await expectStatus(r7, 409)).toBe('3\n');
    // 8. old 3 + 3->5 -> 200
    await expectStatus(await w.post(body(3, SIGSUM_PROOFS['3-5'], sigsumNote(5))), 200);
    // 9. old 0 + size 5 -> 409 "5\n"
    const r9 = await w.post(body(0, [], sigsumNote(5)));
    expect(r9.headers.get('content-type')).toBe('text/x.tlog.size');
    expect(await expectStatus(r9, 409)).toBe('5\n');

    expect(w.store.latest(SIGSUM_ORIGIN)?.size).toBe(5);
    expect(w.store.history().map((h) => h.size)).toEqual([1, 3, 5]);
    // Requests 4 and 5 were validly signed but inconsistent: evidence.
    expect(w.store.evidence().map((e) => e.reason)).toEqual(['inconsistent-proof', 'inconsistent-proof']);
  });
});

describe('cosignatures', () => {
  test('verify under our cosignature/v1 key, over the checkpoint text, at the current time', async () => {
    const w = witness({ logs: [[SIGSUM_ORIGIN, SIGSUM_VKEY]] });
    const before = Math.floor(Date.now() / 1000);
    const lines = await expectStatus(await w.post(body(0, [], sigsumNote(1))), 200);
    const after = Math.floor(Date.now() / 1000);
    const verifier = parseCosignatureVerifierKey(WITNESS_KEY.verifierKey);
    const opened = openNote(sigsumNote(1) + lines, [verifier]);
    expect(opened.verified).toHaveLength(1);
    const t = verifier.timestamp(opened.verified[0]!.signature);
    expect(t).toBeGreaterThanOrEqual(before);
    expect(t).toBeLessThanOrEqual(after);
    // The log's signature still verifies on the same note.
    expect(() => openNote(sigsumNote(1) + lines, [verifier, ...[]])).not.toThrow();
  });

  test('resubmitting the same size and root gives a fresh cosignature', async () => {
    let clock = 1_700_000_000;
    const w = witness({ logs: [[SIGSUM_ORIGIN, SIGSUM_VKEY]], now: () => clock });
    const verifier = parseCosignatureVerifierKey(WITNESS_KEY.verifierKey);
    const first = await expectStatus(await w.post(body(0, [], sigsumNote(1))), 200);
    clock += 60;
    const second = await expectStatus(await w.post(body(1, [], sigsumNote(1))), 200);
    expect(second).not.toBe(first);
    const t = verifier.timestamp(openNote(sigsumNote(1) + second, [verifier]).verified[0]!.signature);
    expect(t).toBe(clock);
    expect(w.store.latest(SIGSUM_ORIGIN)?.timestamp).toBe(clock);
  });

  test('a zero clock is a bug, not a cosignature with timestamp 0', async () => {
    const w = witness({ logs: [[SIGSUM_ORIGIN, SIGSUM_VKEY]], now: () => 0 });
    const res = await w.post(body(0, [], sigsumNote(1)));
    expect(res.status).toBe(500);
    expect(w.store.latest(SIGSUM_ORIGIN)).toBeNull();
  });
});

describe('refusals', () => {
  const ORIGIN = 'example.com/honest';

  test('a fork (same key, other entries) is refused with 422 and kept as evidence', async () => {
    const honest = new TestLog(ORIGIN, 20, 0);
    const fork = new TestLog(ORIGIN, 20, 1); // same key seed: same key, other leaves
    expect(fork.vkey).toBe(honest.vkey);
    const w = witness({ logs: [[ORIGIN, honest.vkey]] });
    await expectStatus(await w.post(await honest.request(0, 8)), 200);
    // The fork extends "from 8" with its own proof: the proof fails against our root.
    const forked = formatAddCheckpointRequest(8, await fork.proof(8, 13), await fork.checkpoint(13));
    await expectStatus(await w.post(forked), 422);
    // Same size, other root.
    await expectStatus(await w.post(formatAddCheckpointRequest(8, [], await fork.checkpoint(8))), 422);
    // A forked checkpoint at a size we cosigned, sent with a stale old: 409, and still evidence.
    await expectStatus(await w.post(await honest.request(8, 12)), 200);
    const stale = await w.post(formatAddCheckpointRequest(0, [], await fork.checkpoint(8)));
    expect(await expectStatus(stale, 409)).toBe('12\n');

    const ev = w.store.evidence({ origin: ORIGIN });
    expect(ev.map((e) => e.reason)).toEqual(['inconsistent-proof', 'same-size-other-root', 'same-size-other-root']);
    expect(ev[0]!.note).toBe(await fork.checkpoint(13));
    expect(ev[0]!.oldSize).toBe(8);
    expect(ev[0]!.proof.map(toBase64)).toEqual((await fork.proof(8, 13)).map(toBase64));
    expect(ev[0]!.stored?.size).toBe(8);
    expect(toBase64(ev[0]!.stored!.root)).toBe(toBase64(await honest.root(8)));
    expect(toBase64(w.store.latest(ORIGIN)!.root)).toBe(toBase64(await honest.root(12)));

    // Queryable over HTTP, filtered by origin.
    const json = (await (await w.app.request(`/evidence?origin=${encodeURIComponent(ORIGIN)}`)).json()) as {
      conflicts: { reason: string; request: { checkpoint: string; proof: string[] }; stored: { size: number } }[];
      cosigned: { size: number }[];
    };
    expect(json.conflicts).toHaveLength(3);
    expect(json.conflicts[0]!.request.checkpoint).toBe(await fork.checkpoint(13));
    expect(json.conflicts[0]!.stored.size).toBe(8);
    expect(json.cosigned.map((c) => c.size)).toEqual([8, 12]);
    const other = (await (await w.app.request('/evidence?origin=nobody')).json()) as { conflicts: unknown[] };
    expect(other.conflicts).toEqual([]);
    expect((await w.app.request('/evidence?kind=bogus')).status).toBe(400);
    expect((await w.app.request('/evidence?limit=x')).status).toBe(400);
  });

  test('a replayed older checkpoint gets 409 with our size', async () => {
    const log = new TestLog(ORIGIN, 20);
    const w = witness({ logs: [[ORIGIN, log.vkey]] });
    await expectStatus(await w.post(await log.request(0, 5)), 200);
    await expectStatus(await w.post(await log.request(5, 10)), 200);
    expect(await expectStatus(await w.post(await log.request(0, 5)), 409)).toBe('10\n');
    expect(await expectStatus(await w.post(await log.request(5, 7)), 409)).toBe('10\n');
    expect(w.store.evidence()).toEqual([]); // old checkpoints are not misbehaviour
  });

  test('signatures: wrong key 403, one bad among good 403, extra unknown lines ignored', async () => {
    const log = new TestLog(ORIGIN, 20);
    const impostor = new TestLog(ORIGIN, 20, 0, 2);
    const w = witness({ logs: [[ORIGIN, log.vkey]] });
    await expectStatus(await w.post(await impostor.request(0, 3)), 403);
    const good = await log.checkpoint(3);
    const flipped = good.replace(/(.)\n$/, (_m, c: string) => `${c === 'A' ? 'B' : 'A'}\n`);
    await expectStatus(await w.post(formatAddCheckpointRequest(0, [], flipped)), 403);
    // An unknown line (another witness) next to the log's good one is ignored.
    const extra = `${good}— other.example/w ${toBase64(new Uint8Array(76).fill(1))}\n`;
    const lines = await expectStatus(await w.post(formatAddCheckpointRequest(0, [], extra)), 200);
    // The monitoring note keeps the log's line and ours, not the unknown one.
    const mon = await w.app.request(`/${originHash(ORIGIN)}/checkpoint`);
    const text = await mon.text();
    expect(mon.status).toBe(200);
    expect(text).toBe(`${good}${lines}`);
    expect(parseNote(text).signatures).toHaveLength(2);
  });

  test('unknown origin 404; a second trusted key works; removed keys stop working', async () => {
    const log = new TestLog(ORIGIN, 20);
    const rotated = new TestLog(ORIGIN, 20, 0, 3);
    const w = witness();
    await expectStatus(await w.post(await log.request(0, 3)), 404);
    w.store.addLog(ORIGIN, log.vkey);
    w.store.addLog(ORIGIN, rotated.vkey);
    await expectStatus(await w.post(await log.request(0, 3)), 200);
    await expectStatus(await w.post(await rotated.request(3, 5)), 200);
    w.store.removeLog(ORIGIN, log.vkey);
    await expectStatus(await w.post(await log.request(5, 6)), 403);
    w.store.removeLog(ORIGIN);
    await expectStatus(await w.post(await rotated.request(5, 6)), 404);
  });

  test('proofs: garbage 422, wrong length 422, non-empty from 0 422, old > size 400', async () => {
    const log = new TestLog(ORIGIN, 20);
    const w = witness({ logs: [[ORIGIN, log.vkey]] });
    const cp5 = await log.checkpoint(5);
    await expectStatus(await w.post(formatAddCheckpointRequest(0, [new Uint8Array(32)], cp5)), 422);
    await expectStatus(await w.post(formatAddCheckpointRequest(6, [], cp5)), 400);
    await expectStatus(await w.post(await log.request(0, 3)), 200);
    const proof = await log.proof(3, 5);
    await expectStatus(await w.post(formatAddCheckpointRequest(3, proof.map(() => new Uint8Array(32).fill(9)), cp5)), 422);
    await expectStatus(await w.post(formatAddCheckpointRequest(3, proof.slice(1), cp5)), 422);
    await expectStatus(await w.post(formatAddCheckpointRequest(3, [...proof, proof[0]!], cp5)), 422);
    await expectStatus(await w.post(formatAddCheckpointRequest(3, proof, cp5)), 200);
    expect(w.store.evidence().map((e) => e.reason)).toEqual([
      'proof-from-zero',
      'inconsistent-proof',
      'inconsistent-proof',
      'inconsistent-proof',
    ]);
  });

  test('size 0 with a non-empty-tree root is 422 (after the signature check); the empty tree is 200', async () => {
    const log = new TestLog(ORIGIN, 20);
    const w = witness({ logs: [[ORIGIN, log.vkey]] });
    const text = `${ORIGIN}\n0\n${toBase64(new Uint8Array(32).fill(1))}\n`;
    const sig = log.signer.sign(new TextEncoder().encode(text));
    const { formatSignatureLine } = await import('../../src/note/index.js');
    const note = `${text}\n${formatSignatureLine(log.signer.name, log.signer.keyId, sig)}\n`;
    await expectStatus(await w.post(body(0, [], note)), 422);
    expect(w.store.evidence()[0]?.reason).toBe('empty-tree-root');
    // Unsigned (bad signature), the same checkpoint is a 403 first.
    const unsigned = `${text}\n${formatSignatureLine(log.signer.name, log.signer.keyId, new Uint8Array(64))}\n`;
    await expectStatus(await w.post(body(0, [], unsigned)), 403);
    await expectStatus(await w.post(await log.request(0, 0)), 200);
    expect(toBase64(w.store.latest(ORIGIN)!.root)).toBe(toBase64(EMPTY_ROOT));
  });

  test('malformed bodies are 400 with a message, never 500', async () => {
    const log = new TestLog(ORIGIN, 20);
    const w = witness({ logs: [[ORIGIN, log.vkey]] });
    const cp = await log.checkpoint(3);
    const h = toBase64(new Uint8Array(32));
    const bad: [string, string | Uint8Array, RegExp][] = [
      ['empty', '', /empty line/],
      ['no blank line', `old 0\n${cp.split('\n\n')[0]}`, /empty line/],
      ['no old line', `\n${cp}`, /old <size>/],
      ['old with a sign', `old +1\n\n${cp}`, /old <size>/],
      ['old with a leading zero', `old 01\n\n${cp}`, /old <size>/],
      ['old in hex', `old 0x1\n\n${cp}`, /old <size>/],
      ['CRLF', `old 0\r\n\r\n${cp}`, /old <size>|empty line/],
      ['two spaces', `old  0\n\n${cp}`, /old <size>/],
      ['old too big', `old 99999999999999999999\n\n${cp}`, /2\^53/],
      ['short hash', `old 0\n${h.slice(4)}\n\n${cp}`, /32-byte hash/],
      ['url-safe base64', `old 0\n${h.replace(/A/g, '-')}\n\n${cp}`, /32-byte hash/],
      ['unpadded', `old 0\n${h.slice(0, -1)}\n\n${cp}`, /32-byte hash/],
      ['non-canonical padding bits', `old 0\n${h.slice(0, -2)}B=\n\n${cp}`, /canonical/],
      ['64 proof lines', `old 0\n${`${h}\n`.repeat(64)}\n${cp}`, /63/],
      ['no checkpoint', 'old 0\n\n', /no checkpoint/],
      ['unsigned checkpoint', `old 0\n\n${cp.split('\n\n')[0]}\n`, /note/],
      ['CRLF note', `old 0\n\n${cp.replace(/\n/g, '\r\n')}`, /note|control/],
      ['bad UTF-8', Buffer.concat([Buffer.from('old 0\n\n'), Buffer.from([0xff, 0xfe, 0x0a])]), /UTF-8|note/],
      ['not a checkpoint', `old 0\n\nhello\n\n${cp.split('\n\n')[1]}`, /checkpoint/],
      ['size not canonical', `old 0\n\n${cp.replace('\n3\n', '\n03\n')}`, /canonical/],
      ['size beyond 2^53', `old 0\n\n${cp.replace('\n3\n', '\n18446744073709551615\n')}`, /2\^53/],
    ];
    for (const [name, b, message] of bad) {
      const res = await w.post(b);
      const text = await res.text();
      expect(res.status, `${name}: ${text}`).toBe(400);
      expect(text, name).toMatch(message);
      expect(res.headers.get('content-type'), name).toMatch(/^text\/plain/);
    }
    expect(w.store.latest(ORIGIN)).toBeNull();
  });

  test('other methods and paths', async () => {
    const w = witness();
    expect((await w.app.request('/add-checkpoint')).status).toBe(405);
    expect((await w.app.request('/nope')).status).toBe(404);
    expect((await w.app.request(`/${originHash('nobody')}/checkpoint`)).status).toBe(404);
    expect((await w.app.request(`/${originHash('nobody').toUpperCase()}/checkpoint`)).status).toBe(404);
    expect((await w.app.request('/', { method: 'POST' })).status).toBe(405);
  });
});

describe('status and monitoring', () => {
  test('GET / names the witness, its key and each log with its size', async () => {
    const log = new TestLog('example.com/a', 20);
    const w = witness({ logs: [['example.com/a', log.vkey], ['example.com/b', log.vkey]] });
    await expectStatus(await w.post(await log.request(0, 7)), 200);
    const page = await expectStatus(await w.app.request('/'), 200);
    expect(page).toContain(WITNESS_NAME);
    expect(page).toContain(WITNESS_KEY.verifierKey);
    expect(page).toMatch(/example\.com\/a\n\s+cosigned size: 7 at /);
    expect(page).toMatch(/example\.com\/b\n\s+cosigned size: none yet/);
    expect(page).toContain(`/${originHash('example.com/a')}/checkpoint`);
  });

  test('the monitoring path serves the latest cosigned checkpoint, which verifies', async () => {
    // PROTOCOLS.md 9.7 derived vector.
    expect(originHash('example.com/behind-the-sofa')).toBe('5fd2dc0beb4ce54da5050cf6d5c75248b023abad441c3cecde3976fbe9da4fe4');
    const w = witness({ logs: [[SIGSUM_ORIGIN, SIGSUM_VKEY]] });
    await expectStatus(await w.post(body(0, [], sigsumNote(1))), 200);
    const lines = await expectStatus(await w.post(body(1, SIGSUM_PROOFS['1-3'], sigsumNote(3))), 200);
    const res = await w.app.request(`/${originHash(SIGSUM_ORIGIN)}/checkpoint`);
    const text = await expectStatus(res, 200);
    expect(text).toBe(sigsumNote(3) + lines);
    const { parseVerifierKey } = await import('../../src/note/index.js');
    const opened = openNote(text, [parseVerifierKey(SIGSUM_VKEY), parseCosignatureVerifierKey(WITNESS_KEY.verifierKey)]);
    expect(opened.verified).toHaveLength(2);
  });
});
