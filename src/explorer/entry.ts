// One entry: a decoded view for registry and CA entries (first: it is what
// a reader came for), its bytes (text, and a hex dump folded unless nothing
// else shows them), and its inclusion proof verified here. The verdict is the SDK's
// verifyBundle under the trusted key (checkpoint signature, then RFC 9162
// inclusion); the steps shown beside it are the same walk, spelled out.

import { isClientError, messageOf } from '../client/errors.js';
import { verifyBundle } from '../client/verify.js';
import type { ProofBundle } from '../client/bundle.js';
import type { VerifiedCheckpoint } from '../client/checkpoint.js';
import { hashEqual, leafHash, type Hash } from '../merkle/hash.js';
import { entryBundle } from './api.js';
import { checkCheckpoint, NO_WITNESS_KEYS } from './checkpoint-check.js';
import { tileClient, type Ctx } from './context.js';
import { card, h, kv, mono, type Child } from './dom.js';
import { decodeForDisplay, pem, type DecodedEntry } from './entry-decode.js';
import { hexDump, toBase64, toHex, utf8OrNull } from './format.js';
import { traceInclusion } from './inclusion-trace.js';
import { keyPhrase } from './trust.js';

const HEX_LIMIT = 4096;

export async function entryView(ctx: Ctx, index: number): Promise<Node> {
  const answer = await entryBundle(index);
  const title = h('h1', {}, `Entry ${index}`);
  if (answer === null) {
    return h('div', {}, title, h('p', { class: 'error', id: 'not-found' }, `Entry ${index} is not in the latest checkpoint (tree size ${ctx.info.treeSize}).`));
  }
  if (!answer.ok) {
    return h('div', {}, title, verdictBox(false, 'decode', messageOf(answer.error)), card('Bundle as served', h('pre', { class: 'wrap' }, answer.text)));
  }
  const b = answer.bundle;
  const { ok, step, message } = verdictOf(ctx, b);
  const proof = await proofCard(ctx, b, ok);
  const decoded = decodeForDisplay(b.entry);
  const blame = proof.blamed === null ? '' : `; proof hash ${proof.blamed + 1} of ${b.inclusionProof.length} differs from the one the authenticated tiles give`;
  return h(
    'div',
    {},
    title,
    verdictBox(ok, step, message + blame, ctx),
    ...(decoded.ok ? [decodedCard(decoded.entry), bytesCard(b.entry, true)] : [bytesCard(b.entry, false), notDecodedCard(b.entry, decoded.reason)]),
    proof.el,
    card(
      'Proof bundle as served',
      h('p', { class: 'muted' }, 'spec/BUNDLE.md JSON from ', h('a', { href: `/v1/log/entry/${index}` }, `/v1/log/entry/${index}`)),
      h('details', { id: 'bundle-json' }, h('summary', {}, `JSON (${answer.text.length} characters)`), h('pre', { class: 'wrap' }, answer.text)),
    ),
  );
}

function verdictOf(ctx: Ctx, b: ProofBundle): { ok: boolean; step: string; message: string } {
  if (ctx.trust.policy === null) return { ok: false, step: 'policy', message: ctx.trust.policyError ?? 'no usable key' };
  try {
    const v = verifyBundle(b, ctx.trust.policy);
    return { ok: true, step: '', message: `Entry ${v.index} is in the log ${v.checkpoint.origin} of size ${v.checkpoint.size}, signed by ${keyPhrase(ctx.trust)}.` };
  } catch (err) {
    return { ok: false, step: isClientError(err) ? err.step : 'verification', message: messageOf(err) };
  }
}

function verdictBox(ok: boolean, step: string, message: string, ctx?: Ctx): HTMLElement {
  return ok
    ? h('div', { class: 'verdict ok', id: 'verdict', 'data-verdict': 'verified' }, '✔ Inclusion verified', h('small', {}, message))
    : h(
        'div',
        { class: 'verdict bad', id: 'verdict', 'data-verdict': 'failed', 'data-step': step },
        `✘ Verification FAILED at step: ${step}`,
        h('small', {}, message),
        ctx?.trust.mismatch ? h('small', {}, 'The pinned key differs from the key this server announces.') : null,
      );
}

/**
 * Size, leaf hash, the text when there is no decoded view, and the hex dump
 * in a <details> (#raw-bytes) that starts open only when nothing else shows
 * the bytes: a decoded entry's CBOR or a text entry's dump is rarely read.
 */
function bytesCard(entry: Uint8Array, decoded: boolean): HTMLElement {
  const text = decoded ? null : utf8OrNull(entry);
  const dump = h('pre', { id: 'hex' }, hexDump(entry, HEX_LIMIT));
  let more: HTMLElement | null = null;
  if (entry.length > HEX_LIMIT) {
    more = h('button', { type: 'button' }, `show all ${entry.length} bytes`);
    more.addEventListener('click', () => {
      dump.textContent = hexDump(entry);
      more?.remove();
    });
  }
  const rawOpen = !decoded && text === null;
  return card(
    'Raw bytes',
    kv([
      ['size', `${entry.length} bytes`],
      ['leaf hash', mono(`${toHex(leafHash(entry))}  (SHA-256(0x00 ‖ entry), computed here)`)],
    ]),
    decoded ? null : h('h2', {}, 'text'),
    decoded ? null : text === null ? h('p', { class: 'muted', id: 'text' }, 'Not valid UTF-8.') : h('pre', { id: 'text', class: 'wrap' }, text),
    h('details', { id: 'raw-bytes', ...(rawOpen ? { open: '' } : {}) }, h('summary', {}, `hex dump (${entry.length} bytes)`), dump, more),
  );
}

