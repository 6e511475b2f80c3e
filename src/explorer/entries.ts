// Recent entries, newest first, paged by index. Entries come from the
// entry bundles (/tile/entries/N, one fetch per 256 entries) through the
// SDK's TileClient, which checks each entry against leaf hashes from tiles
// authenticated by the verified checkpoint: the list is as trusted as it.

import type { VerifiedCheckpoint } from '../client/checkpoint.js';
import { messageOf } from '../client/errors.js';
import { leafHash } from '../merkle/hash.js';
import type { Ctx } from './context.js';
import { tileClient } from './context.js';
import { h, scrollBox } from './dom.js';
import { entryKind } from './entry-decode.js';
import { preview, toHex } from './format.js';

export const PAGE_SIZE = 25;

/** Entries [top − PAGE_SIZE + 1, top] of the verified checkpoint, newest first, with pager links. */
export async function entriesTable(ctx: Ctx, checkpoint: VerifiedCheckpoint, top: number): Promise<HTMLElement> {
  const size = checkpoint.size;
  if (size === 0) return h('p', { class: 'muted' }, 'The log is empty. Add an entry: ', h('code', {}, "curl --data-binary 'hello' " + location.origin + '/add'));
  const hi = Math.min(Math.max(top, 0), size - 1) + 1; // [lo, hi)
  const lo = Math.max(hi - PAGE_SIZE, 0);
  const client = tileClient(ctx)!;
  let entries: Uint8Array[];
  try {
    entries = await client.entries(lo, hi, checkpoint);
  } catch (err) {
    return h('p', { class: 'error' }, `Could not read entries ${lo}..${hi - 1} from the tiles: ${messageOf(err)}`);
  }
  const rows = entries
    .map((e, i) => ({ index: lo + i, e }))
    .reverse()
    .map(({ index, e }) =>
      h(
        'tr',
        { 'data-index': String(index) },
        h('td', {}, h('a', { href: `#/entry/${index}` }, String(index))),
        h('td', { class: 'nowrap' }, entryKind(e)),
        h('td', {}, String(e.length)),
        h('td', { class: 'mono nowrap' }, `${toHex(leafHash(e)).slice(0, 16)}…`),
        h('td', { class: 'mono break' }, preview(e)),
      ),
    );
  const pager = h(
    'div',
    { class: 'pager' },
    hi < size ? h('a', { href: `#/entries/${Math.min(hi + PAGE_SIZE - 1, size - 1)}`, id: 'newer' }, '← newer') : null,
    h('span', { class: 'muted' }, `entries ${lo}–${hi - 1} of ${size}`),
    lo > 0 ? h('a', { href: `#/entries/${lo - 1}`, id: 'older' }, 'older →') : null,
  );
  return h(
    'div',
    { id: 'entries' },
    scrollBox(
      h(
        'table',
        {},
        h('thead', {}, h('tr', {}, h('th', {}, 'index'), h('th', {}, 'type'), h('th', {}, 'bytes'), h('th', {}, 'leaf hash'), h('th', {}, 'content'))),
        h('tbody', {}, ...rows),
      ),
    ),
    pager,
    h('p', { class: 'muted' }, `Each entry was checked against its leaf hash in tiles authenticated by the checkpoint of size ${size}.`),
  );
}
