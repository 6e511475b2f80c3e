// The optional webhook: one JSON POST per alert (the AlertReport), with a
// timeout. A webhook that fails is reported, never fatal: the evidence on disk
// and the exit code already carry the alert.

import type { AlertReport } from './alert.js';
import type { FetchLike } from '../client/index.js';

/** Default time allowed for the webhook to answer: 10 s. */
export const WEBHOOK_TIMEOUT_MS = 10_000;

/** POSTs report as JSON to url. Returns null on a 2xx answer, else why it failed. */
export async function postWebhook(url: string, report: AlertReport, fetchFn: FetchLike = fetch, timeoutMs = WEBHOOK_TIMEOUT_MS): Promise<string | null> {
  try {
    const res = await fetchFn(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'User-Agent': 'tilelog-monitor' },
      body: JSON.stringify(report),
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.body?.cancel().catch(() => {});
    return res.ok ? null : `HTTP ${res.status}`;
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    return cause?.code ?? (err instanceof Error ? err.message : String(err));
  }
}
