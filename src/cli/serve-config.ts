// Configuration for `tilelog serve`: flags, then environment variables, then
// named defaults. Only this file reads the environment for serve.
//
//   flag                  env                           default
//   --state <dir>         TILELOG_STATE                 .tilelog/
//   --tiles <dir>         TILELOG_TILES                 tiles/
//   --listen <host:port>  TILELOG_LISTEN                127.0.0.1:8080
//   --origin <origin>     TILELOG_ORIGIN                the key's name, else <hostname>/tilelog
//   --key <file>          TILELOG_KEY                   <state>/log.key (created on first run)
//   --batch-max-entries   TILELOG_BATCH_MAX_ENTRIES     engine default (4096)
//   --batch-max-delay-ms  TILELOG_BATCH_MAX_DELAY_MS    engine default (1)
//   --no-dedup            TILELOG_DEDUP=0               dedup on

import * as os from 'node:os';
import * as path from 'node:path';
import { parseCount, UsageError } from './common.js';

export const SERVE_FLAGS = {
  state: { type: 'string' },
  tiles: { type: 'string' },
  listen: { type: 'string' },
  origin: { type: 'string' },
  key: { type: 'string' },
  'batch-max-entries': { type: 'string' },
  'batch-max-delay-ms': { type: 'string' },
  dedup: { type: 'boolean' },
  json: { type: 'boolean', default: false },
} as const;

export interface ServeConfig {
  stateDir: string;
  tilesDir: string;
  host: string;
  port: number;
  /** Explicit origin (flag or env); undefined: from the key, else the default. */
  origin: string | undefined;
  /** Explicit key file; undefined: <state>/log.key, created on first run. */
  keyFile: string | undefined;
  batchMaxEntries: number | undefined;
  batchMaxDelayMs: number | undefined;
  dedup: boolean;
  json: boolean;
}

type Values = { [K in keyof typeof SERVE_FLAGS]?: (typeof SERVE_FLAGS)[K]['type'] extends 'string' ? string : boolean };

export function resolveServeConfig(values: Values, env: NodeJS.ProcessEnv = process.env): ServeConfig {
  const pick = (flag: keyof typeof SERVE_FLAGS, name: string): [string, string] | undefined => {
    const v = values[flag];
    if (typeof v === 'string') return [`--${flag}`, v];
    const e = env[name];
    return e !== undefined && e !== '' ? [name, e] : undefined;
  };
  const count = (flag: keyof typeof SERVE_FLAGS, name: string, min: number) => {
    const v = pick(flag, name);
    return v === undefined ? undefined : parseCount(v[0], v[1], min);
  };
  const listen = pick('listen', 'TILELOG_LISTEN') ?? ['--listen', '127.0.0.1:8080'];
  const { host, port } = parseListen(listen[0], listen[1]);
  return {
    stateDir: path.resolve(pick('state', 'TILELOG_STATE')?.[1] ?? '.tilelog'),
    tilesDir: path.resolve(pick('tiles', 'TILELOG_TILES')?.[1] ?? 'tiles'),
    host,
    port,
    origin: pick('origin', 'TILELOG_ORIGIN')?.[1],
    keyFile: pick('key', 'TILELOG_KEY')?.[1],
    batchMaxEntries: count('batch-max-entries', 'TILELOG_BATCH_MAX_ENTRIES', 1),
    batchMaxDelayMs: count('batch-max-delay-ms', 'TILELOG_BATCH_MAX_DELAY_MS', 0),
    dedup: values.dedup ?? parseBool('TILELOG_DEDUP', env.TILELOG_DEDUP) ?? true,
    json: values.json === true,
  };
}

/** host:port, [v6]:port, or :port (all interfaces). Port 0 picks a free port. */
export function parseListen(source: string, value: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:[\]]*):([0-9]{1,5})$/.exec(value);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) {
    throw new UsageError(`${source} must be host:port such as 127.0.0.1:8080, [::1]:8080 or :8080, got ${JSON.stringify(value)}`);
  }
  const rawHost = m[1]!;
  const host = rawHost === '' ? '0.0.0.0' : rawHost.replace(/^\[|\]$/g, '');
  return { host, port };
}

function parseBool(name: string, v: string | undefined): boolean | undefined {
  if (v === undefined || v === '') return undefined;
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off)$/i.test(v)) return false;
  throw new UsageError(`${name} must be true or false, got ${JSON.stringify(v)}`);
}

/**
 * The origin a first run invents: `<hostname>/tilelog`, the hostname lowered
 * and reduced to [a-z0-9.-] (`localhost/tilelog` if nothing is left). It is
 * the name of the key stored in the state dir, so later runs reuse it.
 */
export function defaultOrigin(hostname = os.hostname()): string {
  const host = hostname.toLowerCase().replace(/[^a-z0-9.-]/g, '').replace(/^[.-]+|[.-]+$/g, '');
  return `${host || 'localhost'}/tilelog`;
}
