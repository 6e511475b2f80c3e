// The CA's HTTP API as OpenAPI routes (spec/CA.md): PEM and DER answers,
// OCSP in both RFC 6960 forms, and the JSON of certificate lookups.

import { createRoute, z } from '@hono/zod-openapi';
import { Binary, Count, errorResponses, json, raw } from '../http/openapi/common.js';
import { ProofBundle } from '../http/schemas.js';

const PEM_CHAIN = 'application/pem-certificate-chain';

export const CertificateStatus = z
  .object({
    serial: z.string(),
    agent: z.string(),
    issuedIndex: Count,
    notBefore: z.number(),
    notAfter: z.number(),
    revocation: z.strictObject({ index: Count, reason: z.string(), time: z.number() }).nullable(),
    bundle: ProofBundle,
    revocationBundle: ProofBundle.optional(),
  })
  .openapi('CertificateStatus', { description: 'The issuance (and revocation) of one certificate, with proof bundles of their entries.' });

export const VerifyResult = z
  .object({
    valid: z.boolean(),
    reason: z.string().nullable().optional(),
    serial: z.string().nullable().optional(),
    sha256: z.string().nullable().optional(),
    agentStatus: z.string().nullable().optional(),
  })
  .catchall(z.unknown())
  .openapi('CertificateVerification', { description: 'Whether the certificate is one this CA issued and still valid; for one it issued, its CertificateStatus members too.' });

export const VerifyBody = z.object({ certificate: z.string().openapi({ description: 'PEM, the leaf first (a chain is fine).' }) }).openapi('VerifyCertificateRequest');

const IssuerKeyHash = z.string().regex(/^[0-9a-f]{64}$/, "issuer must be an intermediate's key hash: 64 hex digits, as GET /v1/ca/intermediates lists it");

export const chainRoute = createRoute({
  method: 'get',
  path: '/v1/ca/chain',
  tags: ['ca'],
  summary: 'The issuing CA certificate, then the root (PEM)',
  request: {
    query: z.object({ issuer: IssuerKeyHash.optional().openapi({ description: "An intermediate's SPKI SHA-256 (hex, as /v1/ca/intermediates lists it): that intermediate's chain. Default the issuing one." }) }),
  },
  responses: { 200: raw('PEM certificates.', PEM_CHAIN), ...errorResponses(400, 404) },
});

export const Intermediate = z
  .object({
    keyHash: z.string().openapi({ description: "SHA-256 of the intermediate's SubjectPublicKeyInfo (hex): its ca:<hex> subject in the log." }),
    subject: z.string(),
    status: z.enum(['issuing', 'retired', 'unfinished']).openapi({ description: 'issuing: signs new certificates; retired: never issues again; unfinished: an older one a stopped rotation has not retired yet.' }),
    addedIndex: Count,
    retiredIndex: Count.nullable(),
    notBefore: z.string(),
    notAfter: z.string(),
    certificatesIssued: Count,
    statusServedUntil: z.string().nullable().openapi({ description: 'Until when its CRL and OCSP answers are served (the last certificate it issued expires); null while it is not retired.' }),
    keyHere: z.boolean().openapi({ description: 'This server holds its key (it can sign its CRL and OCSP answers).' }),
    pem: z.string(),
  })
  .openapi('CaIntermediate');

export const intermediatesRoute = createRoute({
  method: 'get',
  path: '/v1/ca/intermediates',
  tags: ['ca'],
  summary: 'Every intermediate the log shows, oldest first',
  responses: { 200: json(z.object({ intermediates: z.array(Intermediate) }), 'The intermediates.') },
});

export const rotateRoute = createRoute({
  method: 'post',
  path: '/v1/ca/rotate',
  tags: ['ca'],
  summary: 'Rotate the intermediate (admin): a new one signed by the root, the old one retired',
  description:
    'Body (optional): {"object": "<label>"}. A CA whose intermediate is in a PKCS#11 token must name a key already made in that token (tilelog keygen --ca); the server keeps its module and PIN source. A file-key CA sends no object and gets a new key file.',
  security: [{ caAdminKey: [] }],
  responses: {
    200: json(z.object({ added: Intermediate, retired: Intermediate, addedIndex: Count, retiredIndex: Count, chain: z.string() }), 'The new issuing intermediate and the retired one, with their log indexes.'),
    ...errorResponses(400, 401, 403, 409, 503),
  },
});

export const caAdminScheme = { type: 'http', scheme: 'bearer', description: 'A CA admin key, tlk_... (tilelog ca adminkey), kept apart from the registry API keys.' } as const;

export const crlRoute = createRoute({
  method: 'get',
  path: '/v1/ca/crl',
  tags: ['ca'],
  summary: 'The certificate revocation list',
  request: {
    query: z.object({
      issuer: z
        .string()
        .regex(/^(intermediate|root|[0-9a-f]{64})$/, 'issuer must be one of "intermediate", "root", or an intermediate\'s key hash (64 hex digits, as GET /v1/ca/intermediates lists it)')
        .optional()
        .openapi({ description: "intermediate: the issuing intermediate's CRL (default); an intermediate's SPKI SHA-256 (hex): that one's, retired or not, until its certificates expire; root: the root's CRL (covers the intermediates)." }),
      format: z.enum(['pem']).optional().openapi({ description: 'pem: PEM text instead of DER.' }),
    }),
  },
  responses: { 200: { description: 'A DER CRL, or PEM with format=pem.', content: { 'application/pkix-crl': { schema: Binary }, 'text/plain; charset=UTF-8': { schema: z.string() } } }, ...errorResponses(400, 404, 503) },
});

export const ocspPostRoute = createRoute({
  method: 'post',
  path: '/v1/ca/ocsp',
  tags: ['ca'],
  summary: 'OCSP (RFC 6960), POST form',
  request: { body: { required: true, content: { 'application/ocsp-request': { schema: Binary } } } },
  responses: { 200: raw('A DER OCSP response (errors are OCSP statuses too).', 'application/ocsp-response'), ...errorResponses(413) },
});

export const ocspGetRoute = createRoute({
  method: 'get',
  path: '/v1/ca/ocsp/{request}',
  tags: ['ca'],
  summary: 'OCSP (RFC 6960 A.1.1), GET form',
  request: { params: z.object({ request: z.string().openapi({ description: 'The DER OCSP request, base64 then URL-encoded (may contain slashes).' }) }) },
  responses: { 200: raw('A DER OCSP response.', 'application/ocsp-response') },
});

export const verifyRoute = createRoute({
  method: 'post',
  path: '/v1/verify/cert',
  tags: ['ca'],
  summary: 'Check a certificate against the log',
  request: { body: { required: true, content: { 'application/json': { schema: VerifyBody } } } },
  responses: { 200: json(VerifyResult, 'The verdict.'), ...errorResponses(400, 413) },
});

export const certRoute = createRoute({
  method: 'get',
  path: '/v1/ca/certs/{serial}',
  tags: ['ca'],
  summary: 'One certificate by serial',
  request: { params: z.object({ serial: z.string().openapi({ description: 'The serial number in hex.' }) }) },
  responses: { 200: json(CertificateStatus, 'Its issuance and revocation.'), ...errorResponses(404) },
});
