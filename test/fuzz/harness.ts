// Sends drafts to the servers under fuzz and checks every answer:
//   - no 5xx, with two documented exceptions that are the server's state,
//     not the input: 503 LOG_PUSHBACK with Retry-After (a busy log: counted
//     and reported) and 503 on / when the log browser is not built (these
//     servers run from src/, where there is no build; src/http/explorer.ts);
//   - no hang: an answer or a close within the bound;
//   - a well-formed valid request gets an answer.
// It also keeps the books for the end-of-run checks: every log index a 2xx
// write answer named, and every certificate it reported revoked (a
// cert.revoked entry whose index the answer does not carry).
import { createHash, generateKeyPairSync } from 'node:crypto';
import { decode as cborDecode } from 'cbor-x';
import { exchange, type Exchange } from './raw-http.js';
import { mutatedTarget, serialize, type MutatedDraft, type RawRequest, type RouteSpec, type Server, type ValidDraft } from './requests.js';
import type { TestLog } from '../witness/helpers.js';

/** Generous, and not a performance figure: a request the server neither answers nor drops in this time hangs. */
export const HANG_BOUND_MS = 15_000;

export interface Targets {
  logPort: number;
  witnessPort: number;
  apiKey: string;
  witnessed: TestLog;
  /** PEM CSRs made by openssl, for registrations and rotations with certificates. */
  csrs: string[];
}

export class FuzzBooks {
  /** Log indexes named by 2xx write answers. */
  readonly indexes = new Set<number>();
  /** Certificates reported revoked (superseded or with their agent): one cert.revoked entry each. */
  readonly revokedSerials = new Set<string>();
  readonly names: string[] = [];
  readonly serials: string[] = [];
  readonly pems: string[] = [];
  readonly leafHashes: string[] = [];
  nextAgent = 0;
  knownSize = 0;
  witnessSize = 0;
  sent = 0;
  statuses = new Map<number, number>();
  closedUnanswered = 0;
  readonly closedExamples: string[] = [];
  pushbacks = 0;
}

export class Fuzzer {
  readonly books = new FuzzBooks();
  constructor(readonly t: Targets) {}

  // ---- valid drafts ----

  /** A well-formed body for route (what the mutations start from). */
  validBody(route: RouteSpec): Buffer {
    const json = (v: unknown) => Buffer.from(JSON.stringify(v));
    const endpoints = [{ protocol: 'A2A', url: 'https://bot.acme.example/a2a' }];
    switch (route.template) {
      case '/add': return Buffer.from('fuzz entry');
      case '/v1/challenges': return json({ name: 'ans://v1.0.0.bot.acme.example' });
      case '/v1/agents': return json({ name: `ans://v1.0.0.m${this.books.nextAgent}.acme.example`, endpoints, publicKey: newAgentKey() });
      case '/v1/agents/{name}': case '/v1/agents/{name}/update': return json({ capabilities: ['search'], endpoints });
      case '/v1/agents/{name}/rotate': return json({ publicKey: newAgentKey() });
      case '/v1/agents/{name}/deprecate': return json({ reason: 'old' });
      case '/v1/agents/{name}/revoke': return json({ reason: 'superseded' });
      case '/v1/agents/{name}/certificates/observed': return json({ certificate: this.books.pems[0] ?? 'x' });
      case '/v1/verify/cert': return json({ certificate: this.books.pems[0] ?? 'x' });
      case '/add-checkpoint': return Buffer.from(this.witnessBodyCache);
      default: return Buffer.alloc(0);
    }
  }

  /** An honest add-checkpoint body from the witness's size (kept fresh by refreshWitnessBody). */
  witnessBodyCache = '';
  async refreshWitnessBody(): Promise<void> {
    const s = this.books.witnessSize;
    this.witnessBodyCache = await this.t.witnessed.request(s, Math.min(s + 1, this.t.witnessed.maxSize));
  }

  /** A plausible value for a path parameter the draft left unmutated. */
  valueFor(param: string): string {
    const b = this.books;
    const pick = <T>(xs: T[], fallback: T): T => (xs.length === 0 ? fallback : xs[b.sent % xs.length]!);
    switch (param) {
      case 'index': return String(b.sent % Math.max(b.knownSize, 1));
      case 'tree': case 'new': return String(Math.max(b.knownSize, 1));
      case 'old': return '1';
      case 'level': return '0';
      case 'hash': return pick(b.leafHashes, '0'.repeat(64));
      case 'name': return encodeURIComponent(pick(b.names, 'ans://v1.0.0.none.acme.example'));
      case 'serial': return pick(b.serials, '00');
      case 'file': return 'main.js';
      case 'request': return 'MAA%3D';
      default: return 'x';
    }
  }

