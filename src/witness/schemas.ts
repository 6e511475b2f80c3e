// The witness server's HTTP API as OpenAPI routes (spec/WITNESS.md):
// c2sp.org/tlog-witness add-checkpoint with its text answers, the status
// page, evidence and monitoring reads.

import { createRoute, z } from '@hono/zod-openapi';
import { B64, checkedBy, Count, errorResponses, json, raw } from '../http/openapi/common.js';
import { httpError } from '../http/errors.js';

const TEXT = 'text/plain; charset=utf-8';
const DECIMAL = /^(0|[1-9][0-9]{0,14})$/;

/** A whole number query parameter (at most 15 digits). */
export function decimalParam(name: string, value: string): number {
  if (!DECIMAL.test(value)) throw httpError('HTTP_BAD_REQUEST', `${name} must be a whole number, got ${JSON.stringify(value)}`);
  return Number(value);
}

const text = (description: string) => ({ description, content: { [TEXT]: { schema: z.string() } } });

const Cosigned = z.strictObject({ origin: z.string(), size: Count, root: B64, timestamp: z.number(), checkpoint: z.string() });
export const Evidence = z
  .strictObject({
    conflicts: z
      .array(
        z.strictObject({
          id: Count,
          origin: z.string(),
          reason: z.string(),
          detail: z.string(),
          receivedAt: z.number(),
          request: z.strictObject({ oldSize: Count, proof: z.array(B64), checkpoint: z.string() }),
          stored: Cosigned.nullable(),
        }),
      )
      .optional(),
    cosigned: z.array(Cosigned.extend({ id: Count })).optional(),
  })
  .openapi('WitnessEvidence');

export const addCheckpointRoute = createRoute({
  method: 'post',
  path: '/add-checkpoint',
  tags: ['witness'],
  summary: 'Cosign a checkpoint (c2sp.org/tlog-witness)',
  description: 'The body is "old <size>", consistency proof lines, a blank line and the checkpoint note. Errors are text, as C2SP clients expect.',
  request: { body: { required: true, content: { [TEXT]: { schema: z.string() } } } },
  responses: {
    200: text('The cosignature lines.'),
    400: text('Malformed request.'),
    403: text('The checkpoint signature does not verify.'),
    404: text('Unknown log origin.'),
    409: { description: 'The old size is not the size this witness last cosigned; the body is that size.', content: { 'text/x.tlog.size': { schema: z.string() } } },
    413: text('The body is too large.'),
    422: text('The consistency proof does not verify.'),
  },
});

export const statusRoute = createRoute({ method: 'get', path: '/', tags: ['witness'], summary: 'Status page', responses: { 200: text('The witness, its key and the logs it follows.') } });

export const evidenceRoute = createRoute({
  method: 'get',
  path: '/evidence',
  tags: ['witness'],
  summary: 'Refused checkpoints and cosignatures issued, oldest first',
  request: {
    query: z.object({
      origin: z.string().optional(),
      kind: z.enum(['conflicts', 'cosigned']).optional(),
      after: checkedBy((s) => decimalParam('after', s)).optional().openapi({ description: 'Only records with id > after.' }),
      limit: checkedBy((s) => decimalParam('limit', s)).optional().openapi({ description: 'At most this many records per list (default 100, max 1000).' }),
    }),
  },
  responses: { 200: json(Evidence, 'The records.'), ...errorResponses(400) },
});

export const monitoringRoute = createRoute({
  method: 'get',
  path: '/{originHash}/checkpoint',
  tags: ['witness'],
  summary: 'The latest checkpoint this witness cosigned for a log',
  request: { params: z.object({ originHash: z.string().regex(/^[0-9a-f]{64}$/).openapi({ description: 'Lowercase hex SHA-256 of the log origin.' }) }) },
  responses: { 200: text('The cosigned checkpoint note.'), ...errorResponses(404) },
});

export const witnessMetricsRoute = createRoute({
  method: 'get',
  path: '/metrics',
  tags: ['operations'],
  summary: 'Prometheus metrics',
  responses: { 200: raw('Prometheus text exposition format.', 'text/plain; version=0.0.4; charset=utf-8') },
});
