// The registry's HTTP API as OpenAPI routes (spec/REGISTRY.md). Body schemas
// check shapes (members, types, enums, sizes); input.ts still normalises
// them and checks what needs parsing (ANS names, aliases, keys, URLs), with
// the same REGISTRY_BAD_REQUEST / REGISTRY_BAD_NAME errors as before.

import { createRoute, z } from '@hono/zod-openapi';
import { B64, Binary, Count, errorResponses, json } from '../../http/openapi/common.js';
import { ProofBundle } from '../../http/schemas.js';
import { ENDPOINT_PROTOCOLS, MAX_CAPABILITIES, MAX_ENDPOINTS, REVOCATION_REASONS } from '../entries/schema.js';

/** Registry writes carry `Authorization: Bearer tlk_...` (auth.ts). */
export const BEARER_SCHEME = 'apiKey';
export const bearerScheme = { type: 'http', scheme: 'bearer', description: 'A registry API key, tlk_... (tilelog registry add-key).' } as const;
const secured = { security: [{ [BEARER_SCHEME]: [] }] };

const name = z.string().openapi({ description: 'An ANS name (ans://v1.0.0.agent.example.com, URL-encoded) or an alias.', example: 'ans%3A%2F%2Fv1.0.0.order-bot.example.com' });
const nameParam = z.object({ name });
const waitQuery = z.object({
  wait: z.enum(['checkpoint']).optional().openapi({ description: 'Include the proof bundle of the new entry.' }),
});

// --- bodies ---

const Endpoint = z.strictObject({
  protocol: z.enum(ENDPOINT_PROTOCOLS),
  url: z.string().openapi({ description: 'An http(s) URL.' }),
  metadataUrl: z.string().optional(),
  metadataSha256: z.string().optional().openapi({ description: '64 lower-case hex digits; with metadataUrl.' }),
});
const capabilities = z.array(z.string()).max(MAX_CAPABILITIES);
const endpoints = z.array(Endpoint).min(1).max(MAX_ENDPOINTS);
const publicKey = z.string().openapi({ description: "The agent's 32-byte Ed25519 public key, base64." });
const csr = z.string().optional().openapi({ description: 'A PEM PKCS#10 request: also issue an agent certificate (spec/CA.md). Its Ed25519 key may stand in for publicKey.' });

export const RegisterBody = z
  .strictObject({ name: z.string().openapi({ example: 'ans://v1.0.0.order-bot.example.com' }), alias: z.string().optional(), capabilities: capabilities.optional(), endpoints, publicKey: publicKey.optional(), csr })
  .openapi('RegisterRequest');
export const ChallengeBody = z.strictObject({ name: z.string().openapi({ description: 'The ANS name to register.' }) }).openapi('ChallengeRequest');
export const RotateBody = z.strictObject({ publicKey: publicKey.optional(), csr }).openapi('RotateRequest');
export const UpdateBody = z.strictObject({ capabilities: capabilities.optional(), endpoints: endpoints.optional() }).openapi('UpdateRequest', { description: 'At least one member; each replaces the current list.' });
export const DeprecateBody = z.strictObject({ reason: z.string().optional().openapi({ description: 'Printable ASCII, 1..256 characters.' }) }).openapi('DeprecateRequest');
export const RevokeBody = z.strictObject({ reason: z.enum(REVOCATION_REASONS).optional().openapi({ description: 'RFC 5280 CRLReason (default unspecified).' }) }).openapi('RevokeRequest');
export const ObservedBody = z.strictObject({ certificate: z.string({ error: 'certificate must be a PEM certificate or base64 DER' }) }).openapi('ObservedCertificateRequest');

// --- answers ---

export const Agent = z
  .strictObject({
    name: z.string(),
    status: z.enum(['active', 'deprecated', 'revoked']),
    owner: z.string(),
    alias: z.string().nullable(),
    capabilities: z.array(z.string()),
    endpoints: z.array(z.strictObject({ protocol: z.string(), url: z.string(), metadataUrl: z.string().optional(), metadataSha256: z.string().optional() })),
    publicKey: B64,
    validation: z.string(),
    reason: z.string().nullable(),
    seq: Count,
    lastChange: z.string(),
    time: Count,
    submitterKey: z.string(),
    entryIndex: Count,
    leafHash: B64,
    registeredIndex: Count,
    registeredTime: Count,
  })
  .openapi('Agent', { description: 'The record an agent\'s head entry sets, and where that entry is.' });