  async resolveValid(d: ValidDraft): Promise<RawRequest> {
    const b = this.books;
    const auth: [string, string] = ['Authorization', `Bearer ${this.t.apiKey}`];
    const jsonHeaders: [string, string][] = [auth, ['Content-Type', 'application/json']];
    const base = { eol: '\r\n' as const, framing: 'length' as const, mustAnswer: true, label: `valid ${JSON.stringify(d, (_k, v) => (v instanceof Uint8Array ? `<${v.length} bytes>` : v))}` };
    const req = (server: Server, method: string, target: string, headers: [string, string][] = [], body: Buffer = Buffer.alloc(0)): RawRequest =>
      ({ ...base, server, method, target, headers, body });
    const name = (i: number) => b.names[i % Math.max(b.names.length, 1)];
    const endpoints = [{ protocol: 'MCP', url: 'https://bot.acme.example/mcp' }];
    switch (d.op) {
      case 'add':
        return req('log', 'POST', d.wait ? '/add?wait=checkpoint' : '/add', [['Content-Type', 'application/octet-stream']], Buffer.from(d.entry));
      case 'register': {
        const body: Record<string, unknown> = { name: `ans://v1.0.0.bot${b.nextAgent++}.acme.example`, endpoints, capabilities: [d.capability] };
        if (d.csr && this.t.csrs.length > 0) body.csr = this.t.csrs[b.nextAgent % this.t.csrs.length];
        else body.publicKey = newAgentKey();
        return req('log', 'POST', '/v1/agents', jsonHeaders, Buffer.from(JSON.stringify(body)));
      }
      case 'agent': {
        const n = name(d.which);
        if (n === undefined) return req('log', 'GET', '/v1/agents?limit=5');
        const p = `/v1/agents/${encodeURIComponent(n)}`;
        const body = (v: unknown) => Buffer.from(JSON.stringify(v));
        switch (d.action) {
          case 'update': return req('log', 'POST', `${p}/update`, jsonHeaders, body({ capabilities: ['updated'] }));
          case 'patch': return req('log', 'PATCH', p, jsonHeaders, body({ endpoints }));
          case 'deprecate': return req('log', 'POST', `${p}/deprecate`, jsonHeaders, body({ reason: 'fuzzed' }));
          case 'revoke': return req('log', 'POST', `${p}/revoke`, jsonHeaders, body({ reason: 'cessationOfOperation' }));
          case 'rotate': return req('log', 'POST', `${p}/rotate`, jsonHeaders, body({ publicKey: newAgentKey() }));
          case 'rotate-csr': return req('log', 'POST', `${p}/rotate?wait=checkpoint`, jsonHeaders, body({ csr: this.t.csrs[d.which % Math.max(this.t.csrs.length, 1)] ?? 'x' }));
        }
        break;
      }
      case 'read': {
        const size = Math.max(b.knownSize, 1);
        const i = d.a % size;
        const j = 1 + (d.b % size);
        switch (d.what) {
          case 'entry': return req('log', 'GET', `/v1/log/entry/${i}`);
          case 'inclusion': return req('log', 'GET', `/v1/log/inclusion/${Math.min(i, j - 1)}/${j}`);
          case 'consistency': return req('log', 'GET', `/v1/log/consistency/${Math.min(i + 1, j)}/${j}`);
          case 'tile': {
            const w = size % 256;
            const n = Math.floor(size / 256);
            const idx = `x${String(n).padStart(3, '0')}`.replace(/^x(\d{3})$/, '$1');
            return req('log', 'GET', d.a % 2 === 0 ? `/tile/0/${idx}${w === 0 ? '' : `.p/${w}`}` : `/tile/entries/${idx}${w === 0 ? '' : `.p/${w}`}`);
          }
          case 'agent': return req('log', 'GET', `/v1/agents/${encodeURIComponent(name(d.a) ?? 'x')}`);
          case 'dns': return req('log', 'GET', `/v1/agents/${encodeURIComponent(name(d.a) ?? 'x')}/dns${d.b % 2 === 0 ? '?format=zone' : ''}`);
          case 'resolve': return req('log', 'GET', `/v1/resolve/${encodeURIComponent(name(d.a) ?? 'x')}`);
          case 'cert': return req('log', 'GET', `/v1/ca/certs/${b.serials[d.a % Math.max(b.serials.length, 1)] ?? '01'}`);
          case 'verify': return req('log', 'POST', '/v1/verify/cert', [['Content-Type', 'application/json']], Buffer.from(JSON.stringify({ certificate: b.pems[d.a % Math.max(b.pems.length, 1)] ?? 'x' })));
          case 'list': return req('log', 'GET', `/v1/agents?limit=${1 + (d.a % 20)}&status=active`);
          case 'crl': return req('log', 'GET', d.a % 2 === 0 ? '/v1/ca/crl?format=pem' : '/v1/ca/crl?issuer=root');
          case 'chain': return req('log', 'GET', '/v1/ca/chain');
          case 'checkpoints': return req('log', 'GET', `/v1/log/checkpoints?limit=${1 + (d.a % 50)}`);
        }
        break;
      }
      case 'witness-add': {
        const max = this.t.witnessed.maxSize;
        const old = Math.min(b.witnessSize, max);
        const body = await this.t.witnessed.request(old, Math.min(old + d.step, max));
        return req('witness', 'POST', '/add-checkpoint', [['Content-Type', 'text/plain']], Buffer.from(body));
      }
      case 'witness-read': {
        const hash = createHash('sha256').update(this.t.witnessed.origin).digest('hex');
        return req('witness', 'GET', d.what === 'status' ? '/' : d.what === 'evidence' ? '/evidence?limit=5&kind=cosigned' : `/${hash}/checkpoint`);
      }
    }
    throw new Error(`unhandled draft ${JSON.stringify(d)}`);
  }

