// Request validation from the same zod schemas the OpenAPI document is built
// from. A failed check becomes a coded TilelogError (400 through each app's
// one error table), never a 500, with a message naming the field:
//   index must be a decimal integer in [0, 2^53-1] ..., got "01"
//   request: endpoints[0].protocol must be one of a2a, mcp, https
// Only the first issue is reported, as the hand-written parsers always did.

import type { Context, MiddlewareHandler } from 'hono';
import type { ZodType } from 'zod';
import { TilelogError, type ErrorCode } from '../../errors.js';
import { readBodyCapped } from '../body-limit.js';

/** One zod issue, as much of it as the messages use (zod 4's $ZodIssue). */
interface Issue {
  code: string;
  path: PropertyKey[];
  message: string;
  expected?: string;
  values?: readonly unknown[];
  keys?: readonly string[];
  minimum?: number | bigint;
  maximum?: number | bigint;
  origin?: string;
}

export type ValidationTarget = 'param' | 'query' | 'json' | 'header';

export interface ValidationStyle {
  /** The code of the error thrown (HTTP_BAD_REQUEST; the registry keeps REGISTRY_BAD_REQUEST). */
  code: ErrorCode;
  /** Put before every message (the registry's "request: "). */
  prefix?: string;
}

/** `endpoints[0].url`; the target itself when the issue is about the whole value. */
export function fieldName(path: readonly PropertyKey[], target: ValidationTarget): string {
  if (path.length === 0) return target === 'json' ? 'the body' : `the ${target === 'param' ? 'path' : target}`;
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out;
}

/** A sentence naming the field and what it must be. */
export function issueMessage(issue: Issue, target: ValidationTarget): string {
  const field = fieldName(issue.path, target);
  // A schema's own message names its field (common.ts checkedBy reuses the parsers' messages): it is used as is.
  if (issue.code === 'custom' || issue.message.startsWith(`${field} `)) return issue.message;
  switch (issue.code) {
    case 'invalid_type':
      // zod 4 leaves the input out of issues; its default message says what was received.
      return issue.path.length > 0 && / received undefined$/.test(issue.message)
        ? `${field} is required (${issue.expected})`
        : `${field} must be ${article(issue.expected ?? 'a value')}`;
    case 'invalid_value':
      return `${field} must be one of ${(issue.values ?? []).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'unrecognized_keys': {
      const where = issue.path.length === 0 ? '' : ` in ${field}`;
      return `unknown member ${JSON.stringify(issue.keys?.[0] ?? '')}${where}`;
    }
    case 'too_small':
      return `${field} must ${bound('at least', issue)}`;
    case 'too_big':
      return `${field} must ${bound('at most', issue)}`;
    case 'invalid_format':
      return `${field} has the wrong format: ${issue.message}`;
    default:
      return `${field}: ${issue.message}`;
  }
}

function article(expected: string): string {
  if (expected === 'object') return 'a JSON object';
  if (expected === 'array') return 'an array';
  if (expected === 'string' || expected === 'number' || expected === 'boolean') return `a ${expected}`;
  return expected;
}

function bound(how: string, issue: Issue): string {
  const n = String(issue.minimum ?? issue.maximum);
  if (issue.origin === 'array') return `have ${how} ${n} items`;
  if (issue.origin === 'string') return `be ${how} ${n} characters long`;
  return `be ${how} ${n}`;
}

/** The error for a failed check of target. */
export function validationError(issues: readonly Issue[], target: ValidationTarget, style: ValidationStyle): TilelogError {
  const first = issues[0];
  const text = first === undefined ? `the ${target} is invalid` : issueMessage(first, target);
  return new TilelogError(style.code, `${style.prefix ?? ''}${text}`);
}

/** The result OpenAPIHono hands its hook (from @hono/zod-validator). */
interface HookResult {
  success: boolean;
  target: string;
  error?: { issues: readonly Issue[] };
}

/** An OpenAPIHono defaultHook: throws the coded error, so the app's onError answers it. */
export function validationHook(style: ValidationStyle) {
  return function onInvalid(result: HookResult, _c: Context): undefined {
    if (result.success) return undefined;
    throw validationError(result.error?.issues ?? [], result.target as ValidationTarget, style);
  };
}

export interface JsonBodyOptions {
  schema: ZodType;
  maxBytes: number;
  style: ValidationStyle;
}

/**
 * Reads a JSON request body with the hard cap (body-limit.ts: 413 beyond),
 * whatever its Content-Type (clients have always been allowed to omit it),
 * parses it, checks it against schema and stores it as c.req.valid('json').
 * Used instead of OpenAPIHono's own JSON validator, which reads bodies
 * without a cap and answers a missing Content-Type with an uncoded 415.
 */
export function jsonBody({ schema, maxBytes, style }: JsonBodyOptions): MiddlewareHandler {
  return async function validateJsonBody(c, next) {
    const bytes = await readBodyCapped(c.req.raw, maxBytes, (c.env as { incoming?: unknown } | undefined)?.incoming);
    let value: unknown;
    try {
      value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    } catch {
      throw new TilelogError(style.code, `${style.prefix ?? ''}the body must be a JSON object`);
    }
    const result = await schema.safeParseAsync(value);
    if (!result.success) throw validationError(result.error.issues as readonly Issue[], 'json', style);
    c.req.addValidatedData('json', result.data as object);
    await next();
  };
}