export const RegistryInfo = z
  .strictObject({
    origin: z.string(),
    logKey: z.string(),
    registryKey: z.string(),
    submitterKeys: z.array(z.strictObject({ kid: z.string(), publicKey: B64, label: z.string(), status: z.enum(['active', 'revoked']), addedIndex: Count })),
    domainValidation: z.enum(['none', 'dns-txt']),
  })
  .openapi('RegistryInfo');

export const WriteResult = z
  .object({
    name: z.string(),
    type: z.string().openapi({ description: 'The entry type, e.g. agent.registered.' }),
    index: Count,
    leafHash: B64,
    duplicate: z.literal(true).optional(),
    bundle: ProofBundle.optional().openapi({ description: 'With wait=checkpoint.' }),
    certificate: z.record(z.string(), z.unknown()).optional().openapi({ description: 'The issued certificate (pem, serial, index, ...) when the request had a csr.' }),
    certificatesRevoked: z.array(z.string()).optional(),
    agent: z.string().optional(),
    sha256: z.string().optional(),
    spkiSha256: z.string().optional(),
  })
  .openapi('WriteResult', { description: 'The logged entry; some routes add members (certificate, certificatesRevoked, agent, sha256, spkiSha256).' });

const DnsRecord = z.strictObject({ name: z.string(), type: z.enum(['TXT', 'TLSA']), ttl: Count, value: z.string() });
export const AgentDns = z.strictObject({ name: z.string(), status: z.string(), records: z.array(DnsRecord), zone: z.string() }).openapi('AgentDns');

export const Challenge = z
  .union([
    z.strictObject({ domainValidation: z.literal('none') }),
    z.strictObject({ domainValidation: z.literal('dns-txt'), name: z.string(), type: z.literal('TXT'), value: z.string(), zone: z.string() }),
  ])
  .openapi('Challenge');

const EndpointRef = z.strictObject({ protocol: z.string(), url: z.string() });
export const Resolution = z
  .strictObject({
    source: z.enum(['dns', 'log']),
    record: Agent,
    bundle: ProofBundle,
    dns: z
      .strictObject({
        name: z.string(),
        status: z.enum(['ok', 'nxdomain', 'nodata', 'unavailable']),
        cached: z.boolean(),
        ttl: z.number(),
        endpoints: z.array(EndpointRef),
        match: z.boolean().nullable(),
        missing: z.array(EndpointRef).optional(),
        unexpected: z.array(EndpointRef).optional(),
        error: z.string().optional(),
      })
      .optional(),
  })
  .openapi('Resolution');

// --- routes ---

const write = (body: z.ZodType, status: 200 | 201) => ({
  request: { params: nameParam, query: waitQuery, body: { required: true, content: { 'application/json': { schema: body } } } },
  responses: { [status]: json(WriteResult, status === 201 ? 'Logged.' : 'Logged (or a duplicate of the head entry).'), ...errorResponses(400, 401, 403, 404, 409, 413, 429) },
});

export const registryInfoRoute = createRoute({ method: 'get', path: '/v1/registry', tags: ['registry'], summary: 'The registry\'s keys and settings', responses: { 200: json(RegistryInfo, 'About this registry.') } });

export const KeyChain = z
  .strictObject({ entries: z.array(ProofBundle).openapi({ description: 'Every key.added and key.revoked entry, in log order, each with its proof bundle.' }) })
  .openapi('KeyChain', { description: 'The submitter key entries a verifier that pinned the first key folds to follow rotations (verifyKeyChain).' });

export const keyChainRoute = createRoute({
  method: 'get',
  path: '/v1/registry/keys',
  tags: ['registry'],
  summary: 'The submitter key entries with their proof bundles',
  responses: { 200: json(KeyChain, 'The key chain, as of the latest checkpoint.') },
});

export const challengeRoute = createRoute({
  method: 'post',
  path: '/v1/challenges',
  tags: ['registry'],
  summary: 'The DNS TXT record that proves control of a name\'s host',
  ...secured,
  request: { body: { required: true, content: { 'application/json': { schema: ChallengeBody } } } },
  responses: { 200: json(Challenge, 'The record to publish, or domainValidation none.'), ...errorResponses(400, 401, 413, 429) },
});

