// The private CA in the CLI (spec/CA.md): `tilelog serve --registry
// --registry-ca` mounts /v1/ca/* and /v1/verify/cert and lets register and
// rotate take a CSR. Flags and env are read here; cli/registry.ts calls
// resolveCaConfig and openCa.
//
// Files in the CA dir (default: the state dir), created on first run:
//   ca-root.key, ca-intermediate.key   PKCS#8 PEM, mode 0600
//   ca-root.crt, ca-intermediate.crt   PEM

import * as path from 'node:path';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { TilelogError } from '../errors.js';
import { agentCertificates } from '../ca/agent-certificates.js';
import { CertificateAuthority } from '../ca/ca.js';
import { createCaApp } from '../ca/http.js';
import { loadCaKeys } from '../ca/keys.js';
import type { AgentCertificates } from '../registry/http/certificates.js';
import type { Registry } from '../registry/registry.js';
import { CliError, parseCount, UsageError } from './common.js';

export const CA_FLAGS = {
  'registry-ca': { type: 'boolean' },
  'registry-ca-dir': { type: 'string' },
  'registry-ca-validity-seconds': { type: 'string' },
  'registry-ca-status-validity-seconds': { type: 'string' },
} as const;

export const CA_USAGE = `  --registry-ca               private CA for agent certificates (spec/CA.md)  [$TILELOG_REGISTRY_CA=1]
  --registry-ca-dir <dir>     CA keys and certificates             [$TILELOG_REGISTRY_CA_DIR, the state dir]
  --registry-ca-validity-seconds  agent certificate lifetime       [$TILELOG_REGISTRY_CA_VALIDITY_SECONDS, 86400]
  --registry-ca-status-validity-seconds  CRL/OCSP nextUpdate after [$TILELOG_REGISTRY_CA_STATUS_VALIDITY_SECONDS, 3600]
`;

export interface CaConfig {
  /** undefined: the state dir. */
  dir: string | undefined;
  validitySeconds: number;
  statusValiditySeconds: number;
}

type Values = Record<string, string | boolean | string[] | undefined>;

/** null unless --registry-ca (or TILELOG_REGISTRY_CA=1). */
export function resolveCaConfig(values: Values, env: NodeJS.ProcessEnv = process.env): CaConfig | null {
  const get = (k: string, e: string): [string, string] | undefined => {
    const v = values[k];
    if (typeof v === 'string') return [`--${k}`, v];
    const x = env[e];
    return x !== undefined && x !== '' ? [e, x] : undefined;
  };
  const on = values['registry-ca'];
  const envOn = env.TILELOG_REGISTRY_CA;
  if (envOn !== undefined && envOn !== '' && !/^(1|true|yes|on|0|false|no|off)$/i.test(envOn)) throw new UsageError('TILELOG_REGISTRY_CA must be true or false');
  if (!(on === true || (on === undefined && envOn !== undefined && /^(1|true|yes|on)$/i.test(envOn)))) return null;
  const count = (k: string, e: string, dflt: number) => {
    const v = get(k, e);
    return v === undefined ? dflt : parseCount(v[0], v[1], 1);
  };
  return {
    dir: get('registry-ca-dir', 'TILELOG_REGISTRY_CA_DIR')?.[1],
    validitySeconds: count('registry-ca-validity-seconds', 'TILELOG_REGISTRY_CA_VALIDITY_SECONDS', 86_400),
    statusValiditySeconds: count('registry-ca-status-validity-seconds', 'TILELOG_REGISTRY_CA_STATUS_VALIDITY_SECONDS', 3600),
  };
}

export interface OpenedCa {
  ca: CertificateAuthority;
  app: OpenAPIHono;
  certificates: AgentCertificates;
}

/** Loads (or creates) the CA keys, logs them if the log lacks them, and builds the routes. */
export async function openCa(registry: Registry, stateDir: string, cfg: CaConfig): Promise<OpenedCa> {
  try {
    const keys = await loadCaKeys({ dir: path.resolve(cfg.dir ?? stateDir), rootName: `tilelog agent root CA (${registry.log.origin})`.slice(0, 64) });
    const ca = await CertificateAuthority.open({ registry, keys, validitySeconds: cfg.validitySeconds, statusValiditySeconds: cfg.statusValiditySeconds });
    return { ca, app: createCaApp(ca), certificates: agentCertificates(ca) };
  } catch (err) {
    if (err instanceof TilelogError && err.code === 'CA_CONFIG') throw new CliError(err.message);
    throw err;
  }
}
