// The front page: the latest checkpoint and its signatures (checked here
// with the trusted keys), the log key and the witness keys with their pin
// controls, tree size over time, and the most recent entries.

import { checkpointHistory } from './api.js';
import type { SignatureRow } from './checkpoint-check.js';
import { sizeChart } from './chart.js';
import { latestCheckpoint, type Ctx, type LatestCheckpoint } from './context.js';
import { badge, card, h, kv, mono, scrollBox } from './dom.js';
import { entriesTable } from './entries.js';
import { isoSeconds, keyIdHex, toBase64, toHex } from './format.js';
import { keyCard } from './key-card.js';
import { keyPhrase } from './trust.js';
import { witnessCard } from './witness-card.js';

export const HISTORY_POINTS = 200;

export async function homeView(ctx: Ctx): Promise<Node> {
  const latest = await latestCheckpoint(ctx);
  const history = checkpointHistory(HISTORY_POINTS).catch(() => null);
  const out = h('div', {}, h('h1', {}, `Log ${ctx.info.origin}`), checkpointCard(ctx, latest), keyCard(ctx), witnessCard(ctx, latest));
  out.append(card('Tree size over time', historyView(await history)));
  const v = latest.check.verified;
  out.append(
    card(
      'Recent entries',
      v !== null ? await entriesTable(ctx, v, v.size - 1) : h('p', { class: 'bad' }, 'Entries are not listed: the checkpoint does not verify with ' + keyPhrase(ctx.trust) + '.'),
    ),
  );
  return out;
}

function historyView(points: Awaited<ReturnType<typeof checkpointHistory>>): Element {
  if (points === null) return h('p', { class: 'muted', id: 'chart-empty' }, 'No history: this server does not offer /v1/log/checkpoints.');
  return sizeChart(points);
}

export function checkpointCard(ctx: Ctx, latest: LatestCheckpoint): HTMLElement {
  const { check, note } = latest;
  const c = check.checkpoint;
  const verdict =
    check.verified !== null
      ? h('div', { class: 'verdict ok', id: 'checkpoint-verdict', 'data-verdict': 'verified' }, `✔ Checkpoint signature verified with ${keyPhrase(ctx.trust)}`)
      : h(
          'div',
          { class: 'verdict bad', id: 'checkpoint-verdict', 'data-verdict': 'failed' },
          `✘ Checkpoint FAILED: ${check.failure?.step ?? 'checkpoint signature'}`,
          h('small', {}, check.failure?.message ?? ''),
        );
  const sigRows = check.rows.map((r) =>
    h(
      'tr',
      { 'data-role': r.role, 'data-status': r.status },
      h('td', {}, r.role === 'log' ? 'log' : r.role === 'witness' ? 'witness' : 'other'),
      h('td', { class: 'mono nowrap' }, r.name),
      h('td', { class: 'mono nowrap' }, keyIdHex(r.keyId)),
      h('td', { class: 'nowrap' }, r.timestamp === null ? '—' : isoSeconds(r.timestamp)),
      h('td', {}, statusBadge(r.status), ' ', h('span', { class: 'muted' }, r.detail)),
    ),
  );
  const wk = latest.witnessKeys;
  const q = check.witnessQuorum;
  return card(
    'Latest checkpoint',
    verdict,
    c === null
      ? h('p', { class: 'bad' }, 'The checkpoint does not parse.')
      : kv([
          ['origin', mono(c.origin)],
          ['tree size', h('span', { id: 'tree-size' }, String(c.size))],
          ['root hash', h('div', {}, mono(toBase64(c.root)), h('br', {}), h('span', { class: 'mono muted break' }, `hex ${toHex(c.root)}`))],
        ]),
    h('h2', {}, 'Signatures'),
    scrollBox(
      h(
        'table',
        { id: 'signatures' },
        h('thead', {}, h('tr', {}, h('th', {}, 'role'), h('th', {}, 'key name'), h('th', {}, 'key ID'), h('th', {}, 'time'), h('th', {}, 'status'))),
        h('tbody', {}, ...sigRows),
      ),
    ),
    q !== null && q.policy !== null
      ? h('p', { id: 'witness-policy' }, "The log's witness policy (as /v1/log/witnesses announces it): ", h('strong', {}, q.policy), '.')
      : null,
    q === null ? null : h('p', { id: 'witness-quorum', 'data-ok': String(q.ok) }, q.ok ? badge('ok', 'witnesses ✔') : badge('bad', 'witnesses FAILED'), ' ', q.detail),
    h(
      'p',
      { class: 'muted' },
      wk.source === 'pinned'
        ? `Cosignatures are checked with the ${wk.keys.length} witness key(s) pinned in this browser only (see Witness verifier keys below).`
        : wk.keys.length > 0
          ? 'Cosignatures are checked with the witness keys /v1/log/witnesses lists: the server vouches for them. Pin them below.'
          : 'This log has no witnesses configured, and no witness key is pinned.',
    ),
    h('details', {}, h('summary', {}, 'signed note as served'), h('pre', { id: 'note' }, note)),
  );
}

function statusBadge(status: SignatureRow['status']): HTMLElement {
  if (status === 'verified') return badge('ok', 'verified');
  if (status === 'failed') return badge('bad', 'FAILED');
  if (status === 'unpinned') return badge('warn', 'not pinned (server-listed key)');
  return badge('warn', 'not checked');
}
