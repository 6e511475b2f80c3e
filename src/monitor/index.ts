// tilelog's monitor: watches a log, proves each new checkpoint consistent
// with the last one it trusted, audits every entry against the signed root,
// compares with other sources, and raises MONITOR_* alerts with evidence.
// Node-only (state and evidence on disk); built on tilelog/client.

export type { AlertCode, AlertEvidence, AlertReport, EvidenceFile } from './alert.js';
export { ALERT_CODES, MonitorAlert } from './alert.js';
export type { CompareOutcome, CompareSource, CompareStatus } from './compare.js';
export { logSource, witnessSource } from './compare.js';
export type { MonitorOptions, PollResult, PollStatus } from './monitor.js';
export { Monitor } from './monitor.js';
export type { MonitorState } from './state.js';
export { STATE_VERSION, StateStore } from './state.js';
export { postWebhook } from './webhook.js';