  resolveMutated(d: MutatedDraft): RawRequest {
    const headers: [string, string][] = [];
    if (d.contentType !== null) headers.push(['Content-Type', d.contentType]);
    if (d.route.server === 'log' && d.auth === 'valid') headers.push(['Authorization', `Bearer ${this.t.apiKey}`]);
    if (d.auth === 'bad') headers.push(['Authorization', 'Bearer tlk_not-a-key']);
    headers.push(...d.headers);
    return {
      server: d.route.server,
      method: d.method,
      target: mutatedTarget(d, (p) => this.valueFor(p)),
      headers,
      body: d.body,
      framing: d.body.length === 0 && d.framing === 'length' && (d.method === 'GET' || d.method === 'HEAD') ? 'none' : d.framing,
      eol: d.eol,
      mustAnswer: false,
      label: `mutated ${d.method} ${d.route.template} framing=${d.framing} pathMutation=${d.pathMutation} body=${d.body.length} bytes`,
    };
  }

  // ---- sending and checking ----

  /** Sends r, checks the answer, keeps the books; throws a descriptive error on a finding. */
  async send(r: RawRequest): Promise<Exchange> {
    const { bytes, halfClose } = serialize(r);
    const port = r.server === 'log' ? this.t.logPort : this.t.witnessPort;
    const x = await exchange(port, { send: bytes, halfClose, head: r.method === 'HEAD', boundMs: HANG_BOUND_MS, expect: r.framing === 'pipelined-garbage' || r.framing === 'long' ? 2 : 1 });
    const b = this.books;
    b.sent++;
    const what = () => `${r.label}\n  ${r.method} ${r.target.length > 300 ? `${r.target.slice(0, 300)}...` : r.target} -> ${x.responses.map((a) => a.status).join(', ') || 'no answer'}${x.closed ? ' (closed)' : ''}`;
    if (x.hung) throw new Error(`no answer and no close within ${HANG_BOUND_MS} ms: ${what()}`);
    if (r.mustAnswer && x.responses.length === 0) throw new Error(`a valid request got no answer: ${what()}\n  ${x.rest.toString('latin1').slice(0, 500)}`);
    for (const a of x.responses) {
      b.statuses.set(a.status, (b.statuses.get(a.status) ?? 0) + 1);
      if (a.status >= 500) {
        const pushback = r.server === 'log' && a.status === 503 && a.headers['retry-after'] !== undefined && /"LOG_PUSHBACK"/.test(a.body.toString('utf8'));
        if (a.status === 503 && isExplorerNotBuilt(r, a.headers)) continue;
        if (!pushback) throw new Error(`${a.status} answer: ${what()}\n  ${a.body.toString('utf8').slice(0, 500)}`);
        b.pushbacks++;
        const durable = /entry (\d+) is durable/.exec(a.body.toString('utf8'));
        if (durable !== null) b.indexes.add(Number(durable[1]));
      }
    }
    if (x.responses.length === 0) {
      b.closedUnanswered++;
      if (b.closedExamples.length < 5) b.closedExamples.push(`${r.method} ${r.target.slice(0, 80)} framing=${r.framing} body=${r.body.length}`);
    }
    if (r.server === 'log') for (const a of x.responses) this.#bookLogAnswer(r, a.status, a.headers, a.body);
    else for (const a of x.responses) this.#bookWitnessAnswer(r, a.status, a.headers, a.body);
    return x;
  }

