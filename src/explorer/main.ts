// The log browser: hash routes (#/, #/entries/<top>, #/entry/<index>,
// #/search/<query>) so the server only serves / and static assets. Each
// route renders from fresh server answers, verified with the trusted key.
//
// The body's data-state is "loading", "ready" or "error" (tests wait on it).

import { messageOf } from '../client/errors.js';
import { latestCheckpoint, loadContext, type Ctx } from './context.js';
import { card, h } from './dom.js';
import { entriesTable } from './entries.js';
import { entryView } from './entry.js';
import { homeView } from './home.js';
import { searchView } from './search.js';

const main = document.getElementById('main')!;
const trustBar = document.getElementById('trust')!;
const form = document.getElementById('search') as HTMLFormElement;
const q = document.getElementById('q') as HTMLInputElement;

let generation = 0;

async function route(ctx: Ctx, hash: string): Promise<Node | { redirect: string }> {
  const path = hash.replace(/^#/, '') || '/';
  let m: RegExpMatchArray | null;
  if ((m = path.match(/^\/entry\/([0-9]+)$/)) !== null) return entryView(ctx, Number(m[1]));
  if ((m = path.match(/^\/entries\/([0-9]+)$/)) !== null) return entriesPage(ctx, Number(m[1]));
  if ((m = path.match(/^\/search\/(.*)$/)) !== null) return searchView(ctx, decodeURIComponent(m[1]!));
  return homeView(ctx);
}

async function entriesPage(ctx: Ctx, top: number): Promise<Node> {
  const latest = await latestCheckpoint(ctx);
  const v = latest.check.verified;
  if (v === null) return h('p', { class: 'error' }, `The checkpoint does not verify (${latest.check.failure?.message ?? ''}), so entries cannot be authenticated.`);
  return h('div', {}, h('h1', {}, 'Entries'), card(`Entries of the checkpoint of size ${v.size}`, await entriesTable(ctx, v, top)));
}

function trustBanner(ctx: Ctx): Node | null {
  const t = ctx.trust;
  if (t.mismatch) {
    return h(
      'p',
      { class: 'alert bad', id: 'key-mismatch' },
      `⚠ WARNING: this server announces a log key different from the one pinned in this browser. Verification uses the pinned key. ` +
        `Pinned: ${t.pinned ?? ''} — announced: ${t.announced}. Keep the pinned key unless the operator announced a new one; see the `,
      h('a', { href: '#/' }, 'front page'),
      '.',
    );
  }
  if (t.source === 'announced') {
    return h('p', { class: 'alert warn', id: 'key-unpinned' }, 'Verifying with the key this server announces, which is not pinned. Check it against a source you trust and pin it on the ', h('a', { href: '#/' }, 'front page'), '.');
  }
  return null;
}

async function render(): Promise<void> {
  const mine = ++generation;
  document.body.dataset.state = 'loading';
  try {
    const ctx = await loadContext(() => void render());
    const view = await route(ctx, location.hash);
    if (mine !== generation) return; // a newer navigation won
    if ('redirect' in view) {
      location.replace(view.redirect);
      return;
    }
    trustBar.replaceChildren(...[trustBanner(ctx)].filter((x): x is Node => x !== null));
    main.replaceChildren(view);
    document.body.dataset.state = 'ready';
  } catch (err) {
    if (mine !== generation) return;
    main.replaceChildren(h('p', { class: 'error', id: 'load-error' }, `Could not load: ${messageOf(err)}`));
    document.body.dataset.state = 'error';
  }
}

form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  const target = `#/search/${encodeURIComponent(q.value.trim())}`;
  if (location.hash === target) void render();
  else location.hash = target;
});
window.addEventListener('hashchange', () => void render());
void render();
