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

export const chainRoute = createRoute({
  method: 'get',
  path: '/v1/ca/chain',
  tags: ['ca'],
  summary: 'The issuing CA certificate, then the root (PEM)',
  responses: { 200: raw('PEM certificates.', PEM_CHAIN) },
});

export const crlRoute = createRoute({
  method: 'get',
  path: '/v1/ca/crl',
  tags: ['ca'],
  summary: 'The certificate revocation list',
  request: {
    query: z.object({
      issuer: z.enum(['intermediate', 'root']).optional().openapi({ description: "root: the root's CRL (covers the intermediate). Default intermediate." }),
      format: z.enum(['pem']).optional().openapi({ description: 'pem: PEM text instead of DER.' }),
    }),
  },
  responses: { 200: { description: 'A DER CRL, or PEM with format=pem.', content: { 'application/pkix-crl': { schema: Binary }, 'text/plain; charset=UTF-8': { schema: z.string() } } }, ...errorResponses(400) },
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
