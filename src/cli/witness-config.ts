// The settings of `tilelog witness serve`: flags > environment > the --config
// file (or $TILELOG_WITNESS_CONFIG) > defaults, the same layering as serve's
// (config-file.ts). The file is a JSON object keyed by the long flag names,
// e.g. {"state": "/var/lib/tilelog-witness", "key": "/etc/tilelog/witness.key",
// "listen": "127.0.0.1:7380", "log-level": "info"}.
//
// Only the log level has a variable (TILELOG_LOG_LEVEL): the witness often
// shares a host and an environment with a log whose TILELOG_STATE and
// TILELOG_LISTEN must not leak into it.

import * as path from 'node:path';
import { blameFile, layerConfigFile, readConfigFile } from './config-file.js';
import { UsageError } from './common.js';
import { parseLogLevel, type LogLevel } from './logger.js';
import { parseListen } from './serve-config.js';
import { printableKey } from './signing-key.js';

export const WITNESS_SERVE_FLAGS = {
  state: { type: 'string' },
  key: { type: 'string' },
  name: { type: 'string' },
  'next-key': { type: 'string' },
  'next-name': { type: 'string' },
  listen: { type: 'string' },
  json: { type: 'boolean', default: false },
  'log-level': { type: 'string' },
  config: { type: 'string' },
  'print-config': { type: 'boolean', default: false },
} as const;

export const WITNESS_DEFAULT_LISTEN = '127.0.0.1:7380';

type Values = Record<string, string | boolean | string[] | undefined>;

export interface WitnessServeSettings {
  stateDir: string;
  keyFile: string;
  /** The witness name, for a key in a PKCS#11 token (a key file carries its name). */
  name: string | undefined;
  /** A second key (file or pkcs11: URI) that cosigns too during a key transition, and its name for a token. */
  nextKeyFile: string | undefined;
  nextName: string | undefined;
  host: string;
  port: number;
  logLevel: LogLevel;
  json: boolean;
  /** The configuration file read (absolute), or null. */
  configFile: string | null;
  printConfig: boolean;
}

export function resolveWitnessServeSettings(values: Values, env: NodeJS.ProcessEnv = process.env): WitnessServeSettings {
  const source: [string, string] | undefined =
    typeof values.config === 'string'
      ? ['--config', values.config]
      : env.TILELOG_WITNESS_CONFIG
        ? ['TILELOG_WITNESS_CONFIG', env.TILELOG_WITNESS_CONFIG]
        : undefined;
  const ownEnv: NodeJS.ProcessEnv = env.TILELOG_LOG_LEVEL === undefined ? {} : { TILELOG_LOG_LEVEL: env.TILELOG_LOG_LEVEL };
  let layered = { values, fromFile: new Set<string>() };
  if (source !== undefined) layered = layerConfigFile(source[1], readConfigFile(source[0], source[1]), WITNESS_SERVE_FLAGS, values, ownEnv, 'tilelog witness serve');
  try {
    const v = layered.values;
    const state = v.state;
    if (typeof state !== 'string' || state === '') throw new UsageError('--state is required (the witness state directory)');
    const key = v.key;
    if (typeof key !== 'string' || key === '') throw new UsageError("--key is required (a cosigner key file from 'tilelog witness keygen')");
    if (v['next-name'] !== undefined && v['next-key'] === undefined) throw new UsageError('--next-name needs --next-key (the name of a next key in a token)');
    const listen = typeof v.listen === 'string' ? v.listen : WITNESS_DEFAULT_LISTEN;
    const { host, port } = parseListen('--listen', listen);
    const levelFlag = v['log-level'];
    const levelEnv = ownEnv.TILELOG_LOG_LEVEL;
    const logLevel =
      typeof levelFlag === 'string'
        ? parseLogLevel('--log-level', levelFlag)
        : levelEnv !== undefined && levelEnv !== ''
          ? parseLogLevel('TILELOG_LOG_LEVEL', levelEnv)
          : 'info';
    return {
      stateDir: state,
      keyFile: key,
      name: typeof v.name === 'string' && v.name !== '' ? v.name : undefined,
      nextKeyFile: typeof v['next-key'] === 'string' && v['next-key'] !== '' ? v['next-key'] : undefined,
      nextName: typeof v['next-name'] === 'string' && v['next-name'] !== '' ? v['next-name'] : undefined,
      host,
      port,
      logLevel,
      json: v.json === true,
      configFile: source === undefined ? null : path.resolve(source[1]),
      printConfig: values['print-config'] === true,
    };
  } catch (err) {
    throw source === undefined ? err : blameFile(err, source[1], layered.fromFile);
  }
}

/** What --print-config shows: the effective settings. The key is a file path, never its contents. */
export function effectiveWitnessConfig(s: WitnessServeSettings): Record<string, unknown> {
  const host = s.host.includes(':') ? `[${s.host}]` : s.host;
  return { configFile: s.configFile, state: s.stateDir, key: printableKey(s.keyFile), ...(s.name !== undefined && { name: s.name }), ...(s.nextKeyFile !== undefined && { 'next-key': printableKey(s.nextKeyFile) }), ...(s.nextName !== undefined && { 'next-name': s.nextName }), listen: `${host}:${s.port}`, 'log-level': s.logLevel };
}
