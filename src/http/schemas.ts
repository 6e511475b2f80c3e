// The log's HTTP API as OpenAPI routes (spec/API.md): parameters, bodies and
// answers. Parameter checks reuse params.ts, so their messages are the ones
// the handlers always gave (and the golden vectors record).

import { createRoute, z } from '@hono/zod-openapi';
import { B64, B64Hash, Binary, checkedBy, Count, errorResponses, json, raw } from './openapi/common.js';
import { CHECKPOINT_HISTORY_DEFAULT, CHECKPOINT_HISTORY_MAX, parseHistoryLimit } from './history.js';
import { checkTreeRef, parseDecimal, parseHexHash } from './params.js';

const CHECKPOINT_TYPE = 'text/plain; charset=utf-8';

// --- parameters ---

const decimal = (name: string, description: string) =>
  checkedBy((s) => parseDecimal(name, s)).openapi({ description, pattern: '^(0|[1-9][0-9]*)$', example: '5' });

/** A decimal size or the lowercase hex root of a published checkpoint; the root is resolved by the handler (404 when unknown). */
const treeRef = (name: string, description: string) =>
  checkedBy((s) => checkTreeRef(name, s)).openapi({ description, pattern: '^(0|[1-9][0-9]*|[0-9a-f]{64})$', example: '7' });

// --- bodies ---

export const ProofBundle = z
  .strictObject({
    version: z.literal(1),
    index: Count,
    entry: B64.openapi({ description: 'The entry, base64.' }),
    inclusionProof: z.array(B64Hash),
    checkpoint: z.string().openapi({ description: 'The signed checkpoint note covering the entry (spec/BUNDLE.md).' }),
  })
  .openapi('ProofBundle', { description: 'Everything needed to verify an entry offline (spec/BUNDLE.md). As CBOR with Accept: application/cbor.' });

export const AddResult = z
  .strictObject({ index: Count, duplicate: z.literal(true).optional().openapi({ description: 'Present when the entry was already in the log.' }) })
  .openapi('AddResult');

export const Inclusion = z
  .strictObject({ index: Count, treeSize: Count, leafHash: B64Hash, rootHash: B64Hash, inclusionProof: z.array(B64Hash) })
  .openapi('InclusionProof');

export const Consistency = z
  .strictObject({ oldSize: Count, newSize: Count, oldRoot: B64Hash, newRoot: B64Hash, consistencyProof: z.array(B64Hash) })
  .openapi('ConsistencyProof');

export const Lookup = z.strictObject({ index: Count, leafHash: B64Hash }).openapi('Lookup');

export const LogInfo = z
  .strictObject({
    origin: z.string(),
    verifierKey: z.string().openapi({ description: 'The log\'s note verifier key (name+hash+key).' }),
    treeSize: Count,
    rootHash: B64Hash,
    dedup: z
      .boolean()
      .optional()
      .openapi({ description: 'true: adding bytes already in the log answers the earlier index, so retrying an add whose answer was lost is safe.' }),
    endpoints: z.record(z.string(), z.string()),
    publicUrl: z
      .string()
      .optional()
      .openapi({ description: 'Where readers fetch the public tree (checkpoint, tile/...): this server, a CDN or the bucket holding it. Absent when the server was not told.' }),
  })
  .openapi('LogInfo');

export const WitnessStatus = z
  .strictObject({
    policy: z.string(),
    failOpen: z.boolean(),
    signedSize: Count,
    publishedSize: Count,
    publishedCosignatures: Count,
    rounds: Count,
    publications: Count,
    quorumMissed: Count,
    witnesses: z.array(
      z.strictObject({
        name: z.string(),
        url: z.string(),
        verifierKey: z.string(),
        size: Count.nullable(),
        counters: z.record(z.string(), z.number()),
        lastError: z.string().nullable(),
        lastCosignedAt: z.number().nullable(),
      }),
    ),
  })
  .openapi('WitnessStatus');

const Status = (value: string) => z.strictObject({ status: z.literal(value) });

