// What the fuzzer sends: routes read from a server's /openapi.json, drafts
// drawn by fast-check (valid operations, mutated route requests, framing
// errors), and their serialisation to raw HTTP/1.1 bytes. Valid drafts are
// resolved against what the run learned so far (registered names, serials,
// the witness's cosigned size), so they reach deep code.
import fc from 'fast-check';
import { weirdBody, weirdContentType, weirdHeaders, weirdMethod, weirdNote, weirdQuery, weirdValue } from './mutations.js';

export type Server = 'log' | 'witness';

export interface RouteSpec {
  server: Server;
  method: string;
  /** OpenAPI path, e.g. /v1/log/entry/{index}. */
  template: string;
  params: string[];
  query: string[];
  /** Request body media type, if any. */
  media: string | null;
}

interface OpenApiDoc {
  paths: Record<string, Record<string, { parameters?: { in: string; name: string }[]; requestBody?: { content: Record<string, unknown> } }>>;
}

export function routesFromOpenApi(doc: OpenApiDoc, server: Server): RouteSpec[] {
  const out: RouteSpec[] = [];
  for (const [template, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const ps = op.parameters ?? [];
      out.push({
        server,
        method: method.toUpperCase(),
        template,
        params: ps.filter((p) => p.in === 'path').map((p) => p.name),
        query: ps.filter((p) => p.in === 'query').map((p) => p.name),
        media: op.requestBody === undefined ? null : (Object.keys(op.requestBody.content)[0] ?? null),
      });
    }
  }
  return out;
}

/** How the body is framed on the wire; all but 'length', 'none' and 'chunked' are framing errors. */
export type Framing =
  | 'length' | 'none' | 'chunked'
  | 'short-eof' | 'bad-chunk-size' | 'chunk-overrun' | 'chunk-eof' | 'chunk-ext-huge'
  | 'dup-length-same' | 'dup-length-diff' | 'te-and-cl' | 'te-gzip' | 'te-twice' | 'cl-negative' | 'cl-huge' | 'cl-plus'
  | 'headers-eof' | 'obs-fold' | 'space-before-colon' | 'no-colon' | 'nul-in-header' | 'no-host' | 'two-hosts' | 'http10' | 'http2-line'
  | 'long' | 'pipelined-garbage';

/** Framing errors that never let a complete request through to a handler (safe on writes: no entry without an answer). */
export const WRITE_SAFE_FRAMINGS: Framing[] = [
  'short-eof', 'bad-chunk-size', 'chunk-overrun', 'chunk-eof', 'chunk-ext-huge', 'dup-length-same', 'dup-length-diff', 'te-and-cl',
  'te-gzip', 'te-twice', 'cl-negative', 'cl-huge', 'cl-plus', 'headers-eof', 'obs-fold', 'space-before-colon', 'no-colon', 'nul-in-header',
  'no-host', 'two-hosts',
];
/**
 * Framing errors after a complete request (request smuggling shapes). Sent to
 * writes too: a request that was acted on must still get its answer (issue 11
 * item 7, src/http/answer-in-flight.ts), which the tree-size books check.
 */
export const TRAILING_FRAMINGS: Framing[] = ['long', 'pipelined-garbage', 'http10', 'http2-line'];

export interface RawRequest {
  server: Server;
  method: string;
  target: string;
  headers: [string, string][];
  body: Buffer;
  framing: Framing;
  eol: '\r\n' | '\n';
  /** A well-formed request: it must get an answer (a close alone is a failure). */
  mustAnswer: boolean;
  /** What made it, for failure messages. */
  label: string;
}

