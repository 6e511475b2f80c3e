// The private CA in the CLI (spec/CA.md): `tilelog serve --registry
// --registry-ca` mounts /v1/ca/* and /v1/verify/cert and lets register and
// rotate take a CSR. Flags and env are read here; cli/registry.ts calls
// resolveCaConfig and openCa.
//
// Files in the CA dir (default: the state dir), created on first run:
//   ca-root.key, ca-intermediate.key   PKCS#8 PEM, mode 0600 (unless
//                                      --registry-ca-root-key / -intermediate-key
//                                      name a key in a token or elsewhere)
//   ca-root.crt, ca-intermediate.crt   PEM
//   ca-intermediate-<n>.key/.crt       each rotation's intermediate (src/ca/intermediate-keys.ts);
//                                      .uri instead of .key for a key in the token
// and in the state dir <state>/ca-admin-keys: the keys that may rotate
// (tilelog ca adminkey, cli/ca-command.ts), re-read on change and on SIGHUP.

import * as path from 'node:path';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { TilelogError } from '../errors.js';
import { agentCertificates } from '../ca/agent-certificates.js';
import { CertificateAuthority } from '../ca/ca.js';
import { createCaApp } from '../ca/http.js';
import { loadCaKeys } from '../ca/keys.js';
import { ApiKeyFile } from '../registry/http/api-key-file.js';
import type { ApiKeyLookup } from '../registry/http/auth.js';
import type { AgentCertificates } from '../registry/http/certificates.js';
import type { Registry } from '../registry/registry.js';
import { CliError, plural } from './common.js';
import type { CaConfig } from './ca-config.js';
import { CA_ADMIN_KEYS_FILE } from './ca-command.js';

// Re-exported: the settings live in ca-config.ts, which serve loads without this module.
export { CA_FLAGS, CA_USAGE, resolveCaConfig, type CaConfig } from './ca-config.js';

export interface OpenedCa {
  ca: CertificateAuthority;
  app: OpenAPIHono;
  certificates: AgentCertificates;
  /** Re-reads the admin keys (SIGHUP). */
  reload(): void;
  close(): void;
}

/** Loads (or creates) the CA keys, logs them if the log lacks them, and builds the routes (apiKeys: the registry's, to answer 403). */
export async function openCa(
  registry: Registry,
  stateDir: string,
  cfg: CaConfig,
  o: { apiKeys?: ApiKeyLookup; info?: (m: string) => void; error?: (m: string, e: unknown) => void } = {},
): Promise<OpenedCa> {
  try {
    const dir = path.resolve(cfg.dir ?? stateDir);
    const keys = await loadCaKeys({
      dir,
      rootName: `tilelog agent root CA (${registry.log.origin})`.slice(0, 64),
      ...(cfg.rootKey !== undefined && { rootKey: cfg.rootKey }),
      ...(cfg.intermediateKey !== undefined && { intermediateKey: cfg.intermediateKey }),
    });
    const ca = await CertificateAuthority.open({
      registry,
      keys,
      dir,
      ...(cfg.intermediateKey !== undefined && { intermediateKey: cfg.intermediateKey }),
      validitySeconds: cfg.validitySeconds,
      statusValiditySeconds: cfg.statusValiditySeconds,
    });
    const file = path.join(stateDir, CA_ADMIN_KEYS_FILE);
    const adminKeys = new ApiKeyFile(file, {
      onReload: (n) => o.info?.(`ca: loaded ${plural(n, 'admin key')} from ${file}`),
      onError: (message, err) => o.error?.(`ca: admin keys not reloaded: ${message}`, err),
    });
    adminKeys.watch();
    return {
      ca,
      app: createCaApp(ca, { adminKeys, apiKeys: o.apiKeys ?? null }),
      certificates: agentCertificates(ca),
      reload: () => adminKeys.reload(),
      close: () => adminKeys.close(),
    };
  } catch (err) {
    if (err instanceof TilelogError && (err.code === 'CA_CONFIG' || err.code === 'REGISTRY_CONFIG' || err.code === 'SIGNER_CONFIG')) throw new CliError(err.message);
    throw err;
  }
}
