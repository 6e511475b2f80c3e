// createRegistryApp: the agents API under /v1 (spec/REGISTRY.md), mounted
// next to the log's routes (app.route('/', createRegistryApp(...))). Reads
// are open; writes need an API key (Authorization: Bearer tlk_...) and pass
// two rate limits, per key and per client address, checked before the body.
// Routes, bodies and answers are described in schemas.ts, whose checks run
// before the handlers (REGISTRY_BAD_REQUEST naming the member). Errors use
// the log's JSON error shape; this app's own onError adds the registry's statuses.

import type { IncomingMessage } from 'node:http';
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import type { AnsLookup } from '../ans-lookup.js';
import { TilelogError } from '../../errors.js';
import { encodeBundleJson } from '../../client/bundle.js';
import { readBodyCapped } from '../../http/body-limit.js';
import { createApiApp, serveRoute, type RouteConfig, type RouteHandler } from '../../http/openapi/routes.js';
import type { ValidationStyle } from '../../http/openapi/validation.js';
import { CACHE_NONE } from '../../http/cache.js';
import { errorResponse, methodNotAllowed } from '../../http/errors.js';
import { clientAddressOf } from '../../http/forwarded-for.js';
import { toBase64 } from '../../merkle/encoding.js';
import { challengeName, challengeToken, dnsRecords, zoneSnippet, type DnsValidator } from '../dns.js';
import { parseAnsName, parseNameRef } from '../names.js';
import type { Registry, WriteResult } from '../registry.js';
import type { AgentStatus } from '../rules.js';
import type { AgentState } from '../state-index.js';
import type { ApiKeyLookup } from './auth.js';
import { parseDeprecate, parseRegister, parseRevoke, parseRotate, parseUpdate } from './input.js';
import { RateLimiter, type RateLimitOptions } from './rate-limit.js';
import { takeCsr, type AgentCertificates } from './certificates.js';
import { agentJson, resolveAnswer } from './resolve.js';
import { parseObservedCertificate } from './observed.js';
import * as routes from './schemas.js';

export { agentJson };

export interface RegistryAppOptions {
  /** An ApiKeys, or an ApiKeyFile that reloads its file while the server runs. */
  apiKeys: ApiKeyLookup;
  /** Domain validation: a resolver and the token secret; null turns validation off (explicitly). */
  dns: { validator: DnsValidator; secret: Uint8Array } | null;
  /** Per API key and per client address. */
  rateLimit?: RateLimitOptions;
  /** DNS-first resolve: read the agent's _ans TXT records through this lookup; null or absent: resolve from the log only. */
  resolveDns?: AnsLookup | null;
  /**
   * This registry's base URL as clients reach it, e.g. https://registry.example,
   * for the _ans-badge records: from configuration only (a function when it is
   * known only once the server is bound). Never taken from the request: its
   * Host header is the client's to choose, and the records are published.
   */
  publicUrl: string | (() => string);
  logError?: (msg: string, err: unknown) => void;
  /** Agent certificates (src/ca): a `csr` in register and rotate requests is issued through it. */
  certificates?: AgentCertificates | null;
  /** Clock for TLSA validity (observed certificates valid now). Default Date.now. */
  nowSeconds?: () => number;
}

const MAX_BODY = 64 * 1024;
const MAX_PAGE = 100;
/** Failed checks are the registry's own bad request, as input.ts's are. */
const STYLE: ValidationStyle = { code: 'REGISTRY_BAD_REQUEST', prefix: 'request: ' };

const STATUS: Partial<Record<string, number>> = {
  REGISTRY_BAD_ENTRY: 400,
  REGISTRY_BAD_NAME: 400,
  REGISTRY_BAD_REQUEST: 400,
  REGISTRY_UNAUTHORIZED: 401,
  REGISTRY_FORBIDDEN: 403,
  REGISTRY_SIGNATURE: 403,
  REGISTRY_NOT_FOUND: 404,
  REGISTRY_CONFLICT: 409,
  REGISTRY_DNS_FAILED: 422,
  REGISTRY_RATE_LIMITED: 429,
  REGISTRY_DNS_UNAVAILABLE: 503,
};

/** A 429 with the seconds to wait. */
export class RateLimitedError extends TilelogError {
  readonly retryAfterSeconds: number;
  constructor(what: string, seconds: number) {
    super('REGISTRY_RATE_LIMITED', `registry: too many writes for this ${what}; retry in ${seconds} s`);
    this.retryAfterSeconds = seconds;
  }
}

