// Refuses request paths with dot segments ("." or "..", also percent-encoded)
// before URL normalisation hides them: `/tile/0/../000` is not a canonical
// tile path and must not be quietly served as `/tile/000`. Only the raw Node
// request line shows them; in-process app.request() URLs are pre-normalised.

import type { MiddlewareHandler } from 'hono';
import { httpError } from './errors.js';

const DOT_SEGMENT = /\/(\.|%2e){1,2}(\/|\?|#|$)/i;

export function rejectDotSegments(): MiddlewareHandler {
  return async function rejectDotSegments(c, next) {
    const raw = (c.env as { incoming?: { url?: string } } | undefined)?.incoming?.url;
    if (raw !== undefined && raw.includes('/') && DOT_SEGMENT.test(raw)) {
      throw httpError('LAYOUT_BAD_PATH', 'the path contains "." or ".." segments; use the canonical path');
    }
    await next();
  };
}
