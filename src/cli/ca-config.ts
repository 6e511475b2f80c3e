// The CA's serve settings (--registry-ca...): flags, usage and their
// resolution, apart from ca.ts so that serve loads the CA's code only when
// --registry-ca is on.

import { parseCount, UsageError } from './common.js';

export const CA_FLAGS = {
  'registry-ca': { type: 'boolean' },
  'registry-ca-dir': { type: 'string' },
  'registry-ca-root-key': { type: 'string' },
  'registry-ca-intermediate-key': { type: 'string' },
  'registry-ca-validity-seconds': { type: 'string' },
  'registry-ca-status-validity-seconds': { type: 'string' },
} as const;

export const CA_USAGE = `  --registry-ca               private CA for agent certificates (spec/CA.md)  [$TILELOG_REGISTRY_CA=1]
  --registry-ca-dir <dir>     CA keys and certificates             [$TILELOG_REGISTRY_CA_DIR, the state dir]
  --registry-ca-root-key <pkcs11:URI|file>  the root key in a PKCS#11 token (RFC 7512, PIN in
                              a file; 'tilelog keygen --ca --key ...' makes one) or a key file;
                              its certificate stays <CA dir>/ca-root.crt
                                                   [$TILELOG_REGISTRY_CA_ROOT_KEY, <CA dir>/ca-root.key]
  --registry-ca-intermediate-key <pkcs11:URI|file>  the issuing key, likewise; its certificate
                              stays <CA dir>/ca-intermediate.crt
                                   [$TILELOG_REGISTRY_CA_INTERMEDIATE_KEY, <CA dir>/ca-intermediate.key]
  --registry-ca-validity-seconds  agent certificate lifetime       [$TILELOG_REGISTRY_CA_VALIDITY_SECONDS, 86400]
  --registry-ca-status-validity-seconds  CRL/OCSP nextUpdate after [$TILELOG_REGISTRY_CA_STATUS_VALIDITY_SECONDS, 3600]
`;

export interface CaConfig {
  /** undefined: the state dir. */
  dir: string | undefined;
  /** Key references (a pkcs11: URI or a key file); undefined: the key file in the CA dir. */
  rootKey?: string;
  intermediateKey?: string;
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
  const rootKey = get('registry-ca-root-key', 'TILELOG_REGISTRY_CA_ROOT_KEY')?.[1];
  const intermediateKey = get('registry-ca-intermediate-key', 'TILELOG_REGISTRY_CA_INTERMEDIATE_KEY')?.[1];
  return {
    dir: get('registry-ca-dir', 'TILELOG_REGISTRY_CA_DIR')?.[1],
    ...(rootKey !== undefined && { rootKey }),
    ...(intermediateKey !== undefined && { intermediateKey }),
    validitySeconds: count('registry-ca-validity-seconds', 'TILELOG_REGISTRY_CA_VALIDITY_SECONDS', 86_400),
    statusValiditySeconds: count('registry-ca-status-validity-seconds', 'TILELOG_REGISTRY_CA_STATUS_VALIDITY_SECONDS', 3600),
  };
}