export function createRegistryApp(registry: Registry, o: RegistryAppOptions): OpenAPIHono {
  const logError = o.logError ?? ((m, e) => console.error(m, e));
  const perKey = new RateLimiter(o.rateLimit);
  const perIp = new RateLimiter(o.rateLimit);
  const app = createApiApp(STYLE);
  app.onError((err, c) => registryError(c, err, logError));
  app.openAPIRegistry.registerComponent('securitySchemes', routes.BEARER_SCHEME, routes.bearerScheme);
  const index = registry.index;

  /** Checks the API key and both rate limits; returns the key's owner. */
  const authorize = (c: Context): string => {
    const m = /^Bearer (\S+)$/.exec(c.req.header('Authorization') ?? '');
    const owner = m === null ? null : o.apiKeys.ownerOf(m[1]!);
    if (owner === null) throw new TilelogError('REGISTRY_UNAUTHORIZED', 'registry: writes need a valid API key: Authorization: Bearer <key>');
    const ipWait = perIp.take(`ip:${clientAddress(c)}`);
    if (ipWait > 0) throw new RateLimitedError('client address', ipWait);
    const keyWait = perKey.take(`key:${m![1]}`);
    if (keyWait > 0) throw new RateLimitedError('API key', keyWait);
    return owner;
  };

  const agentByRef = (ref: string): AgentState => {
    const r = parseNameRef(ref);
    const name = r.kind === 'ans' ? r.ans.name : index.aliasHolder(r.alias);
    const a = name === null ? null : index.agent(name);
    if (a === null) throw new TilelogError('REGISTRY_NOT_FOUND', `registry: no agent ${ref}`);
    return a;
  };

  // The key is checked (401, 429) before the body (400): a bad key never learns what a good body is.
  const owners = new WeakMap<Request, string>();
  const requireKey: MiddlewareHandler = async function requireKey(c, next) {
    owners.set(c.req.raw, authorize(c));
    await next();
  };
  const ownerOf = (c: Context): string => owners.get(c.req.raw)!;
  // Reads first fold what the log published since (cheap when nothing was): the
  // index then covers every checkpoint this process knows, including entries
  // other processes of the log (PostgreSQL) or raw POST /add sequenced.
  const followLog: MiddlewareHandler = async function followLog(_c, next) {
    await registry.catchUp();
    await next();
  };
  const read = (route: RouteConfig, handler: RouteHandler) => serveRoute(app, route, handler, { middleware: [followLog] });
  const writes = (route: RouteConfig, handler: RouteHandler) => serveRoute(app, route, handler, { middleware: [requireKey], maxBodyBytes: MAX_BODY, style: STYLE });

  const ownAgent = (c: Context, owner: string): AgentState => {
    const a = agentByRef(c.req.param('name')!);
    if (a.entry.body.owner !== owner) throw new TilelogError('REGISTRY_FORBIDDEN', `registry: ${a.name} belongs to another owner`);
    return a;
  };

  // The JSON body as checked against the route's schema (validation.ts jsonBody).
  const body = (c: Context) => (c.req as unknown as { valid(target: 'json'): Record<string, unknown> }).valid('json');

  const answerWrite = async (c: Context, r: WriteResult, status: 200 | 201, extra?: Record<string, unknown>) => {
    const wait = c.req.query('wait');
    if (wait !== undefined && wait !== 'checkpoint') throw new TilelogError('REGISTRY_BAD_REQUEST', 'request: the only wait value is wait=checkpoint');
    const out: Record<string, unknown> = { name: r.entry.subject, type: r.entry.type, index: r.index, leafHash: toBase64(r.leafHash) };
    if (r.duplicate) out.duplicate = true;
    // Writes return once a checkpoint covers the entry (registry.ts), so the bundle is ready.
    if (wait === 'checkpoint') out.bundle = JSON.parse(encodeBundleJson(await registry.bundle(r.index)));
    Object.assign(out, extra);
    return c.json(out, r.duplicate ? 200 : status, { 'Cache-Control': CACHE_NONE });
  };

  read(routes.registryInfoRoute, (c) =>
    c.json({
      origin: registry.log.origin,
      logKey: registry.log.verifierKey,
      registryKey: registry.key.kid,
      submitterKeys: index.keys().map((k) => ({ kid: k.kid, publicKey: toBase64(k.publicKey), label: k.label, status: k.status, addedIndex: k.addedIndex })),
      domainValidation: o.dns === null ? 'none' : 'dns-txt',
    }),
  );

  read(routes.keyChainRoute, async (c) => {
    const at = index.keyEntryIndexes();
    const bundles = await Promise.all(at.map((i) => registry.bundle(i)));
    return c.json({ entries: bundles.map((b) => JSON.parse(encodeBundleJson(b)) as unknown) }, 200, { 'Cache-Control': CACHE_NONE });
  });

  writes(routes.challengeRoute, async (c) => {
    const owner = ownerOf(c);
    const req = body(c);
    if (typeof req.name !== 'string') throw new TilelogError('REGISTRY_BAD_REQUEST', 'request: name must be the ANS name to register');
    const { host } = parseAnsName(req.name);
    if (o.dns === null) return c.json({ domainValidation: 'none' });
    const record = { name: challengeName(host), type: 'TXT', value: challengeToken(o.dns.secret, owner, host) };
    return c.json({ domainValidation: 'dns-txt', ...record, zone: zoneSnippet([{ ...record, type: 'TXT', ttl: 300 }]) }, 200, { 'Cache-Control': CACHE_NONE });
  });
  app.all('/v1/challenges', methodNotAllowed(['POST']));

  writes(routes.registerRoute, async (c) => {
    const owner = ownerOf(c);
    const raw = body(c);
    const csr = await takeCsr(raw, o.certificates);
    const req = parseRegister(raw, owner, o.dns === null ? 'none' : 'dns-txt');
    if (o.dns !== null) await o.dns.validator.validate(req.ans.host, challengeToken(o.dns.secret, owner, req.ans.host));
    const r = await registry.register(req.ans.name, req.body);
    const bundle = c.req.query('wait') === 'checkpoint';
    return answerWrite(c, r, 201, csr === null ? undefined : { certificate: await csr.issue(req.ans.name, { supersede: false, bundle }) });
  });

  read(routes.listAgentsRoute, (c) => {
    const q = (k: string) => c.req.query(k);
    const status = q('status');
    if (status !== undefined && !['active', 'deprecated', 'revoked'].includes(status)) {
      throw new TilelogError('REGISTRY_BAD_REQUEST', 'request: status must be active, deprecated or revoked');
    }
    const limitText = q('limit') ?? '50';
    const limit = Number(limitText);
    if (!/^[0-9]+$/.test(limitText) || limit < 1 || limit > MAX_PAGE) throw new TilelogError('REGISTRY_BAD_REQUEST', `request: limit must be 1..${MAX_PAGE}`);
    const agents = index.agents({
      ...(q('owner') !== undefined && { owner: q('owner')! }),
      ...(status !== undefined && { status: status as AgentStatus }),
      ...(q('capability') !== undefined && { capability: q('capability')! }),
      ...(q('cursor') !== undefined && { after: q('cursor')! }),
      limit: limit + 1,
    });
    const page = agents.slice(0, limit);
    const next = agents.length > limit ? page[page.length - 1]!.name : null;
    return c.json({ agents: page.map(agentJson), next }, 200, { 'Cache-Control': CACHE_NONE });
  });
  app.all('/v1/agents', methodNotAllowed(['GET', 'HEAD', 'POST']));

  read(routes.agentRoute, (c) => c.json(agentJson(agentByRef(c.req.param('name')!)), 200, { 'Cache-Control': CACHE_NONE }));

  read(routes.agentDnsRoute, (c) => {
    const a = agentByRef(c.req.param('name')!);
    const base = typeof o.publicUrl === 'function' ? o.publicUrl() : o.publicUrl;
    const host = parseAnsName(a.name).host;
    const observed = a.status === 'active' ? index.observedCertificates().map((c) => c.entry.body) : [];
    const now = o.nowSeconds?.() ?? Math.floor(Date.now() / 1000);
    const records = dnsRecords(a, host, `${base}/v1/resolve/${encodeURIComponent(a.name)}`, observed, now);
    if (c.req.query('format') === 'zone') return c.text(zoneSnippet(records), 200, { 'Cache-Control': CACHE_NONE });
    return c.json({ name: a.name, status: a.status, records, zone: zoneSnippet(records) }, 200, { 'Cache-Control': CACHE_NONE });
  });

  writes(routes.rotateRoute, async (c) => {
    const owner = ownerOf(c);
    const a = ownAgent(c, owner);
    const raw = body(c);
    const csr = await takeCsr(raw, o.certificates);
    const bundle = c.req.query('wait') === 'checkpoint';
    // A CSR for a key that is not the agent's Ed25519 key (or is the same one) re-issues the certificate only.
    if (csr !== null && (raw.publicKey === undefined || raw.publicKey === toBase64(a.entry.body.publicKey))) {
      return c.json({ name: a.name, certificate: await csr.issue(a.name, { supersede: true, bundle }) }, 200, { 'Cache-Control': CACHE_NONE });
    }
    const publicKey = parseRotate(raw);
    const r = await registry.rotate(a.name, publicKey);
    return answerWrite(c, r, 200, csr === null ? undefined : { certificate: await csr.issue(a.name, { supersede: true, bundle }) });
  });

  // An externally issued server certificate for the agent's host (observed.ts): cert.observed.
  writes(routes.observedRoute, async (c) => {
    const owner = ownerOf(c);
    const a = ownAgent(c, owner);
    if (a.status === 'revoked') throw new TilelogError('REGISTRY_CONFLICT', `registry: ${a.name} is revoked; no certificates are recorded for it`);
    const b = parseObservedCertificate(body(c), parseAnsName(a.name).host);
    return answerWrite(c, await registry.observe(b), 201, { agent: a.name, sha256: Buffer.from(b.sha256).toString('hex'), spkiSha256: Buffer.from(b.spkiSha256).toString('hex') });
  });

  const update = async (c: Context) => {
    const owner = ownerOf(c);
    const a = ownAgent(c, owner);
    const change = parseUpdate(body(c));
    return answerWrite(c, await registry.update(a.name, change), 200);
  };
  writes(routes.updatePatchRoute, update);
  writes(routes.updatePostRoute, update);

  writes(routes.deprecateRoute, async (c) => {
    const owner = ownerOf(c);
    const a = ownAgent(c, owner);
    const reason = parseDeprecate(body(c));
    return answerWrite(c, await registry.deprecate(a.name, reason), 200);
  });

  writes(routes.revokeRoute, async (c) => {
    const owner = ownerOf(c);
    const a = ownAgent(c, owner);
    const reason = parseRevoke(body(c));
    const r = await registry.revoke(a.name, reason);
    const certs = o.certificates ? { certificatesRevoked: await o.certificates.agentRevoked(a.name, reason) } : undefined;
    return answerWrite(c, r, 200, certs);
  });

  // A raw CBOR entry: read capped by the handler, checked by the entry decoder.
  serveRoute(app, routes.entriesRoute, async (c) => {
    const leaf = await readBodyCapped(c.req.raw, MAX_BODY, (c.env as { incoming?: unknown } | undefined)?.incoming);
    return answerWrite(c, await registry.submit(leaf), 201);
  }, { middleware: [requireKey] });

  read(routes.resolveRoute, async (c) => {
    const a = agentByRef(c.req.param('name')!);
    return c.json(await resolveAnswer(registry, o.resolveDns ?? null, a), 200, { 'Cache-Control': CACHE_NONE });
  });

  app.all('/v1/agents/:name', methodNotAllowed(['GET', 'HEAD', 'PATCH']));
  for (const p of ['/v1/agents/:name/dns', '/v1/resolve/:name', '/v1/registry', '/v1/registry/keys']) app.all(p, methodNotAllowed(['GET', 'HEAD']));
  for (const p of ['/v1/agents/:name/certificates/observed', '/v1/agents/:name/rotate', '/v1/agents/:name/update', '/v1/agents/:name/deprecate', '/v1/agents/:name/revoke', '/v1/entries']) {
    app.all(p, methodNotAllowed(['POST']));
  }
  return app;
}

// Behind read workers (serve --read-workers) the peer is a worker: the client's address is the one it forwarded.
function clientAddress(c: Context): string {
  return clientAddressOf((c.env as { incoming?: IncomingMessage } | undefined)?.incoming);
}

function registryError(c: Context, err: unknown, log: (m: string, e: unknown) => void): Response {
  const status = err instanceof TilelogError ? STATUS[err.code] : undefined;
  if (status === undefined) return errorResponse(c, err, log);
  const e = err as TilelogError;
  const headers: Record<string, string> = { 'Cache-Control': 'no-store' };
  if (e instanceof RateLimitedError) headers['Retry-After'] = String(e.retryAfterSeconds);
  if (status === 503) headers['Retry-After'] = '5';
  return c.json({ error: { code: e.code, message: e.message } }, status as 400, headers);
}