function notDecodedCard(entry: Uint8Array, reason: string): HTMLElement {
  // A registry envelope is a CBOR map (major type 5); anything else is plain bytes.
  const why = entry.length > 0 && entry[0]! >> 5 === 5 ? `: ${reason}` : ' (plain bytes).';
  return card('Decoded', h('p', { class: 'muted', id: 'decoded-none' }, `Not a registry or CA entry${why}`));
}

function decodedCard(entry: DecodedEntry): HTMLElement {
  const rows: Array<readonly [string, Child]> = entry.fields.map(([k, v]) => [k, h('span', { class: 'mono break pre-line' }, v)] as const);
  return card(
    `Decoded: ${entry.type}`,
    h('div', { id: 'decoded', 'data-type': entry.type }, kv(rows)),
    h('p', { class: 'muted' }, 'Decoded with tilelog/registry decodeEntry (canonical CBOR, schema checked). The envelope signature is by the registry submitter key shown, which this page does not pin.'),
    entry.der !== null ? h('details', {}, h('summary', {}, 'certificate (PEM)'), h('pre', { id: 'pem' }, pem('CERTIFICATE', entry.der))) : null,
  );
}

// When the proof fails, rebuild it from tiles authenticated against the same
// signed root (TileClient) and name the first proof hash that differs.
async function tileProof(ctx: Ctx, b: ProofBundle, cp: VerifiedCheckpoint | null): Promise<Hash[] | null> {
  const client = tileClient(ctx);
  if (cp === null || client === null || b.index >= cp.size) return null;
  try {
    return await client.inclusionProof(b.index, cp);
  } catch {
    return null; // tiles unavailable or inconsistent: the verdict stands without the cross-check
  }
}

async function proofCard(ctx: Ctx, b: ProofBundle, verified: boolean): Promise<{ el: HTMLElement; blamed: number | null }> {
  const check = checkCheckpoint(b.checkpoint, ctx.trust, NO_WITNESS_KEYS);
  const fromTiles = verified ? null : await tileProof(ctx, b, check.verified);
  const cp = check.checkpoint;
  const items: HTMLElement[] = [];
  const step = (ok: boolean | null, ...children: Child[]) => h('li', { class: ok === false ? 'fail' : '' }, ok === null ? '' : ok ? '✔ ' : '✘ ', ...children);

  items.push(
    step(
      check.verified !== null,
      `Checkpoint signature, checked with ${keyPhrase(ctx.trust)} `,
      mono(ctx.trust.key),
      check.verified !== null ? ': valid.' : `: ${check.failure?.message ?? 'FAILED'}`,
      cp !== null ? h('div', { class: 'muted break' }, `origin ${cp.origin}, tree size ${cp.size}, root ${toBase64(cp.root)}`) : null,
    ),
  );
  const leaf = leafHash(b.entry);
  items.push(step(null, 'Leaf hash = SHA-256(0x00 ‖ entry) = ', mono(toHex(leaf))));
  if (cp === null) return { el: card('Inclusion proof, verified in this page', h('ol', { class: 'steps', id: 'steps' }, ...items)), blamed: null };

  const trace = traceInclusion(b.index, cp.size, leaf, b.inclusionProof);
  let blamed: number | null = null;
  trace.steps.forEach((s, i) => {
    const [l, r] = s.side === 'left' ? ['sibling', 'hash'] : ['hash', 'sibling'];
    const want = fromTiles?.[i];
    const wrong = blamed === null && want !== undefined && !hashEqual(want, s.sibling);
    if (wrong) blamed = i;
    items.push(
      step(
        wrong ? false : null,
        wrong ? h('strong', {}, 'This proof hash is wrong: the tiles, authenticated against the signed root, give ', mono(toHex(want)), '. ') : null,
        `Proof hash ${i + 1} of ${b.inclusionProof.length}: sibling `,
        mono(toHex(s.sibling)),
        ` on the ${s.side}; SHA-256(0x01 ‖ ${l} ‖ ${r}) = `,
        mono(toHex(s.result)),
      ),
    );
  });
  if (trace.problem !== null) items.push(step(false, `The proof is malformed: ${trace.problem}.`));
  if (trace.root !== null) {
    const match = hashEqual(trace.root, cp.root);
    items.push(
      step(
        match,
        'Computed root ',
        mono(toHex(trace.root)),
        match ? ' equals ' : ' DIFFERS from ',
        'the checkpoint root ',
        mono(toHex(cp.root)),
        match ? '.' : ': some proof hash or the entry is not what the signed tree holds.',
      ),
    );
  }
  const el = card(
    'Inclusion proof, verified in this page',
    h('p', { class: 'muted' }, `RFC 9162 §2.1.3.2 for index ${b.index} in the tree of size ${cp.size}: ${trace.expectedLength ?? 0} proof hashes expected, ${b.inclusionProof.length} given.`),
    h('ol', { class: 'steps', id: 'steps' }, ...items),
  );
  return { el, blamed };
}
