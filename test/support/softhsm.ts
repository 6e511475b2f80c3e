// SoftHSM2 for the PKCS#11 tests: a private token directory per test file,
// with its own SOFTHSM2_CONF (set in this process's environment before the
// module is first initialised, and passed to child processes), and
// describeHsm, which runs a suite only where SoftHSM2 and the pkcs11js
// binding are available: under CI their absence FAILS the run (.ci/run
// installs softhsm2), elsewhere the suite is skipped with the reason.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'vitest';

export const SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so';
export const USER_PIN = '1234-user-pin';
const SO_PIN = '5678-so-pin';

/** Why the PKCS#11 tests cannot run here, or null. */
export function hsmUnavailable(): string | null {
  if (!fs.existsSync(SOFTHSM_MODULE)) return `${SOFTHSM_MODULE} is missing (apt-get install softhsm2)`;
  try {
    execFileSync('softhsm2-util', ['--version'], { stdio: 'ignore' });
  } catch {
    return 'softhsm2-util is not on PATH (apt-get install softhsm2)';
  }
  try {
    createRequire(import.meta.url).resolve('pkcs11js');
  } catch {
    return 'the pkcs11js package is not installed (npm ci builds it)';
  }
  return null;
}

/** describe(), or a failing test under CI / a visible skip elsewhere when SoftHSM2 is missing. */
export function describeHsm(name: string, fn: () => void): void {
  const reason = hsmUnavailable();
  if (reason === null) {
    describe(name, fn);
    return;
  }
  if (process.env.CI) {
    describe(name, () => {
      it('needs SoftHSM2', () => {
        throw new Error(`${name}: ${reason}; CI must install it (.ci/run)`);
      });
    });
    return;
  }
  describe.skip(`${name} (skipped: ${reason})`, fn);
}

export interface SoftHsm {
  /** Directory holding softhsm2.conf, tokens/ and the PIN file. */
  dir: string;
  tokenDir: string;
  conf: string;
  /** A PIN file (mode 0600) holding USER_PIN. */
  pinFile: string;
  /** The environment for child processes (SOFTHSM2_CONF). */
  env: NodeJS.ProcessEnv;
  /** pkcs11: URI of object in token label. */
  uri(object: string, token?: string, extra?: string): string;
  remove(): void;
}

/**
 * A fresh token directory with one initialised token per label, and
 * SOFTHSM2_CONF pointing at it in this process (call before any module load).
 */
export function makeSoftHsm(labels: string[] = ['tilelog']): SoftHsm {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tilelog-softhsm-'));
  const tokenDir = path.join(dir, 'tokens');
  fs.mkdirSync(tokenDir, { mode: 0o700 });
  const conf = path.join(dir, 'softhsm2.conf');
  fs.writeFileSync(conf, `directories.tokendir = ${tokenDir}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
  const env = { ...process.env, SOFTHSM2_CONF: conf };
  for (const label of labels) {
    execFileSync('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', USER_PIN, '--so-pin', SO_PIN], { env, stdio: 'ignore' });
  }
  process.env.SOFTHSM2_CONF = conf;
  const pinFile = path.join(dir, 'pin');
  fs.writeFileSync(pinFile, `${USER_PIN}\n`, { mode: 0o600 });
  return {
    dir,
    tokenDir,
    conf,
    pinFile,
    env,
    uri: (object, token = labels[0]!, extra = '') =>
      `pkcs11:token=${encodeURIComponent(token)};object=${encodeURIComponent(object)}?module-path=${SOFTHSM_MODULE}&pin-source=file:${pinFile}${extra}`,
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
