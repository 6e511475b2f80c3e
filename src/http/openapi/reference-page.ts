// The API reference page (GET /docs), rendered on the server from the
// OpenAPI document: one section per tag, one block per operation with its
// method, path, summary, parameters, request body and responses, then the
// named schemas. Self-contained: inline CSS, no scripts, no fonts or images,
// links only within the page, to openapi.json, and (when the document
// describes GET /, the log browser) to the browser. Every text from the
// document is escaped.

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/** HTML-escapes text for element content and quoted attributes. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
/** Anchors hold only [a-z0-9-], whatever the name. */
const anchor = (kind: string, name: string) => `${kind}-${name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;

/** A short type expression of a schema; $refs link to the schema list. */
export function schemaText(s: Json | undefined, depth = 0): string {
  if (!isObj(s)) return 'any';
  const ref = str(s.$ref);
  if (ref.startsWith('#/components/schemas/')) {
    const name = ref.slice('#/components/schemas/'.length);
    return `<a href="#${anchor('schema', name)}">${escapeHtml(name)}</a>`;
  }
  for (const k of ['anyOf', 'oneOf', 'allOf'] as const) {
    const parts = s[k];
    if (Array.isArray(parts)) return parts.map((p) => schemaText(p, depth)).join(k === 'allOf' ? ' &amp; ' : ' | ');
  }
  if (s.const !== undefined) return escapeHtml(JSON.stringify(s.const));
  if (Array.isArray(s.enum)) return s.enum.map((v) => escapeHtml(JSON.stringify(v))).join(' | ');
  const type = Array.isArray(s.type) ? s.type.map(str).join(' | ') : str(s.type);
  if (type === 'array' || isObj(s.items)) return `${schemaText(s.items, depth)}[]`;
  if (type === 'object' || isObj(s.properties)) {
    const props = isObj(s.properties) ? s.properties : {};
    const required = new Set(Array.isArray(s.required) ? s.required.map(str) : []);
    const names = Object.keys(props);
    if (names.length === 0) return isObj(s.additionalProperties) ? `{ [key]: ${schemaText(s.additionalProperties, depth)} }` : 'object';
    if (depth > 3) return 'object';
    const pad = '  '.repeat(depth + 1);
    const lines = names.map((n) => `${pad}${escapeHtml(n)}${required.has(n) ? '' : '?'}: ${schemaText(props[n], depth + 1)}`);
    return `{\n${lines.join(',\n')}\n${'  '.repeat(depth)}}`;
  }
  const notes = [str(s.format), s.pattern !== undefined ? `/${str(s.pattern)}/` : ''].filter((x) => x !== '');
  return escapeHtml(notes.length > 0 ? `${type || 'any'} (${notes.join(', ')})` : type || 'any');
}

function content(c: Json | undefined): string {
  if (!isObj(c)) return '';
  return Object.entries(c)
    .map(([type, media]) => `<div class="media"><code>${escapeHtml(type)}</code><pre>${schemaText(isObj(media) ? media.schema : undefined)}</pre></div>`)
    .join('');
}

function parameters(params: Json | undefined): string {
  if (!Array.isArray(params) || params.length === 0) return '';
  const rows = params.filter(isObj).map((p) => {
    const schema = isObj(p.schema) ? p.schema : {};
    const desc = str(p.description) || str(schema.description);
    return `<tr><td><code>${escapeHtml(str(p.name))}</code></td><td>${escapeHtml(str(p.in))}</td><td>${p.required === true ? 'yes' : 'no'}</td><td><code>${schemaText(schema)}</code></td><td>${escapeHtml(desc)}</td></tr>`;
  });
  return `<h4>Parameters</h4><table><tr><th>Name</th><th>In</th><th>Required</th><th>Schema</th><th>Description</th></tr>${rows.join('')}</table>`;
}

function operation(path: string, method: string, op: Obj): string {
  const id = anchor('op', `${method} ${path}`);
  const secured = Array.isArray(op.security) && op.security.length > 0;
  const body = isObj(op.requestBody) ? `<h4>Request body${op.requestBody.required === true ? '' : ' (optional)'}</h4>${content(op.requestBody.content)}` : '';
  const responses = isObj(op.responses)
    ? Object.entries(op.responses)
        .map(([status, r]) => `<li><b>${escapeHtml(status)}</b> ${escapeHtml(str(isObj(r) ? r.description : ''))}${content(isObj(r) ? r.content : undefined)}</li>`)
        .join('')
    : '';
  return (
    `<section class="op" id="${id}"><h3><span class="m ${escapeHtml(method)}">${escapeHtml(method.toUpperCase())}</span> <code>${escapeHtml(path)}</code></h3>` +
    `<p class="summary">${escapeHtml(str(op.summary))}${secured ? ' <span class="auth">API key</span>' : ''}</p>` +
    (str(op.description) !== '' ? `<p>${escapeHtml(str(op.description))}</p>` : '') +
    parameters(op.parameters) +
    body +
    `<h4>Responses</h4><ul>${responses}</ul></section>`
  );
}

const STYLE = `body{font:15px/1.45 system-ui,sans-serif;max-width:62rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}
code,pre{font-family:ui-monospace,monospace;font-size:13px}pre{background:#f5f5f4;padding:.5rem;margin:.25rem 0;overflow-x:auto}
.op{border-top:1px solid #ddd;padding:.5rem 0}.m{display:inline-block;min-width:4rem;font-size:13px;padding:0 .3rem;border-radius:3px;color:#fff;background:#555;text-align:center}
.get{background:#2b6cb0}.post{background:#2f855a}.patch{background:#b7791f}.delete{background:#c53030}
.auth{font-size:12px;border:1px solid #b7791f;color:#b7791f;border-radius:3px;padding:0 .3rem}
table{border-collapse:collapse;display:block;max-width:100%;overflow-x:auto}h3,p,li{overflow-wrap:anywhere}td,th{border:1px solid #ddd;padding:.2rem .4rem;text-align:left;vertical-align:top}
.media code{font-weight:bold}nav{display:flex;flex-wrap:wrap;gap:.25rem 1rem}`;

/** The whole page for an OpenAPI document. */
export function renderReferencePage(doc: object): string {
  const d = doc as Obj;
  const info = isObj(d.info) ? d.info : {};
  const paths = isObj(d.paths) ? d.paths : {};
  const tags = Array.isArray(d.tags) ? d.tags.filter(isObj) : [];
  const byTag = new Map<string, string[]>();
  for (const [path, item] of Object.entries(paths)) {
    if (!isObj(item)) continue;
    for (const m of METHODS) {
      const op = item[m];
      if (!isObj(op)) continue;
      const tag = Array.isArray(op.tags) && typeof op.tags[0] === 'string' ? op.tags[0] : 'other';
      byTag.set(tag, [...(byTag.get(tag) ?? []), operation(path, m, op)]);
    }
  }
  const order = [...tags.map((t) => str(t.name)), ...[...byTag.keys()].filter((k) => !tags.some((t) => t.name === k))];
  const sections = order
    .filter((t) => byTag.has(t))
    .map((t) => {
      const desc = str(tags.find((x) => x.name === t)?.description);
      return `<h2 id="${anchor('tag', t)}">${escapeHtml(t)}</h2>${desc !== '' ? `<p>${escapeHtml(desc)}</p>` : ''}${byTag.get(t)!.join('')}`;
    });
  const components = isObj(d.components) && isObj(d.components.schemas) ? d.components.schemas : {};
  const schemas = Object.entries(components).map(
    ([name, s]) => `<section id="${anchor('schema', name)}"><h3>${escapeHtml(name)}</h3>${isObj(s) && str(s.description) !== '' ? `<p>${escapeHtml(str(s.description))}</p>` : ''}<pre>${schemaText(s)}</pre></section>`,
  );
  const title = `${str(info.title)} ${str(info.version)} API`;
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>` +
    `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(str(info.description))}</p>` +
    // Relative like openapi.json: GET / is the log browser when the document says so.
    (isObj(paths['/']) ? `<p><a id="browser-link" href="./">The log browser</a> shows this log and verifies what it shows in your browser.</p>` : '') +
    `<p>The machine-readable description: <a href="openapi.json">openapi.json</a> (OpenAPI ${escapeHtml(str(d.openapi))}).</p>` +
    `<nav>${order.filter((t) => byTag.has(t)).map((t) => `<a href="#${anchor('tag', t)}">${escapeHtml(t)}</a>`).join('')}${schemas.length > 0 ? '<a href="#schemas">schemas</a>' : ''}</nav>` +
    sections.join('') +
    (schemas.length > 0 ? `<h2 id="schemas">Schemas</h2>${schemas.join('')}` : '') +
    `</body></html>\n`
  );
}
