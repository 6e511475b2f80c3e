// Search: a decimal entry index, a 64-hex leaf hash (looked up with
// /v1/log/lookup), or an agent name (the registry's GET /v1/agents/{name},
// when this server runs the registry).

import { messageOf } from '../client/errors.js';
import { agent, lookupLeaf, registryInfo, type AgentAnswer } from './api.js';
import type { Ctx } from './context.js';
import { card, h, kv, mono } from './dom.js';
import { isoSeconds } from './format.js';

export type Query = { kind: 'index'; index: number } | { kind: 'leaf'; hex: string } | { kind: 'agent'; name: string } | { kind: 'empty' };

export function classify(q: string): Query {
  const s = q.trim();
  if (s === '') return { kind: 'empty' };
  if (/^[0-9a-fA-F]{64}$/.test(s)) return { kind: 'leaf', hex: s.toLowerCase() };
  if (/^[0-9]+$/.test(s) && Number.isSafeInteger(Number(s))) return { kind: 'index', index: Number(s) };
  return { kind: 'agent', name: s };
}

/** Renders the answer, or returns a hash route to go to instead. */
export async function searchView(ctx: Ctx, q: string): Promise<Node | { redirect: string }> {
  const query = classify(q);
  const title = h('h1', {}, 'Search');
  switch (query.kind) {
    case 'empty':
      return h('div', {}, title, h('p', {}, 'Type an entry index, a leaf hash in hex, or an agent name.'));
    case 'index':
      return { redirect: `#/entry/${query.index}` };
    case 'leaf': {
      const index = await lookupLeaf(query.hex);
      if (index !== null) return { redirect: `#/entry/${index}` };
      return h('div', {}, title, h('p', { class: 'error', id: 'search-result' }, 'No entry has the leaf hash ', mono(query.hex), '.'));
    }
    case 'agent':
      return h('div', {}, title, await agentResult(ctx, query.name));
  }
}

async function agentResult(_ctx: Ctx, name: string): Promise<HTMLElement> {
  const reg = await registryInfo();
  if (reg === null) {
    return h(
      'p',
      { class: 'error', id: 'search-result', 'data-result': 'no-registry' },
      `"${name}" is not an entry index or a leaf hash, and agent search needs the registry, which is not enabled on this server (tilelog serve --registry).`,
    );
  }
  let a: AgentAnswer | null;
  try {
    a = await agent(name);
  } catch (err) {
    return h('p', { class: 'error', id: 'search-result' }, `Not a valid agent name: ${messageOf(err)}`);
  }
  if (a === null) return h('p', { class: 'error', id: 'search-result', 'data-result': 'not-found' }, `No agent named "${name}" in the registry.`);
  return h(
    'div',
    { id: 'search-result', 'data-result': 'agent' },
    card(
      `Agent ${a.name}`,
      kv([
        ['status', a.status],
        ['owner', a.owner],
        ['alias', a.alias ?? '(none)'],
        ['capabilities', a.capabilities.join(', ') || '(none)'],
        ['endpoints', h('span', { class: 'pre-line' }, a.endpoints.map((e) => `${e.protocol} ${e.url}`).join('\n'))],
        ['public key', mono(a.publicKey)],
        ['last change', h('span', {}, `${a.lastChange} (seq ${a.seq}) at ${isoSeconds(a.time)}: `, h('a', { href: `#/entry/${a.entryIndex}`, id: 'agent-head' }, `entry ${a.entryIndex}`))],
        ['registered', h('span', {}, `${isoSeconds(a.registeredTime)}: `, h('a', { href: `#/entry/${a.registeredIndex}`, id: 'agent-registered' }, `entry ${a.registeredIndex}`))],
        ['registry key', mono(reg.registryKey)],
      ]),
      h('p', { class: 'muted' }, 'This record is what the registry says. Open its entry to verify, in this page, that the entry is in the log.'),
    ),
  );
}
