// What `tilelog serve --print-config` prints: the effective configuration
// (serve-config.ts resolves it), with defaults filled in, secrets hidden and
// every key reference printable (a PIN given in a PKCS#11 URI by mistake is
// never echoed), and the origin serve would use with where it comes from.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { formatPolicy } from '../note/index.js';
import { pgTarget } from '../storage/pg-errors.js';
import { hideSecrets } from './config-file.js';
import { readKeyFile } from './key-file.js';
import type { RegistryConfig } from './registry-config.js';
import { defaultPublicUrl } from './s3-options.js';
import { DEFAULT_ORIGIN_SUFFIX_HEX, DEFAULT_ORIGIN_SUFFIX_PLACEHOLDER, defaultOrigin, type ServeConfig, type ServeSettings } from './serve-config.js';
import { isPkcs11Uri, printableKey } from './signing-key.js';

/** The effective configuration as printed by --print-config: defaults filled in, secrets hidden. */
export function effectiveConfig(s: ServeSettings): unknown {
  const c = s.serve;
  const host = c.host.includes(':') ? `[${c.host}]` : c.host;
  const w = c.witnesses;
  return hideSecrets({
    configFile: s.configFile,
    state: c.stateDir,
    tiles: c.tilesDir,
    ...(c.tiles.kind === 's3' && {
      's3-endpoint': c.s3.endpoint ?? null,
      's3-region': c.s3.region ?? null,
      's3-force-path-style': c.s3.forcePathStyle ?? false,
      's3-unconditional': c.s3.unconditional ?? false,
    }),
    ...(c.db !== undefined && { db: pgTarget(c.db), 'lease-ttl-ms': c.lease.ttlMs, 'lease-renew-ms': c.lease.renewMs, 'lease-margin-ms': c.lease.marginMs }),
    'public-url': c.publicUrl ?? defaultPublicUrl(c.tiles, c.s3) ?? "this server's own URL",
    listen: `${host}:${c.port}`,
    ...((o) => ({ origin: o.origin, 'origin-from': o.from }))(effectiveOrigin(c)),
    key: printableKey(c.keyFile ?? path.join(c.stateDir, 'log.key')),
    'batch-max-entries': c.batchMaxEntries ?? 4096,
    'batch-max-delay-ms': c.batchMaxDelayMs ?? 1,
    'batch-linger-ms': c.batchLingerMs ?? 0,
    'checkpoint-interval-ms': c.checkpointIntervalMs,
    dedup: c.dedup,
    ...(c.db === undefined && { 'sqlite-worker': c.sqliteWorker }),
    'partial-grace-s': c.partialGraceMs / 1000,
    'read-workers': c.readWorkers,
    'log-level': c.logLevel,
    witnesses:
      w === null
        ? null
        : { source: w.source, policy: formatPolicy(w.policy), 'timeout-ms': w.timeoutMs ?? 5000, 'refresh-s': w.refreshMs / 1000, 'fail-open': w.failOpen },
    registry: printableRegistry(s.registry),
  });
}

/** The registry settings with every key reference printable (a PIN given in a URI by mistake hidden). */
function printableRegistry(r: RegistryConfig | null): RegistryConfig | null {
  if (r === null) return r;
  const ca = r.ca == null ? r.ca : {
    ...r.ca,
    ...(r.ca.rootKey !== undefined && { rootKey: printableKey(r.ca.rootKey) }),
    ...(r.ca.intermediateKey !== undefined && { intermediateKey: printableKey(r.ca.intermediateKey) }),
  };
  return {
    ...r,
    ...(r.keyUri !== undefined && { keyUri: printableKey(r.keyUri) }),
    ...(r.nextKeyUri !== undefined && { nextKeyUri: printableKey(r.nextKeyUri) }),
    ...(ca !== undefined && { ca }),
  };
}

/**
 * The origin serve would use, and where it comes from: the setting, else the
 * name of the existing key, else (a first run, which creates the key) the
 * invented default. null when serve would refuse to start for want of a key.
 */
export function effectiveOrigin(c: ServeConfig): { origin: string | null; from: string } {
  if (c.origin !== undefined) return { origin: c.origin, from: '--origin, TILELOG_ORIGIN or the config file' };
  if (c.keyFile !== undefined && isPkcs11Uri(c.keyFile)) return { origin: null, from: 'none: a key in a PKCS#11 token carries no name, so serve needs --origin' };
  const keyFile = c.keyFile ?? path.join(c.stateDir, 'log.key');
  if (fs.existsSync(keyFile)) {
    try {
      return { origin: readKeyFile(keyFile).name, from: `the name of the key in ${keyFile}` };
    } catch {
      return { origin: null, from: `none: ${keyFile} does not hold a log signer key, so serve will not start` };
    }
  }
  // Not echoing an explicit key path here: it may be key material passed by mistake (see hideSecrets).
  if (c.keyFile !== undefined) return { origin: null, from: 'none: the --key file does not exist, so serve will not start' };
  return {
    origin: defaultOrigin(os.hostname(), DEFAULT_ORIGIN_SUFFIX_PLACEHOLDER),
    from:
      `the default for a first run (<hostname>/tilelog-<suffix>; the first run draws the ${DEFAULT_ORIGIN_SUFFIX_HEX} random hex digits ` +
      "of the suffix so every log gets its own origin), stored as the new key's name; choose a real one with --origin, e.g. logs.example.com/mylog",
  };
}
