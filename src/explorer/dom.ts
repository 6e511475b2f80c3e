// Tiny DOM builders. Text always goes in as text nodes (never innerHTML), so
// entry bytes, agent names and server answers cannot inject markup; with the
// page's CSP (no inline script or style) that keeps a hostile log harmless.

export type Child = Node | string | number | null | undefined | false;

/** An element with attributes (class via "class") and children. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  append(el, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** An SVG element (attributes only; presentation goes through CSS classes). */
export function svg(tag: string, attrs: Record<string, string | number> = {}, ...children: Child[]): SVGElement {
  const el = document.createElementNS(SVG_NS, tag) as SVGElement;
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  append(el, children);
  return el;
}

export function append(el: Element, children: readonly Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'number' ? String(c) : c);
  }
}

/** A badge: "ok", "bad" or "warn". */
export function badge(kind: 'ok' | 'bad' | 'warn', text: string): HTMLSpanElement {
  return h('span', { class: `badge ${kind}` }, text);
}

/** A two-column table of label/value rows. */
export function kv(rows: ReadonlyArray<readonly [string, Child]>): HTMLTableElement {
  return h('table', { class: 'kv' }, h('tbody', {}, ...rows.map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, v)))));
}

export function mono(text: string): HTMLElement {
  return h('code', { class: 'mono break' }, text);
}

/** A wide table in a box that scrolls sideways on a narrow screen, so the page itself never does. */
export function scrollBox(table: HTMLTableElement): HTMLElement {
  return h('div', { class: 'scroll' }, table);
}

export function card(title: string, ...children: Child[]): HTMLElement {
  return h('section', { class: 'card' }, h('h2', {}, title), ...children);
}
