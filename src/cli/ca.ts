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

import * as path from 'node:path';
import type { OpenAPIHono } from '@hono/zod-openapi';
import { TilelogError } from '../errors.js';
import { agentCertificates } from '../ca/agent-certificates.js';
import { CertificateAuthority } from '../ca/ca.js';
import { createCaApp } from '../ca/http.js';
import { loadCaKeys } from '../ca/keys.js';
import type { AgentCertificates } from '../registry/http/certificates.js';
import type { Registry } from '../registry/registry.js';
import { CliError } from './common.js';
import type { CaConfig } from './ca-config.js';

// Re-exported: the settings live in ca-config.ts, which serve loads without this module.
export { CA_FLAGS, CA_USAGE, resolveCaConfig, type CaConfig } from './ca-config.js';

export interface OpenedCa {
  ca: CertificateAuthority;
  app: OpenAPIHono;
  certificates: AgentCertificates;
}

/** Loads (or creates) the CA keys, logs them if the log lacks them, and builds the routes. */
export async function openCa(registry: Registry, stateDir: string, cfg: CaConfig): Promise<OpenedCa> {
  try {
    const keys = await loadCaKeys({
      dir: path.resolve(cfg.dir ?? stateDir),
      rootName: `tilelog agent root CA (${registry.log.origin})`.slice(0, 64),
      ...(cfg.rootKey !== undefined && { rootKey: cfg.rootKey }),
      ...(cfg.intermediateKey !== undefined && { intermediateKey: cfg.intermediateKey }),
    });
    const ca = await CertificateAuthority.open({ registry, keys, validitySeconds: cfg.validitySeconds, statusValiditySeconds: cfg.statusValiditySeconds });
    return { ca, app: createCaApp(ca), certificates: agentCertificates(ca) };
  } catch (err) {
    if (err instanceof TilelogError && (err.code === 'CA_CONFIG' || err.code === 'SIGNER_CONFIG')) throw new CliError(err.message);
    throw err;
  }
}