// --- routes ---

export const checkpointRoute = createRoute({
  method: 'get',
  path: '/checkpoint',
  tags: ['tiles'],
  summary: 'The latest published checkpoint (c2sp.org/tlog-tiles)',
  responses: { 200: raw('A signed note: origin, size, root hash, signatures.', CHECKPOINT_TYPE) },
});

const tileDescription =
  'A tile of the C2SP tlog-tiles layout. The index is split in three-digit path segments, all but the last prefixed with x ' +
  '(x001/234 is tile 1234), followed by .p/<width> for a partial tile of 1..255 hashes or entries. ' +
  'Full tiles never change; non-canonical paths are a 400 LAYOUT_BAD_PATH.';

export const tileRoute = createRoute({
  method: 'get',
  path: '/tile/{level}/{index}',
  tags: ['tiles'],
  summary: 'A hash tile',
  description: tileDescription,
  request: {
    params: z.object({
      level: z.string().openapi({ description: 'Tile level, 0..63.', example: '0' }),
      index: z.string().openapi({ description: 'The tile index in path form, optionally with .p/<width> (contains slashes).', example: 'x001/234.p/17' }),
    }),
  },
  responses: { 200: raw('Concatenated 32-byte hashes.', 'application/octet-stream'), ...errorResponses(400, 404) },
});

export const entriesTileRoute = createRoute({
  method: 'get',
  path: '/tile/entries/{index}',
  tags: ['tiles'],
  summary: 'An entry bundle tile',
  description: tileDescription,
  request: { params: z.object({ index: z.string().openapi({ description: 'The tile index in path form, optionally with .p/<width>.', example: '000.p/7' }) }) },
  responses: { 200: raw('Entries, each prefixed with its 16-bit big-endian length.', 'application/octet-stream'), ...errorResponses(400, 404) },
});

export const addRoute = createRoute({
  method: 'post',
  path: '/add',
  tags: ['submission'],
  summary: 'Add an entry',
  description:
    'The body is one raw entry of 1..65535 bytes. Answers once the entry is durable; with wait=checkpoint, once a published checkpoint covers it, with its proof bundle ' +
    '(CBOR for Accept: application/cbor; a duplicate then has the header Tilelog-Duplicate: true).',
  request: {
    query: z.object({
      wait: z.enum(['checkpoint']).optional().openapi({ description: 'Wait for a checkpoint and answer with a proof bundle.' }),
    }),
    body: { required: true, content: { 'application/octet-stream': { schema: Binary } } },
  },
  responses: {
    200: {
      description: 'The entry\'s index (duplicate: true when it was already logged), or with wait=checkpoint its proof bundle.',
      content: { 'application/json': { schema: z.union([AddResult, ProofBundle]) }, 'application/cbor': { schema: Binary } },
    },
    ...errorResponses(400, 413, 503),
  },
});

export const entryRoute = createRoute({
  method: 'get',
  path: '/v1/log/entry/{index}',
  tags: ['proofs'],
  summary: 'An entry with its proof bundle in the latest checkpoint',
  request: { params: z.object({ index: decimal('index', 'Zero-based leaf index.') }) },
  responses: {
    200: { description: 'The proof bundle (CBOR for Accept: application/cbor).', content: { 'application/json': { schema: ProofBundle }, 'application/cbor': { schema: Binary } } },
    ...errorResponses(400, 404),
  },
});

export const inclusionRoute = createRoute({
  method: 'get',
  path: '/v1/log/inclusion/{index}/{tree}',
  tags: ['proofs'],
  summary: 'An inclusion proof (RFC 6962 2.1.1)',
  request: {
    params: z.object({
      index: decimal('index', 'Zero-based leaf index, below the tree size.'),
      tree: treeRef('tree', 'A published tree size, or the lowercase hex root of a published checkpoint.'),
    }),
  },
  responses: { 200: json(Inclusion, 'The proof and the hashes it connects.'), ...errorResponses(400, 404) },
});