  #bookLogAnswer(r: RawRequest, status: number, headers: Record<string, string>, body: Buffer): void {
    if (status < 200 || status >= 300 || body.length === 0) return;
    let doc: unknown;
    try {
      doc = (headers['content-type'] ?? '').includes('cbor') ? cborDecode(body) : JSON.parse(body.toString('utf8'));
    } catch {
      return;
    }
    // Writes only: verify/cert and OCSP are reads over POST, and their answers name existing entries (a revocation's index among them).
    const write = ['POST', 'PATCH', 'PUT'].includes(r.method.toUpperCase()) && !/^\/v1\/(verify|ca)\//.test(r.target);
    const b = this.books;
    walk(doc, (key, v, parent) => {
      if (write && key === 'index' && typeof v === 'number') b.indexes.add(v);
      if (write && (key === 'superseded' || key === 'certificatesRevoked') && Array.isArray(v)) for (const s of v) if (typeof s === 'string') b.revokedSerials.add(s);
      if (key === 'serial' && typeof v === 'string' && !b.serials.includes(v)) b.serials.push(v);
      if (key === 'pem' && typeof v === 'string' && b.pems.length < 50) b.pems.push(v);
      if (key === 'leafHash' && typeof v === 'string' && b.leafHashes.length < 50) b.leafHashes.push(Buffer.from(v, 'base64').toString('hex'));
      if (key === 'name' && typeof v === 'string' && v.startsWith('ans://') && parent.type === 'agent.registered' && !b.names.includes(v)) b.names.push(v);
      if (key === 'index' && typeof v === 'number') b.knownSize = Math.max(b.knownSize, v + 1);
    });
  }

  #bookWitnessAnswer(r: RawRequest, status: number, headers: Record<string, string>, body: Buffer): void {
    if (r.method !== 'POST' || !r.target.startsWith('/add-checkpoint')) return;
    if (status === 409 && (headers['content-type'] ?? '').startsWith('text/x.tlog.size')) this.books.witnessSize = Number(body.toString('utf8').trim());
    // A cosignature: the witness is now at the checkpoint's size (the line after the origin, past the blank line).
    const size = /\n\n[^\n]+\n(\d+)\n/.exec(r.body.toString('utf8'));
    if (status === 200 && size !== null) this.books.witnessSize = Math.max(this.books.witnessSize, Number(size[1]));
  }
}

/** The documented 503 page of GET or HEAD / without a built browser (src/http/explorer.ts). */
function isExplorerNotBuilt(r: RawRequest, headers: Record<string, string>): boolean {
  // Only the explorer's answers carry its Content-Security-Policy.
  return r.server === 'log' && headers['content-security-policy'] !== undefined && (headers['content-type'] ?? '').startsWith('text/html');
}

function walk(v: unknown, f: (key: string, value: unknown, parent: Record<string, unknown>) => void, depth = 0): void {
  if (depth > 20 || v === null || typeof v !== 'object') return;
  if (Array.isArray(v)) {
    for (const x of v) walk(x, f, depth + 1);
    return;
  }
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    f(k, x, v as Record<string, unknown>);
    walk(x, f, depth + 1);
  }
}

/** A fresh Ed25519 public key, base64 (as the registry takes it). */
export function newAgentKey(): string {
  const jwk = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
  return Buffer.from(jwk.x!, 'base64url').toString('base64');
}
