// createCaApp: the CA's routes under /v1, mounted next to the registry's.
//   GET  /v1/ca/chain           the issuing CA then the root, PEM; ?issuer=<key hash> another intermediate's
//   GET  /v1/ca/crl             DER CRL (application/pkix-crl) of the issuing intermediate; ?format=pem;
//                               ?issuer=<key hash> another intermediate's (retired: until its
//                               certificates expire); ?issuer=root the root's CRL
//   GET  /v1/ca/intermediates   every intermediate in the log, its status and key hash
//   POST /v1/ca/ocsp            RFC 6960: body application/ocsp-request
//   GET  /v1/ca/ocsp/<base64>   RFC 6960 A.1.1 GET form (URL-encoded base64)
//   POST /v1/verify/cert        {certificate: PEM (leaf first; a chain is fine)}
//   GET  /v1/ca/certs/<serial>  the issuance and revocation of one serial, with bundles
//   POST /v1/ca/rotate          admin: rotate the intermediate (rotate.ts); body {"object": "<label>"}
//                               for a CA whose intermediate is in a token
// Reads need no key: every answer derives from the log. The rotation needs a
// CA admin key (Authorization: Bearer; 401 without a known one, 403 for a
// registry API key, which acts for an agent owner, not for the CA). Routes and
// answers are described in schemas.ts; OCSP's GET form has a regex path
// and is only described there.

import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { TilelogError } from '../errors.js';
import { encodeBundleJson } from '../client/bundle.js';
import { readBodyCapped } from '../http/body-limit.js';
import { CACHE_NONE } from '../http/cache.js';
import { errorResponse, methodNotAllowed } from '../http/errors.js';
import { rejectBadEscapes } from '../http/percent-escapes.js';
import { createApiApp, describeRoute, serveRoute } from '../http/openapi/routes.js';
import type { ValidationStyle } from '../http/openapi/validation.js';
import type { ApiKeyLookup } from '../registry/http/auth.js';
import type { CertificateAuthority } from './ca.js';
import type { CertState } from './ca-index.js';
import { buildCrl } from './crl.js';
import type { Intermediate } from './intermediates.js';
import { rotateIntermediate, type RotateOptions } from './rotate.js';
import { answerOcsp } from './ocsp.js';
import { verifyCertificate } from './verify-cert.js';
import * as routes from './schemas.js';
import { pemCertificates, toPem, u8 } from './x509.js';

const MAX_BODY = 64 * 1024;
const STATUS: Partial<Record<string, number>> = {
  CA_BAD_REQUEST: 400,
  CA_BAD_CSR: 400,
  CA_UNAUTHORIZED: 401,
  CA_FORBIDDEN: 403,
  REGISTRY_NOT_FOUND: 404,
  CA_NOT_FOUND: 404,
  CA_ROTATION_CONFLICT: 409,
};

export interface CaAppOptions {
  logError?: (m: string, e: unknown) => void;
  /** Keys that may rotate the intermediate; absent or null: nobody may (401). */
  adminKeys?: ApiKeyLookup | null;
  /** The registry's API keys, only to answer 403 (not 401) to one of them. */
  apiKeys?: ApiKeyLookup | null;
}
const STYLE: ValidationStyle = { code: 'CA_BAD_REQUEST', prefix: 'request: ' };