export const registerRoute = createRoute({
  method: 'post',
  path: '/v1/agents',
  tags: ['registry'],
  summary: 'Register an agent',
  ...secured,
  request: { query: waitQuery, body: { required: true, content: { 'application/json': { schema: RegisterBody } } } },
  responses: { 201: json(WriteResult, 'Registered.'), 200: json(WriteResult, 'The same registration again (duplicate).'), ...errorResponses(400, 401, 409, 413, 422, 429, 503) },
});

export const listAgentsRoute = createRoute({
  method: 'get',
  path: '/v1/agents',
  tags: ['registry'],
  summary: 'List agents, by name, a page at a time',
  request: {
    query: z.object({
      owner: z.string().optional(),
      status: z.enum(['active', 'deprecated', 'revoked']).optional(),
      capability: z.string().optional(),
      cursor: z.string().optional().openapi({ description: 'The next member of the previous page.' }),
      limit: z.string().regex(/^[0-9]+$/).optional().openapi({ description: 'Page size 1..100 (default 50).' }),
    }),
  },
  responses: { 200: json(z.strictObject({ agents: z.array(Agent), next: z.string().nullable() }).openapi('AgentPage'), 'A page of agents.'), ...errorResponses(400) },
});

export const agentRoute = createRoute({ method: 'get', path: '/v1/agents/{name}', tags: ['registry'], summary: 'One agent', request: { params: nameParam }, responses: { 200: json(Agent, 'The agent.'), ...errorResponses(400, 404) } });

export const agentDnsRoute = createRoute({
  method: 'get',
  path: '/v1/agents/{name}/dns',
  tags: ['registry'],
  summary: 'The DNS records to publish for an agent (_ans TXT, TLSA)',
  request: { params: nameParam, query: z.object({ format: z.enum(['zone']).optional().openapi({ description: 'zone: a zone-file snippet as text.' }) }) },
  responses: { 200: { description: 'The records, or with format=zone a zone-file snippet.', content: { 'application/json': { schema: AgentDns }, 'text/plain; charset=utf-8': { schema: z.string() } } }, ...errorResponses(400, 404) },
});

export const rotateRoute = createRoute({ method: 'post', path: '/v1/agents/{name}/rotate', tags: ['registry'], summary: 'Rotate an agent\'s key (or re-issue its certificate)', ...secured, ...write(RotateBody, 200) });
export const observedRoute = createRoute({ method: 'post', path: '/v1/agents/{name}/certificates/observed', tags: ['registry'], summary: 'Record an external server certificate of the agent\'s host', ...secured, ...write(ObservedBody, 201) });
export const updatePatchRoute = createRoute({ method: 'patch', path: '/v1/agents/{name}', tags: ['registry'], summary: 'Replace an agent\'s capabilities or endpoints', ...secured, ...write(UpdateBody, 200) });
export const updatePostRoute = createRoute({ method: 'post', path: '/v1/agents/{name}/update', tags: ['registry'], summary: 'Replace an agent\'s capabilities or endpoints (POST form of PATCH)', ...secured, ...write(UpdateBody, 200) });
export const deprecateRoute = createRoute({ method: 'post', path: '/v1/agents/{name}/deprecate', tags: ['registry'], summary: 'Deprecate an agent', ...secured, ...write(DeprecateBody, 200) });
export const revokeRoute = createRoute({ method: 'post', path: '/v1/agents/{name}/revoke', tags: ['registry'], summary: 'Revoke an agent (and its certificates)', ...secured, ...write(RevokeBody, 200) });

export const entriesRoute = createRoute({
  method: 'post',
  path: '/v1/entries',
  tags: ['registry'],
  summary: 'Submit a signed registry entry as is',
  description: 'The body is one deterministic-CBOR entry (spec/ENTRIES.md) signed by a submitter key.',
  ...secured,
  request: { query: waitQuery, body: { required: true, content: { 'application/cbor': { schema: Binary } } } },
  responses: { 201: json(WriteResult, 'Logged.'), 200: json(WriteResult, 'Already logged (duplicate).'), ...errorResponses(400, 401, 403, 409, 413, 429) },
});

export const resolveRoute = createRoute({
  method: 'get',
  path: '/v1/resolve/{name}',
  tags: ['registry'],
  summary: 'Resolve an agent: its record with a proof bundle, compared with DNS',
  request: { params: nameParam },
  responses: { 200: json(Resolution, 'The record, its bundle, and the DNS comparison when DNS-first resolve is on.'), ...errorResponses(400, 404) },
});

