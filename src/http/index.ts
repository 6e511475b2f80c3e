export { createLogApp, type LogAppOptions } from './app.js';
export { startListener, startServer, type RunningServer, type StartServerOptions } from './server.js';
export type { LogApi, PublishedCheckpointLike } from './log-api.js';
export { statusForError, type ErrorBody } from './errors.js';
export { logRequestListener, proofFastPath } from './proof-fast-path.js';
export { RequestCounts } from './observe.js';
