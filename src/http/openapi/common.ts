// Schemas and response helpers every part of the API shares: the one error
// body, base64 hashes, non-JSON content, and zod checks that reuse the
// hand-written parsers (so a check and its message exist once).

import { z } from '@hono/zod-openapi';
import { TilelogError } from '../../errors.js';

/** Every error answer: {"error": {"code", "message"}} (src/http/errors.ts). */
export const ErrorBody = z
  .strictObject({
    error: z.strictObject({
      code: z.string().openapi({ description: 'A stable error code, e.g. MERKLE_RANGE or REGISTRY_NOT_FOUND.', example: 'HTTP_BAD_REQUEST' }),
      message: z.string().openapi({ description: 'What went wrong and what to do about it.' }),
    }),
  })
  .openapi('Error');

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad request: a parameter, query or body fails its check (the message names it)',
  401: 'No valid API key (Authorization: Bearer <key>)',
  403: 'The key may not act on this resource',
  404: 'Not found',
  409: 'Conflicts with the current state',
  413: 'The request body is too large',
  422: 'Refused by a check of the outside world (DNS)',
  429: 'Rate limited; see Retry-After',
  503: 'Not available now; retry after Retry-After seconds',
};

/** Error responses for the given statuses, each with the shared body. */
export function errorResponses(...statuses: number[]) {
  const out: Record<number, { description: string; content: { 'application/json': { schema: typeof ErrorBody } } }> = {};
  for (const s of statuses) out[s] = { description: STATUS_TEXT[s] ?? 'Error', content: { 'application/json': { schema: ErrorBody } } };
  return out;
}

/** A JSON response. */
export function json<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } };
}

/** Bytes of some media type (tiles, CBOR, DER). */
export const Binary = z.string().openapi({ type: 'string', format: 'binary' });

/** A response of raw bytes or text in the given media types. */
export function raw(description: string, ...types: string[]) {
  const content: Record<string, { schema: z.ZodType }> = {};
  for (const t of types) content[t] = { schema: t.startsWith('text/') || t.includes('pem') ? z.string() : Binary };
  return { description, content };
}

/** Standard padded base64 of 32 bytes. */
export const B64Hash = z
  .string()
  .regex(/^[A-Za-z0-9+/]{43}=$/)
  .openapi({ description: 'A SHA-256 hash in standard padded base64.', example: 'mQWtHohaRsACe8gJoreVIsG97Ui1HHR9GlQCvmn2qI4=' });

/** Standard padded base64 of any bytes. */
export const B64 = z.string().regex(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/).openapi({ description: 'Standard padded base64.' });

/** A whole number (JSON safe integer) at least 0. */
export const Count = z.number().int().min(0);

/**
 * A string checked by one of the hand-written parsers (params.ts, names.ts):
 * it throws a TilelogError whose message names the field; that message
 * becomes the issue's (validation.ts reports custom issues verbatim).
 */
export function checkedBy(parse: (s: string) => unknown) {
  return z.string().superRefine((s, ctx) => {
    try {
      parse(s);
    } catch (err) {
      if (!(err instanceof TilelogError)) throw err;
      ctx.addIssue({ code: 'custom', message: err.message });
    }
  });
}
