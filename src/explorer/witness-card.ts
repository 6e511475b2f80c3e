// The witness keys card on the front page: every key the server lists and
// every pinned key, in full, each with a pin or unpin button, a field for a
// key obtained out of band, and a warning for each pinned key the server no
// longer lists or lists differently.

import { messageOf } from '../client/errors.js';
import type { LatestCheckpoint, Ctx } from './context.js';
import { badge, h, scrollBox } from './dom.js';
import { comparePinned, pinWitnessKey, sameWitnessKey, unpinWitnessKey, type PinnedWitness } from './witness-trust.js';

function warning(p: PinnedWitness): HTMLElement | null {
  const text =
    p.state === 'missing'
      ? `⚠ WARNING: the pinned witness key ${p.vkey} is not listed by this server.`
      : p.state === 'differs'
        ? `⚠ WARNING: this server lists another key for witness ${p.name ?? ''}: ${p.listedKey ?? ''}, not the pinned ${p.vkey}. Cosignatures are checked with the pinned key.`
        : p.state === 'unusable'
          ? `⚠ WARNING: the pinned witness key ${p.vkey} does not parse and is ignored.`
          : null;
  return text === null ? null : h('p', { class: 'alert bad witness-warning', 'data-state': p.state }, text);
}

export function witnessCard(ctx: Ctx, latest: LatestCheckpoint): HTMLElement {
  const pinned = ctx.pinnedWitnesses;
  const listed = latest.witnesses?.witnesses ?? [];
  const compared = comparePinned(pinned, listed.map((w) => w.verifierKey));

  const button = (label: string, cls: string, act: () => void) => {
    const b = h('button', { class: cls, type: 'button' }, label);
    b.addEventListener('click', () => {
      act();
      ctx.rerender();
    });
    return b;
  };
  const row = (name: string, vkey: string, onServer: string, isPinned: boolean) =>
    h(
      'tr',
      { 'data-vkey': vkey, 'data-pinned': String(isPinned) },
      h('td', { class: 'mono nowrap' }, name),
      h('td', {}, h('code', { class: 'mono break' }, vkey)),
      h('td', {}, onServer),
      h('td', {}, isPinned ? badge('ok', 'pinned') : badge('warn', 'not pinned')),
      h('td', {}, isPinned ? button('Unpin', 'unpin-witness', () => unpinWitnessKey(vkey)) : button('Pin this key', 'primary pin-witness', () => pinWitnessKey(vkey))),
    );
  const rows = [
    ...listed.map((w) => {
      const pin = pinned.find((p) => sameWitnessKey(p, w.verifierKey));
      return row(w.name, pin ?? w.verifierKey, 'listed', pin !== undefined);
    }),
    ...compared.filter((p) => p.state !== 'listed').map((p) => row(p.name ?? '?', p.vkey, p.state === 'differs' ? 'lists another key' : 'not listed', true)),
  ];

  const input = h('input', { id: 'witness-pin-input', placeholder: 'paste a witness verifier key (cosignature/v1) obtained out of band', spellcheck: 'false' });
  const msg = h('span', { class: 'bad', id: 'witness-pin-error' });
  const pinPasted = h('button', { id: 'witness-pin-pasted', type: 'button' }, 'Pin pasted witness key');
  pinPasted.addEventListener('click', () => {
    try {
      pinWitnessKey(input.value);
      ctx.rerender();
    } catch (err) {
      msg.textContent = messageOf(err);
    }
  });

  return h(
    'section',
    { class: 'card', id: 'witness-keys' },
    h('h2', {}, 'Witness verifier keys'),
    ...compared.map(warning),
    rows.length === 0
      ? h('p', { class: 'muted' }, 'This server lists no witnesses, and none is pinned.')
      : scrollBox(
          h(
            'table',
            { id: 'witness-table' },
            h('thead', {}, h('tr', {}, h('th', {}, 'witness'), h('th', {}, 'cosignature/v1 verifier key'), h('th', {}, 'on this server'), h('th', {}, 'in this browser'), h('th', {}, ''))),
            h('tbody', {}, ...rows),
          ),
        ),
    h(
      'p',
      { id: 'witness-source' },
      'Used for cosignatures: ',
      pinned.length > 0 ? badge('ok', `the ${pinned.length} pinned key(s) only`) : badge('warn', 'the keys the server lists, none pinned'),
    ),
    h(
      'p',
      { class: 'muted' },
      'Compare each key with the one its witness operator publishes, then pin it. Pinned keys are kept in this browser (localStorage). ' +
        'Once any witness key is pinned, only pinned keys verify cosignatures: a line by a key the server lists but you did not pin shows as not pinned.',
    ),
    h('div', { class: 'row' }, input, pinPasted, msg),
  );
}
