// Refuses request targets (path and query) with a malformed percent-escape:
// a '%' not followed by two hex digits, or escapes that do not decode to
// UTF-8 (e.g. "%E0%A4%A"). Hono decodes parameters leniently, leaving such
// escapes in place, so a handler that decodes again (or trusts the value)
// would see a different string than the client meant. Checked on the raw Node
// request line when there is one, else on the request URL (in-process).

import type { MiddlewareHandler } from 'hono';
import type { ErrorCode } from '../errors.js';
import { httpError } from './errors.js';

/** True when target holds a percent-escape that decodeURIComponent refuses. Cost: O(|target|), nothing when it has no '%'. */
export function hasBadEscape(target: string): boolean {
  if (!target.includes('%')) return false;
  try {
    decodeURIComponent(target);
    return false;
  } catch {
    return true;
  }
}

/** Middleware: a 400 with code (the app's bad-request code) for a malformed escape anywhere in the request target. */
export function rejectBadEscapes(code: ErrorCode = 'HTTP_BAD_REQUEST'): MiddlewareHandler {
  return async function rejectBadEscapes(c, next) {
    const raw = (c.env as { incoming?: { url?: string } } | undefined)?.incoming?.url ?? c.req.url;
    if (hasBadEscape(raw)) {
      throw httpError(code, 'request: the URL has a malformed percent-escape (use %XX with two hex digits, encoding UTF-8)');
    }
    await next();
  };
}
