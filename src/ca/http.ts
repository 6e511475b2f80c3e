// createCaApp: the CA's routes under /v1, mounted next to the registry's.
//   GET  /v1/ca/chain           the issuing CA then the root, PEM
//   GET  /v1/ca/crl             DER CRL (application/pkix-crl); ?format=pem;
//                               ?issuer=root for the root's CRL (covers the intermediate)
//   POST /v1/ca/ocsp            RFC 6960: body application/ocsp-request
//   GET  /v1/ca/ocsp/<base64>   RFC 6960 A.1.1 GET form (URL-encoded base64)
//   POST /v1/verify/cert        {certificate: PEM (leaf first; a chain is fine)}
//   GET  /v1/ca/certs/<serial>  the issuance and revocation of one serial, with bundles
// Reads only (no API key): every answer derives from the log. Routes and
// answers are described in schemas.ts; OCSP's GET form has a regex path
// and is only described there.

import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { TilelogError } from '../errors.js';
import { encodeBundleJson } from '../client/bundle.js';
import { readBodyCapped } from '../http/body-limit.js';
import { CACHE_NONE } from '../http/cache.js';
import { errorResponse, methodNotAllowed } from '../http/errors.js';
import { rejectBadEscapes } from '../http/percent-escapes.js';
import { createApiApp, describeRoute, serveRoute } from '../http/openapi/routes.js';
import type { ValidationStyle } from '../http/openapi/validation.js';
import type { CertificateAuthority } from './ca.js';
import type { CertState } from './ca-index.js';
import { buildCrl } from './crl.js';
import { answerOcsp } from './ocsp.js';
import { verifyCertificate } from './verify-cert.js';
import * as routes from './schemas.js';
import { pemCertificates, toPem, u8 } from './x509.js';

const MAX_BODY = 64 * 1024;
const STATUS: Partial<Record<string, number>> = { CA_BAD_REQUEST: 400, CA_BAD_CSR: 400, REGISTRY_NOT_FOUND: 404 };
const STYLE: ValidationStyle = { code: 'CA_BAD_REQUEST', prefix: 'request: ' };

export function createCaApp(ca: CertificateAuthority, o: { logError?: (m: string, e: unknown) => void } = {}): OpenAPIHono {
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

  serveRoute(app, routes.chainRoute, (c) => c.body(ca.chainPem(), 200, { 'Content-Type': 'application/pem-certificate-chain', 'Cache-Control': CACHE_NONE }));

  serveRoute(app, routes.crlRoute, async (c) => {
    const issuer = (c.req.query('issuer') ?? 'intermediate') as 'intermediate' | 'root';
    const der = await buildCrl(ca, issuer);
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

  for (const p of ['/v1/ca/chain', '/v1/ca/crl', '/v1/ca/certs/:serial']) app.all(p, methodNotAllowed(['GET', 'HEAD']));
  app.all('/v1/ca/ocsp', methodNotAllowed(['POST']));
  app.all('/v1/verify/cert', methodNotAllowed(['POST']));
  return app;
}
