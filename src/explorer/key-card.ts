// The log verifier key card on the front page: the announced key, the pinned
// one, and the pin controls. Pinning a first key is one click (trust on first
// use, said as such). A server announcing another key than the pinned one is
// the case pinning exists for: either the operator rotated the key or this is
// not the log that was pinned. So the safe action, keeping the pinned key, is
// the primary button; replacing it is a separate step that explains the risk
// and is enabled only once the new key's ID is typed in, never one click.

import { messageOf } from '../client/errors.js';
import { parseVerifierKey } from '../note/keys.js';
import type { Ctx } from './context.js';
import { badge, card, h, kv } from './dom.js';
import { keyIdHex } from './format.js';
import { pinKey, unpinKey, type Trust } from './trust.js';

/** The 8 hex digits of a verifier key's ID, or null when it does not parse. */
function keyIdOf(vkey: string): string | null {
  try {
    return keyIdHex(parseVerifierKey(vkey).keyId);
  } catch {
    return null;
  }
}

/** Keep (primary) or replace (explained, confirmed by typing the new key ID) a pinned key the server no longer announces. */
function mismatchActions(ctx: Ctx, t: Trust): HTMLElement {
  const keep = h('button', { class: 'primary', id: 'keep-pinned', type: 'button' }, 'Keep the pinned key');
  const start = h('button', { id: 'replace-start', type: 'button', 'aria-expanded': 'false', 'aria-controls': 'replace-key' }, 'Replace the pinned key…');
  const kept = h(
    'p',
    { class: 'ok', id: 'keep-note', hidden: '' },
    'Kept: this page goes on verifying with the pinned key, so what this server shows does not verify. Ask the operator whether the log key changed.',
  );

  const id = keyIdOf(t.announced);
  const confirm = h('input', { id: 'replace-confirm', autocomplete: 'off', spellcheck: 'false', placeholder: id === null ? '' : '8 hex digits', 'aria-describedby': 'replace-why' });
  const replace = h('button', { class: 'danger', id: 'replace-pinned', type: 'button', disabled: '' }, 'Replace the pinned key with the announced one');
  const error = h('span', { class: 'bad', id: 'replace-error' });
  confirm.addEventListener('input', () => {
    replace.disabled = id === null || confirm.value.trim().toLowerCase() !== id;
  });
  replace.addEventListener('click', () => {
    try {
      pinKey(t.announced);
      ctx.rerender();
    } catch (err) {
      error.textContent = messageOf(err);
    }
  });
  const panel = h(
    'div',
    { class: 'replace-panel', id: 'replace-key', hidden: '' },
    h(
      'p',
      { id: 'replace-why' },
      'Replace the pinned key only if the log operator announced a new key through a channel you trust, and its key ID matches. ' +
        'A log that changes its key without notice may be a different log, or one that was taken over: after replacing, this page ' +
        'verifies with whatever key this server announces, so a forged checkpoint would show as verified.',
    ),
    id === null
      ? h('p', { class: 'bad' }, 'The announced key does not parse, so it cannot be pinned.')
      : h('label', { for: 'replace-confirm' }, 'To confirm, type the new key ID as the operator published it (this server announces ', h('code', {}, id), '): '),
    h('div', { class: 'row' }, confirm, replace, error),
  );

  keep.addEventListener('click', () => {
    panel.hidden = true;
    start.setAttribute('aria-expanded', 'false');
    kept.hidden = false;
  });
  start.addEventListener('click', () => {
    panel.hidden = !panel.hidden;
    start.setAttribute('aria-expanded', String(!panel.hidden));
    kept.hidden = true;
    if (!panel.hidden) confirm.focus();
  });
  return h('div', { id: 'mismatch-actions' }, h('div', { class: 'row' }, keep, start), kept, panel);
}

export function keyCard(ctx: Ctx): HTMLElement {
  const t = ctx.trust;
  const input = h('input', { id: 'pin-input', placeholder: 'paste a verifier key obtained out of band', spellcheck: 'false' });
  const msg = h('span', { class: 'bad', id: 'pin-error' });
  const pinPasted = h('button', { id: 'pin-pasted', type: 'button' }, 'Pin pasted key');
  pinPasted.addEventListener('click', () => {
    try {
      pinKey(input.value);
      ctx.rerender();
    } catch (err) {
      msg.textContent = messageOf(err);
    }
  });
  let actions: HTMLElement;
  if (t.mismatch) {
    actions = mismatchActions(ctx, t);
  } else if (t.pinned === null) {
    const pin = h('button', { class: 'primary', id: 'pin-announced', type: 'button' }, 'Pin this key');
    pin.addEventListener('click', () => {
      pinKey(t.announced);
      ctx.rerender();
    });
    actions = h('div', { class: 'row' }, pin);
  } else {
    const unpin = h('button', { id: 'unpin', type: 'button' }, 'Unpin');
    unpin.addEventListener('click', () => {
      unpinKey();
      ctx.rerender();
    });
    actions = h('div', { class: 'row' }, unpin);
  }
  return h(
    'section',
    { class: 'card', id: 'log-key' },
    h('h2', {}, 'Log verifier key'),
    kv([
      ['announced by the server', h('code', { class: 'mono break', id: 'announced-key' }, t.announced)],
      ['pinned in this browser', t.pinned === null ? h('span', { class: 'muted', id: 'pinned-key' }, 'nothing pinned') : h('code', { class: 'mono break', id: 'pinned-key' }, t.pinned)],
      ['used for verification', h('span', {}, t.source === 'pinned' ? badge(t.mismatch ? 'bad' : 'ok', 'pinned key') : badge('warn', 'announced key, not pinned'))],
    ]),
    h(
      'p',
      { class: 'muted' },
      'Compare the key with the one printed by tilelog serve (or published by the operator), then pin it. A pinned key is kept in this browser (localStorage); ' +
        'if the server later announces another key, this page warns and keeps verifying with the pinned one.',
    ),
    actions,
    h('div', { class: 'row' }, input, pinPasted, msg),
  );
}