/** A request on the wire, and whether we half-close after it. */
export function serialize(r: RawRequest): { bytes: Buffer; halfClose: boolean } {
  const e = r.eol;
  const head: string[] = [];
  const version = r.framing === 'http10' ? 'HTTP/1.0' : r.framing === 'http2-line' ? 'HTTP/2.0' : 'HTTP/1.1';
  head.push(`${r.method} ${r.target} ${version}`);
  if (r.framing === 'no-host') {
    // no Host line
  } else if (r.framing === 'two-hosts') {
    head.push('Host: 127.0.0.1', 'Host: evil.example');
  } else {
    head.push('Host: 127.0.0.1');
  }
  for (const [k, v] of r.headers) head.push(`${k}: ${v}`);
  head.push('Connection: close');
  let body: Buffer = r.body;
  let halfClose = false;
  const len = r.body.length;
  switch (r.framing) {
    case 'none': break;
    case 'length': case 'http10': case 'http2-line': case 'no-host': case 'two-hosts': head.push(`Content-Length: ${len}`); break;
    case 'chunked': head.push('Transfer-Encoding: chunked'); body = chunked(r.body, true); break;
    case 'short-eof': head.push(`Content-Length: ${len + 1 + (len % 97)}`); halfClose = true; break;
    case 'bad-chunk-size': head.push('Transfer-Encoding: chunked'); body = Buffer.concat([Buffer.from(`zz${e}`), r.body]); halfClose = true; break;
    case 'chunk-overrun': head.push('Transfer-Encoding: chunked'); body = Buffer.concat([Buffer.from(`${(len + 5).toString(16)}${e}`), r.body]); halfClose = true; break;
    case 'chunk-eof': head.push('Transfer-Encoding: chunked'); body = chunked(r.body, false); halfClose = true; break;
    case 'chunk-ext-huge': head.push('Transfer-Encoding: chunked'); body = Buffer.from(`1;${'e'.repeat(20_000)}=1${e}x${e}`); halfClose = true; break;
    case 'dup-length-same': head.push(`Content-Length: ${len}`, `Content-Length: ${len}`); break;
    case 'dup-length-diff': head.push(`Content-Length: ${len}`, `Content-Length: ${len + 1}`); halfClose = true; break;
    case 'te-and-cl': head.push(`Content-Length: ${len}`, 'Transfer-Encoding: chunked'); halfClose = true; break;
    case 'te-gzip': head.push('Transfer-Encoding: gzip'); halfClose = true; break;
    case 'te-twice': head.push('Transfer-Encoding: chunked', 'Transfer-Encoding: chunked'); body = chunked(r.body, false); halfClose = true; break;
    case 'cl-negative': head.push('Content-Length: -1'); halfClose = true; break;
    case 'cl-huge': head.push('Content-Length: 99999999999999999999999'); halfClose = true; break;
    case 'cl-plus': head.push(`Content-Length: +${len}`); halfClose = true; break;
    case 'headers-eof': halfClose = true; break;
    case 'obs-fold': head.push(`Content-Length: ${len}`, 'X-Folded: a', ' b'); break;
    case 'space-before-colon': head.push(`Content-Length : ${len}`); halfClose = true; break;
    case 'no-colon': head.push(`Content-Length: ${len}`, 'NoColonHere'); break;
    case 'nul-in-header': head.push(`Content-Length: ${len}`, 'X-Nul: a\0b'); break;
    case 'long': head.push(`Content-Length: ${Math.floor(len / 2)}`); break;
    case 'pipelined-garbage': head.push(`Content-Length: ${len}`); body = Buffer.concat([r.body, Buffer.from(`GARBAGE / HTTP/1.1${e}${e}`)]); break;
  }
  if (r.framing === 'headers-eof') return { bytes: Buffer.from(head.join(e).slice(0, Math.max(4, head.join(e).length - 7)), 'utf8'), halfClose };
  return { bytes: Buffer.concat([Buffer.from(head.join(e) + e + e, 'utf8'), body]), halfClose };
}

function chunked(body: Buffer, terminate: boolean): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < body.length; i += 1000) {
    const c = body.subarray(i, i + 1000);
    parts.push(Buffer.from(`${c.length.toString(16)}\r\n`), c, Buffer.from('\r\n'));
  }
  if (terminate) parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}

// ---- drafts ----

/** A valid operation; resolved against the run's state when sent. */
export type ValidDraft =
  | { op: 'add'; entry: Uint8Array; wait: boolean }
  | { op: 'register'; csr: boolean; capability: string }
  | { op: 'agent'; action: 'update' | 'patch' | 'deprecate' | 'revoke' | 'rotate' | 'rotate-csr'; which: number }
  | { op: 'read'; what: 'entry' | 'inclusion' | 'consistency' | 'tile' | 'agent' | 'dns' | 'resolve' | 'cert' | 'verify' | 'list' | 'crl' | 'chain' | 'checkpoints'; a: number; b: number }
  | { op: 'witness-add'; step: number }
  | { op: 'witness-read'; what: 'status' | 'evidence' | 'monitoring' };

export const logValidDraft: fc.Arbitrary<ValidDraft> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('add' as const), entry: fc.uint8Array({ minLength: 1, maxLength: 1500 }), wait: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('register' as const), csr: fc.boolean(), capability: fc.constantFrom('search', 'buy', 'x') }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('agent' as const), action: fc.constantFrom('update', 'patch', 'deprecate', 'revoke', 'rotate', 'rotate-csr'), which: fc.nat() }) },
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('read' as const),
      what: fc.constantFrom('entry', 'inclusion', 'consistency', 'tile', 'agent', 'dns', 'resolve', 'cert', 'verify', 'list', 'crl', 'chain', 'checkpoints'),
      a: fc.nat(),
      b: fc.nat(),
    }),
  },
);

export const witnessValidDraft: fc.Arbitrary<ValidDraft> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('witness-add' as const), step: fc.integer({ min: 0, max: 6 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('witness-read' as const), what: fc.constantFrom('status', 'evidence', 'monitoring') }) },
);

