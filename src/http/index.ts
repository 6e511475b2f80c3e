export { createLogApp, type LogAppOptions } from './app.js';
export { startServer, type RunningServer, type StartServerOptions } from './server.js';
export type { LogApi, PublishedCheckpointLike } from './log-api.js';
export { statusForError, type ErrorBody } from './errors.js';
