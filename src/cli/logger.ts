// The CLI's structured logger: pino, JSON lines on stderr, or short readable
// lines when stderr is a terminal (prettyLine below: pino-pretty would add
// about ten packages for this alone). The engine (LogLogger) and the HTTP
// apps (HttpLogger) are handed this logger; the startup summary stays plain
// text on stdout, as before.

import { pino, type Logger } from 'pino';
import type { LogLogger } from '../log/index.js';
import { UsageError } from './common.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface CliLoggerOptions {
  level: LogLevel;
  /** Readable lines instead of JSON; default: when stream is a TTY. */
  pretty?: boolean;
  /** Default process.stderr. */
  stream?: { write(s: string): unknown; isTTY?: boolean };
  /** Bound to every line, e.g. { component: 'witness' }. */
  base?: Record<string, unknown>;
}

/** Parses a --log-level value; UsageError naming source and the choices otherwise. */
export function parseLogLevel(source: string, value: string): LogLevel {
  if ((LOG_LEVELS as readonly string[]).includes(value)) return value as LogLevel;
  throw new UsageError(`${source} must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(value)}`);
}

export function createCliLogger(o: CliLoggerOptions): Logger {
  const stream = o.stream ?? process.stderr;
  const pretty = o.pretty ?? stream.isTTY === true;
  const dest = pretty ? { write: (line: string) => stream.write(prettyLine(line)) } : { write: (line: string) => stream.write(line) };
  return pino({ level: o.level, base: { pid: process.pid, ...o.base } }, dest);
}

/** The engine's LogLogger on top of a pino logger. */
export function logLoggerFrom(logger: Logger): LogLogger {
  return {
    info: (message) => logger.info(message),
    warn: (message, err) => (err === undefined ? logger.warn(message) : logger.warn({ err }, message)),
    error: (message, err) => (err === undefined ? logger.error(message) : logger.error({ err }, message)),
  };
}

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO ', 40: 'WARN ', 50: 'ERROR', 60: 'FATAL' };
const SKIP = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'err']);

/** One pino JSON line as `HH:MM:SS.mmm LEVEL message key=value ...`, the error's stack indented below. */
export function prettyLine(json: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const time = typeof o.time === 'number' ? new Date(o.time).toISOString().slice(11, 23) : '';
  const level = LEVEL_NAMES[o.level as number] ?? String(o.level);
  const fields = Object.entries(o)
    .filter(([k]) => !SKIP.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  let out = `${time} ${level} ${String(o.msg ?? '')}${fields.length > 0 ? ` ${fields.join(' ')}` : ''}\n`;
  const err = o.err as { stack?: string; message?: string } | undefined;
  if (err !== undefined) out += `${(err.stack ?? err.message ?? JSON.stringify(err)).replace(/^/gm, '    ')}\n`;
  return out;
}