/** A route request with mutated parts; `valid*` fields are replaced from the state when true. */
export interface MutatedDraft {
  op: 'mutated';
  route: RouteSpec;
  method: string;
  params: { name: string; value: string | null }[];
  query: string[];
  extraQuery: string | null;
  pathMutation: 'none' | 'dot' | 'dotdot' | 'enc-dot' | 'double-slash' | 'trailing-slash' | 'fragment' | 'absolute' | 'star' | 'raw-unicode' | 'backslash';
  contentType: string | null;
  auth: 'valid' | 'none' | 'bad';
  headers: [string, string][];
  body: Buffer;
  framing: Framing;
  eol: '\r\n' | '\n';
}

export function mutatedDraft(routes: RouteSpec[], validBody: (r: RouteSpec) => Buffer): fc.Arbitrary<MutatedDraft> {
  // A path that takes a write under any method: no framing that could act on a request whose answer is then cut off.
  const writePaths = new Set(routes.filter((r) => r.server === 'log' && r.media !== null).map((r) => r.template));
  return fc.constantFrom(...routes).chain((route) => {
    const isWrite = writePaths.has(route.template);
    return fc.record({
      op: fc.constant('mutated' as const),
      route: fc.constant(route),
      method: fc.oneof({ weight: 4, arbitrary: fc.constant(route.method) }, { weight: 1, arbitrary: weirdMethod }),
      params: fc.tuple(...route.params.map((name) => fc.record({ name: fc.constant(name), value: fc.option(weirdValue, { freq: 3 }) }))),
      query: fc.tuple(...route.query.map((name) => fc.option(weirdValue.map((v) => `${name}=${v}`), { freq: 2 }))).map((qs) => qs.filter((q): q is string => q !== null)),
      extraQuery: fc.option(weirdQuery, { freq: 3 }),
      pathMutation: fc.oneof(
        { weight: 12, arbitrary: fc.constant('none' as const) },
        { weight: 1, arbitrary: fc.constantFrom('dot', 'dotdot', 'enc-dot', 'double-slash', 'trailing-slash', 'fragment', 'absolute', 'star', 'raw-unicode', 'backslash') },
      ),
      contentType: fc.option(fc.oneof(fc.constant(route.media ?? 'application/json'), weirdContentType), { freq: 5 }),
      auth: fc.constantFrom('valid', 'valid', 'none', 'bad'),
      headers: fc.oneof({ weight: 3, arbitrary: fc.constant([] as [string, string][]) }, { weight: 1, arbitrary: weirdHeaders }),
      body: route.media === null
        ? fc.oneof({ weight: 4, arbitrary: fc.constant(Buffer.alloc(0)) }, { weight: 1, arbitrary: weirdBody(Buffer.alloc(0)) })
        : route.template === '/add-checkpoint'
          ? fc.oneof(weirdNote(validBody(route).toString('utf8')), weirdBody(validBody(route)))
          : weirdBody(validBody(route)),
      framing: fc.oneof(
        { weight: 12, arbitrary: fc.constant('length' as Framing) },
        { weight: 2, arbitrary: fc.constant('chunked' as Framing) },
        { weight: 3, arbitrary: fc.constantFrom(...WRITE_SAFE_FRAMINGS) },
        { weight: 2, arbitrary: fc.constantFrom(...TRAILING_FRAMINGS) },
      ),
      eol: fc.constantFrom<'\r\n' | '\n'>('\r\n', '\r\n', '\r\n', '\n'),
    }) as fc.Arbitrary<MutatedDraft>;
  });
}

/** The request target of a mutated draft; valueFor supplies a plausible value for a parameter left unmutated. */
export function mutatedTarget(d: MutatedDraft, valueFor: (param: string) => string): string {
  let p = d.route.template;
  for (const { name, value } of d.params) p = p.replace(`{${name}}`, value ?? valueFor(name));
  switch (d.pathMutation) {
    case 'none': break;
    case 'dot': p = p.replace(/\/([^/]*)$/, '/./$1'); break;
    case 'dotdot': p = p.replace(/\/([^/]*)$/, '/x/../$1'); break;
    case 'enc-dot': p = p.replace(/\/([^/]*)$/, '/%2e%2E/$1'); break;
    case 'double-slash': p = p.replace(/\//g, '//'); break;
    case 'trailing-slash': p = `${p}/`; break;
    case 'fragment': p = `${p}#frag`; break;
    case 'absolute': p = `http://127.0.0.1${p}`; break;
    case 'star': p = '*'; break;
    case 'raw-unicode': p = `${p}é😀`; break;
    case 'backslash': p = p.replace(/\//g, '\\').replace(/^\\/, '/'); break;
  }
  const qs = [...d.query, ...(d.extraQuery === null ? [] : [d.extraQuery])];
  return qs.length === 0 ? p : `${p}?${qs.join('&')}`;
}