export function createCaApp(ca: CertificateAuthority, o: CaAppOptions = {}): OpenAPIHono {
  const logError = o.logError ?? ((m, e) => console.error(m, e));
  const app = createApiApp(STYLE);
  app.onError((err, c) => {
    const status = err instanceof TilelogError ? STATUS[err.code] : undefined;
    if (status === undefined) return errorResponse(c, err, logError);
    return c.json({ error: { code: (err as TilelogError).code, message: err.message } }, status as 400, { 'Cache-Control': 'no-store' });
  });
  const raw = (c: Context) => readBodyCapped(c.req.raw, MAX_BODY, (c.env as { incoming?: unknown } | undefined)?.incoming);
  const bundleOf = async (index: number) => JSON.parse(encodeBundleJson(await ca.registry.bundle(index)));
  const certJson = async (s: CertState) => ({
    serial: s.serial,
    agent: s.issued.body.agent,
    issuedIndex: s.issued.index,
    notBefore: s.issued.body.notBefore,
    notAfter: s.issued.body.notAfter,
    revocation: s.revoked === null ? null : { index: s.revoked.index, reason: s.revoked.reason, time: s.revoked.time },
    bundle: await bundleOf(s.issued.index),
    ...(s.revoked !== null && { revocationBundle: await bundleOf(s.revoked.index) }),
  });

  app.openAPIRegistry.registerComponent('securitySchemes', 'caAdminKey', routes.caAdminScheme);

  serveRoute(app, routes.chainRoute, async (c) => {
    await ca.index.catchUp();
    const issuer = c.req.query('issuer');
    const inter = issuer === undefined ? ca.intermediates.issuing() : ca.intermediates.byKeyHash(issuer);
    if (inter === null) throw new TilelogError('CA_NOT_FOUND', `ca: no intermediate ${issuer} in the log (GET /v1/ca/intermediates lists them)`);
    return c.body(ca.chainPem(inter), 200, { 'Content-Type': 'application/pem-certificate-chain', 'Cache-Control': CACHE_NONE });
  });

  const intermediateJson = (i: Intermediate, issuing: Intermediate | null) => {
    const issued = ca.index.issuedBy(i.keyHashHex);
    return {
      keyHash: i.keyHashHex,
      subject: i.certificate.subject,
      status: i.retired ? 'retired' : i.keyHashHex === issuing?.keyHashHex ? 'issuing' : 'unfinished',
      addedIndex: i.addedIndex,
      retiredIndex: i.retiredIndex,
      notBefore: i.certificate.notBefore.toISOString(),
      notAfter: i.certificate.notAfter.toISOString(),
      certificatesIssued: issued.count,
      statusServedUntil: i.retired ? new Date(ca.intermediates.servedUntilMs(i)).toISOString() : null,
      keyHere: ca.intermediates.hasSigner(i),
      pem: i.certificate.toString('pem') + '\n',
    };
  };
  serveRoute(app, routes.intermediatesRoute, async (c) => {
    await ca.index.catchUp();
    const issuing = ca.intermediates.issuing();
    return c.json({ intermediates: ca.intermediates.all().map((i) => intermediateJson(i, issuing)) }, 200, { 'Cache-Control': CACHE_NONE });
  });

  const requireAdmin: MiddlewareHandler = async function requireAdmin(c, next) {
    const m = /^Bearer (\S+)$/.exec(c.req.header('Authorization') ?? '');
    const key = m?.[1];
    if (key === undefined || o.adminKeys == null || o.adminKeys.ownerOf(key) === null) {
      if (key !== undefined && o.apiKeys?.ownerOf(key) != null) throw new TilelogError('CA_FORBIDDEN', 'ca: a registry API key cannot rotate the CA; use a CA admin key (tilelog ca adminkey)');
      throw new TilelogError('CA_UNAUTHORIZED', 'ca: rotating the intermediate needs a CA admin key: Authorization: Bearer <key> (tilelog ca adminkey makes one)');
    }
    await next();
  };
  // An empty body or {"object": "<label>"}: only a label, never a URI (token-intermediate.ts).
  const rotateBody = async (c: Context): Promise<RotateOptions> => {
    const text = Buffer.from(await raw(c)).toString('utf8').trim();
    if (text === '') return {};
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      throw new TilelogError('CA_BAD_REQUEST', 'request: the body must be JSON: {} or {"object": "<token key label>"}');
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v) || Object.keys(v).some((k) => k !== 'object')) {
      throw new TilelogError('CA_BAD_REQUEST', 'request: the body takes only "object" (the label of a key made in the intermediate\'s token)');
    }
    const object = (v as { object?: unknown }).object;
    if (object === undefined) return {};
    if (typeof object !== 'string') throw new TilelogError('CA_BAD_REQUEST', 'request: object must be a string (a token key label)');
    return { object };
  };
  serveRoute(
    app,
    routes.rotateRoute,
    async (c) => {
      const r = await rotateIntermediate(ca, await rotateBody(c));
      const issuing = ca.intermediates.issuing();
      return c.json(
        { added: intermediateJson(r.added, issuing), retired: intermediateJson(r.retired, issuing), addedIndex: r.addedIndex, retiredIndex: r.retiredIndex, chain: ca.chainPem(r.added) },
        200,
        { 'Cache-Control': CACHE_NONE },
      );
    },
    { middleware: [requireAdmin] },
  );

  serveRoute(app, routes.crlRoute, async (c) => {
    const der = await buildCrl(ca, c.req.query('issuer') ?? 'intermediate');
    if (c.req.query('format') === 'pem') return c.text(toPem(der, 'X509 CRL'), 200, { 'Cache-Control': CACHE_NONE });
    return c.body(u8(der), 200, { 'Content-Type': 'application/pkix-crl', 'Cache-Control': CACHE_NONE });
  });

  const ocsp = async (c: Context, req: Uint8Array) => {
    const { der } = await answerOcsp(ca, req);
    return c.body(u8(der), 200, { 'Content-Type': 'application/ocsp-response', 'Cache-Control': CACHE_NONE });
  };
  serveRoute(app, routes.ocspPostRoute, async (c) => ocsp(c, await raw(c)));
  describeRoute(app, routes.ocspGetRoute);
  // Hono decodes the parameter once (%2B, %2F, %3D); a second decode would throw on "%" and garble "%2525".
  app.get('/v1/ca/ocsp/:req{.+}', rejectBadEscapes(STYLE.code), async (c) => {
    return ocsp(c, new Uint8Array(Buffer.from(c.req.param('req'), 'base64')));
  });

  serveRoute(
    app,
    routes.verifyRoute,
    async (c) => {
      const body = (c.req as unknown as { valid(t: 'json'): { certificate: string } }).valid('json');
      const certs = pemCertificates(body.certificate);
      if (certs.length === 0) throw new TilelogError('CA_BAD_REQUEST', 'request: certificate must hold at least one PEM CERTIFICATE (the leaf first)');
      let v;
      try {
        v = await verifyCertificate(ca, certs[0]!);
      } catch (err) {
        if (err instanceof TilelogError) throw err;
        throw new TilelogError('CA_BAD_REQUEST', 'request: the first certificate does not parse');
      }
      const detail = v.cert === null ? {} : await certJson(v.cert);
      return c.json({ valid: v.valid, reason: v.reason, serial: v.serial, sha256: v.sha256, agentStatus: v.agentStatus, ...detail }, 200, { 'Cache-Control': CACHE_NONE });
    },
    { maxBodyBytes: MAX_BODY, style: STYLE },
  );

  serveRoute(app, routes.certRoute, async (c) => {
    await ca.index.catchUp();
    const s = ca.index.cert(c.req.param('serial')!.toLowerCase());
    if (s === null) throw new TilelogError('REGISTRY_NOT_FOUND', `ca: no certificate with serial ${c.req.param('serial')!}`);
    return c.json(await certJson(s), 200, { 'Cache-Control': CACHE_NONE });
  });

  for (const p of ['/v1/ca/chain', '/v1/ca/crl', '/v1/ca/certs/:serial', '/v1/ca/intermediates']) app.all(p, methodNotAllowed(['GET', 'HEAD']));
  app.all('/v1/ca/rotate', methodNotAllowed(['POST']));
  app.all('/v1/ca/ocsp', methodNotAllowed(['POST']));
  app.all('/v1/verify/cert', methodNotAllowed(['POST']));
  return app;
}
