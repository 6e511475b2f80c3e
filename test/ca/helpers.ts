// Helpers for test/ca: a registry fixture (test/registry/helpers.ts) with a
// CA whose keys live in the fixture dir, a clock near the real time (openssl
// checks validity against the real clock), CSRs made by openssl, and a
// runner for /usr/bin/openssl.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CertificateAuthority } from '../../src/ca/ca.js';
import { loadCaKeys } from '../../src/ca/keys.js';
import { openFixture, type Fixture } from '../registry/helpers.js';

export const OPENSSL = '/usr/bin/openssl';

export interface CaFixture extends Fixture {
  ca: CertificateAuthority;
  caDir: string;
}

export async function openCaFixture(o: { validitySeconds?: number } = {}): Promise<CaFixture> {
  const f = await openFixture();
  f.clock.now = Math.floor(Date.now() / 1000);
  const caDir = path.join(f.dir, 'ca');
  const keys = await loadCaKeys({ dir: caDir });
  const ca = await CertificateAuthority.open({ registry: f.registry, keys, dir: caDir, nowMs: () => f.clock.now * 1000, ...(o.validitySeconds !== undefined && { validitySeconds: o.validitySeconds }) });
  return Object.assign(f, { ca, caDir });
}

export function openssl(args: string[], input?: string | Uint8Array): string {
  return execFileSync(OPENSSL, args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], ...(input !== undefined && { input }) });
}

/** openssl with stdout+stderr and the exit status (for refusals). */
export function opensslStatus(args: string[]): { status: number; out: string } {
  const r = spawnSync(OPENSSL, args, { encoding: 'utf8' });
  return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

/** An agent key pair and CSR made by openssl in dir: Ed25519 by default, or EC P-256. */
export function makeCsr(dir: string, name: string, kind: 'ed25519' | 'p256' = 'ed25519'): { keyFile: string; csr: string } {
  const keyFile = path.join(dir, `${name}.key`);
  if (kind === 'ed25519') openssl(['genpkey', '-algorithm', 'ed25519', '-out', keyFile]);
  else openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyFile]);
  const csrFile = path.join(dir, `${name}.csr`);
  openssl(['req', '-new', '-key', keyFile, '-subj', `/CN=${name}`, '-out', csrFile]);
  return { keyFile, csr: fs.readFileSync(csrFile, 'utf8') };
}

export function writeFile(dir: string, name: string, data: string | Uint8Array): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, data);
  return p;
}