export const consistencyRoute = createRoute({
  method: 'get',
  path: '/v1/log/consistency/{old}/{new}',
  tags: ['proofs'],
  summary: 'A consistency proof (RFC 6962 2.1.2)',
  request: {
    params: z.object({
      old: treeRef('old', 'The older tree: a size >= 1 or the hex root of a published checkpoint.'),
      new: treeRef('new', 'The newer tree: a published size or root.'),
    }),
  },
  responses: { 200: json(Consistency, 'The proof and both roots.'), ...errorResponses(400, 404) },
});

export const lookupRoute = createRoute({
  method: 'get',
  path: '/v1/log/lookup/{hash}',
  tags: ['proofs'],
  summary: 'The index of the entry with a leaf hash',
  request: {
    params: z.object({
      hash: checkedBy((s) => parseHexHash('leaf hash', s)).openapi({ description: 'The RFC 6962 leaf hash, 64 lowercase hex characters.', pattern: '^[0-9a-f]{64}$' }),
    }),
  },
  responses: { 200: json(Lookup, 'Where the entry is.'), ...errorResponses(400, 404) },
});

export const infoRoute = createRoute({
  method: 'get',
  path: '/v1/log/info',
  tags: ['proofs'],
  summary: 'The log\'s origin, key, latest size and root, and endpoints',
  responses: { 200: json(LogInfo, 'About this log.') },
});

export const CheckpointHistory = z
  .strictObject({
    checkpoints: z.array(
      z.strictObject({
        size: Count,
        rootHash: B64Hash,
        time: z.number().int().nullable().openapi({ description: 'Unix milliseconds of the commit; null for checkpoints recorded before times were kept.' }),
      }),
    ),
  })
  .openapi('CheckpointHistory');

export const checkpointsRoute = createRoute({
  method: 'get',
  path: '/v1/log/checkpoints',
  tags: ['proofs'],
  summary: 'The newest published checkpoints: size, root and commit time',
  description:
    'Ascending by size. Roots are informative only: rely on one after a consistency proof from a checkpoint you verified. ' +
    'Sizes still waiting for cosignatures are not listed.',
  request: {
    query: z.object({
      limit: checkedBy((s) => parseHistoryLimit(s))
        .optional()
        .openapi({ description: `How many (1..${CHECKPOINT_HISTORY_MAX}, default ${CHECKPOINT_HISTORY_DEFAULT}).`, pattern: '^[1-9][0-9]*$', example: '100' }),
    }),
  },
  responses: { 200: json(CheckpointHistory, 'The history, oldest first.'), ...errorResponses(400) },
});

export const logSignedCheckpointRoute = createRoute({
  method: 'get',
  path: '/v1/log/log-signed-checkpoint',
  tags: ['operations'],
  summary: 'The newest checkpoint signed by the log alone',
  description: 'With witnesses it runs ahead of /checkpoint, which moves only once the cosignature policy is met.',
  responses: { 200: raw('A signed note.', CHECKPOINT_TYPE) },
});

export const witnessesRoute = createRoute({
  method: 'get',
  path: '/v1/log/witnesses',
  tags: ['operations'],
  summary: 'Witness cosigning status',
  responses: { 200: json(WitnessStatus, 'The policy, sizes and per-witness counters.'), ...errorResponses(404) },
});

export const healthzRoute = createRoute({
  method: 'get',
  path: '/healthz',
  tags: ['operations'],
  summary: 'Liveness: the process answers',
  responses: { 200: json(Status('ok'), 'Alive.') },
});

export const readyzRoute = createRoute({
  method: 'get',
  path: '/readyz',
  tags: ['operations'],
  summary: 'Readiness: the log accepts traffic',
  responses: { 200: json(Status('ready'), 'Ready.'), ...errorResponses(503) },
});

export const metricsRoute = createRoute({
  method: 'get',
  path: '/metrics',
  tags: ['operations'],
  summary: 'Prometheus metrics',
  responses: { 200: raw('Prometheus text exposition format.', 'text/plain; version=0.0.4; charset=utf-8') },
});
